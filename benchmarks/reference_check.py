#!/usr/bin/env python3
"""Do the reference crops give the published trackers' boxes? Nothing is fetched: the
trackers of siamfc-pytorch (``siamfc/siamfc.py``, ``TrackerSiamFC.init/update`` and
``ops.crop_and_resize``) and pysot (``pysot/tracker/siamrpn_tracker.py`` with
``base_tracker.get_subwindow`` and ``utils/anchor.py``) are written out below in plain numpy,
statement for statement and in their number types (siamfc-pytorch keeps its centre and size
in float32 arrays, pysot in float64), and run on OUR network's outputs: the same network
object the tracker runs, so any difference is the trackers' arithmetic. Each is compared
frame by frame with ``load_tracker(...)`` under ``siamfc.crop: siamfc-pytorch`` /
``siamrpn.crop: pysot`` and the reference's hyper-parameters, and with the default exact crop.

    python benchmarks/reference_check.py [--root ../shared/data/sot/val] [--out benchmarks/results/reference_check.md]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

from _markdown import publish, table

SHARED = Path(os.environ.get("SIAMTRACK_SHARED", "../shared"))
SEQUENCES = ("Crossing", "Deer", "vot_car", "Dog1", "Human3", "uav_car16_2")
# the references' own hyper-parameters (siamfc-pytorch's TrackerSiamFC.parse_args; pysot's
# siamrpn_alex_dwxcorr config), where the shipped models tune theirs
SIAMFC_PYTORCH = {"siamfc.crop": "siamfc-pytorch", "siamfc.scale_num": 3, "siamfc.scale_step": 1.0375, "siamfc.scale_lr": 0.59,
                  "siamfc.scale_penalty": 0.9745, "siamfc.window_influence": 0.176, "siamfc.response_up": 16,
                  "siamfc.scale_search": "crops", "lost.longterm": False}
PYSOT = {"siamrpn.crop": "pysot", "siamrpn.penalty_k": 0.16, "siamrpn.window_influence": 0.40, "siamrpn.lr": 0.30,
         "siamrpn.peak_blend": 0.0, "siamrpn.min_size": 10.0, "lost.longterm": False}


def network_order(crop: np.ndarray, input_order: str) -> np.ndarray:
    """A crop of the BGR frame as the network takes it (the trackers flip channels alike)."""
    return crop[..., ::-1] if input_order == "rgb" else crop


class SiamFCPytorch:
    """siamfc-pytorch's ``TrackerSiamFC`` (its ``cfg`` from the model config): boxes in and out
    1-based, centre and size ``[y, x]`` / ``[h, w]``."""

    def __init__(self, net, config) -> None:
        self.net, self.order, p = net, config.input_order, config.siamfc
        self.cfg = argparse.Namespace(exemplar_sz=p.exemplar_size, instance_sz=p.instance_size, context=p.context,
                                      scale_num=p.scale_num, scale_step=p.scale_step, scale_lr=p.scale_lr,
                                      scale_penalty=p.scale_penalty, window_influence=p.window_influence,
                                      response_up=p.response_up, total_stride=p.total_stride)

    @staticmethod
    def crop_and_resize(img, center, size, out_size, border_value):
        """``siamfc.ops.crop_and_resize`` (BORDER_CONSTANT, INTER_LINEAR)."""
        size = round(size)
        corners = np.concatenate((np.round(center - (size - 1) / 2), np.round(center - (size - 1) / 2) + size))
        corners = np.round(corners).astype(int)
        pads = np.concatenate((-corners[:2], corners[2:] - img.shape[:2]))
        npad = max(0, int(pads.max()))
        if npad > 0:
            img = cv2.copyMakeBorder(img, npad, npad, npad, npad, cv2.BORDER_CONSTANT, value=border_value)
        corners = (corners + npad).astype(int)
        patch = img[corners[0]:corners[2], corners[1]:corners[3]]
        return cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)

    def init(self, img, box) -> None:
        cfg = self.cfg
        box = np.array([box[1] - 1 + (box[3] - 1) / 2, box[0] - 1 + (box[2] - 1) / 2, box[3], box[2]], dtype=np.float32)
        self.center, self.target_sz = box[:2], box[2:]
        self.upscale_sz = None  # cfg.response_up * cfg.response_sz there; here from the network's maps (update)
        self.scale_factors = cfg.scale_step ** np.linspace(-(cfg.scale_num // 2), cfg.scale_num // 2, cfg.scale_num)
        context = cfg.context * np.sum(self.target_sz)
        self.z_sz = np.sqrt(np.prod(self.target_sz + context))
        self.x_sz = self.z_sz * cfg.instance_sz / cfg.exemplar_sz
        self.avg_color = np.mean(img, axis=(0, 1))
        z = self.crop_and_resize(img, self.center, self.z_sz, out_size=cfg.exemplar_sz, border_value=self.avg_color)
        self.kernel = self.net.template(network_order(z[None], self.order))

    def update(self, img) -> np.ndarray:
        cfg = self.cfg
        x = [self.crop_and_resize(img, self.center, self.x_sz * f, out_size=cfg.instance_sz, border_value=self.avg_color)
             for f in self.scale_factors]
        x = np.stack(x, axis=0)
        responses = self.net.track(network_order(x, self.order), *self.kernel)[0]
        responses = responses.squeeze(1)
        if self.upscale_sz is None:
            self.upscale_sz = cfg.response_up * responses.shape[-1]
            self.hann_window = np.outer(np.hanning(self.upscale_sz), np.hanning(self.upscale_sz))
            self.hann_window /= self.hann_window.sum()
        responses = np.stack([cv2.resize(u, (self.upscale_sz, self.upscale_sz), interpolation=cv2.INTER_CUBIC) for u in responses])
        responses[:cfg.scale_num // 2] *= cfg.scale_penalty
        responses[cfg.scale_num // 2 + 1:] *= cfg.scale_penalty
        scale_id = np.argmax(np.amax(responses, axis=(1, 2)))
        response = responses[scale_id]
        response -= response.min()
        response /= response.sum() + 1e-16
        response = (1 - cfg.window_influence) * response + cfg.window_influence * self.hann_window
        loc = np.unravel_index(response.argmax(), response.shape)
        disp_in_response = np.array(loc) - (self.upscale_sz - 1) / 2
        disp_in_instance = disp_in_response * cfg.total_stride / cfg.response_up
        disp_in_image = disp_in_instance * self.x_sz * self.scale_factors[scale_id] / cfg.instance_sz
        self.center += disp_in_image
        scale = (1 - cfg.scale_lr) * 1.0 + cfg.scale_lr * self.scale_factors[scale_id]
        self.target_sz *= scale
        self.z_sz *= scale
        self.x_sz *= scale
        return np.array([self.center[1] + 1 - (self.target_sz[1] - 1) / 2, self.center[0] + 1 - (self.target_sz[0] - 1) / 2,
                         self.target_sz[1], self.target_sz[0]])


class Pysot:
    """pysot's ``SiamRPNTracker`` (``cfg.TRACK``/``cfg.ANCHOR`` from the model config): boxes
    0-based ``x, y, w, h``, reported ``cx - w/2``."""

    def __init__(self, net, config) -> None:
        self.net, self.order, p, a = net, config.input_order, config.siamrpn, config.anchors
        self.track_cfg = argparse.Namespace(EXEMPLAR_SIZE=p.exemplar_size, INSTANCE_SIZE=p.instance_size, CONTEXT_AMOUNT=p.context,
                                            PENALTY_K=p.penalty_k, WINDOW_INFLUENCE=p.window_influence, LR=p.lr)
        self.stride, self.ratios, self.scales = a.stride, a.ratios, a.scales
        self.anchor_num = len(self.ratios) * len(self.scales)

    def anchors(self) -> np.ndarray:
        """``utils.anchor.Anchors.generate_anchors``: corners, float32."""
        anchors = np.zeros((self.anchor_num, 4), dtype=np.float32)
        size = self.stride * self.stride
        count = 0
        for r in self.ratios:
            ws = int(np.sqrt(size * 1. / r))
            hs = int(ws * r)
            for s in self.scales:
                w, h = ws * s, hs * s
                anchors[count][:] = [-w * 0.5, -h * 0.5, w * 0.5, h * 0.5][:]
                count += 1
        return anchors

    def generate_anchor(self, score_size: int) -> np.ndarray:
        anchor = self.anchors()
        x1, y1, x2, y2 = anchor[:, 0], anchor[:, 1], anchor[:, 2], anchor[:, 3]
        anchor = np.stack([(x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1], 1)
        total_stride, anchor_num = self.stride, anchor.shape[0]
        anchor = np.tile(anchor, score_size * score_size).reshape((-1, 4))
        ori = - (score_size // 2) * total_stride
        xx, yy = np.meshgrid([ori + total_stride * dx for dx in range(score_size)], [ori + total_stride * dy for dy in range(score_size)])
        xx, yy = np.tile(xx.flatten(), (anchor_num, 1)).flatten(), np.tile(yy.flatten(), (anchor_num, 1)).flatten()
        anchor[:, 0], anchor[:, 1] = xx.astype(np.float32), yy.astype(np.float32)
        return anchor

    def get_subwindow(self, im, pos, model_sz, original_sz, avg_chans) -> np.ndarray:
        """``base_tracker.SiameseTracker.get_subwindow``, returning the HxWx3 patch."""
        sz = original_sz
        im_sz = im.shape
        c = (original_sz + 1) / 2
        context_xmin = np.floor(pos[0] - c + 0.5)
        context_xmax = context_xmin + sz - 1
        context_ymin = np.floor(pos[1] - c + 0.5)
        context_ymax = context_ymin + sz - 1
        left_pad = int(max(0., -context_xmin))
        top_pad = int(max(0., -context_ymin))
        right_pad = int(max(0., context_xmax - im_sz[1] + 1))
        bottom_pad = int(max(0., context_ymax - im_sz[0] + 1))
        context_xmin, context_xmax = context_xmin + left_pad, context_xmax + left_pad
        context_ymin, context_ymax = context_ymin + top_pad, context_ymax + top_pad
        r, c, k = im.shape
        if any([top_pad, bottom_pad, left_pad, right_pad]):
            te_im = np.zeros((r + top_pad + bottom_pad, c + left_pad + right_pad, k), np.uint8)
            te_im[top_pad:top_pad + r, left_pad:left_pad + c, :] = im
            if top_pad:
                te_im[0:top_pad, left_pad:left_pad + c, :] = avg_chans
            if bottom_pad:
                te_im[r + top_pad:, left_pad:left_pad + c, :] = avg_chans
            if left_pad:
                te_im[:, 0:left_pad, :] = avg_chans
            if right_pad:
                te_im[:, c + left_pad:, :] = avg_chans
            im_patch = te_im[int(context_ymin):int(context_ymax + 1), int(context_xmin):int(context_xmax + 1), :]
        else:
            im_patch = im[int(context_ymin):int(context_ymax + 1), int(context_xmin):int(context_xmax + 1), :]
        if not np.array_equal(model_sz, original_sz):
            im_patch = cv2.resize(im_patch, (model_sz, model_sz))
        return im_patch

    def init(self, img, bbox) -> None:
        cfg = self.track_cfg
        self.center_pos = np.array([bbox[0] + (bbox[2] - 1) / 2, bbox[1] + (bbox[3] - 1) / 2])
        self.size = np.array([bbox[2], bbox[3]])
        w_z = self.size[0] + cfg.CONTEXT_AMOUNT * np.sum(self.size)
        h_z = self.size[1] + cfg.CONTEXT_AMOUNT * np.sum(self.size)
        s_z = round(np.sqrt(w_z * h_z))
        self.channel_average = np.mean(img, axis=(0, 1))
        z_crop = self.get_subwindow(img, self.center_pos, cfg.EXEMPLAR_SIZE, s_z, self.channel_average)
        self.kernels = self.net.template(network_order(z_crop[None], self.order))
        self.score_size = None

    @staticmethod
    def convert_score(score: np.ndarray) -> np.ndarray:
        """``_convert_score``: torch's float32 softmax over the two classes, in numpy."""
        score = score.transpose(1, 2, 3, 0).reshape(2, -1).transpose(1, 0)
        e = np.exp(score - score.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True))[:, 1]

    @staticmethod
    def convert_bbox(delta: np.ndarray, anchor: np.ndarray) -> np.ndarray:
        delta = delta.transpose(1, 2, 3, 0).reshape(4, -1).copy()
        delta[0, :] = delta[0, :] * anchor[:, 2] + anchor[:, 0]
        delta[1, :] = delta[1, :] * anchor[:, 3] + anchor[:, 1]
        delta[2, :] = np.exp(delta[2, :]) * anchor[:, 2]
        delta[3, :] = np.exp(delta[3, :]) * anchor[:, 3]
        return delta

    @staticmethod
    def bbox_clip(cx, cy, width, height, boundary):
        cx = max(0, min(cx, boundary[1]))
        cy = max(0, min(cy, boundary[0]))
        width = max(10, min(width, boundary[1]))
        height = max(10, min(height, boundary[0]))
        return cx, cy, width, height

    def track(self, img) -> np.ndarray:
        cfg = self.track_cfg
        w_z = self.size[0] + cfg.CONTEXT_AMOUNT * np.sum(self.size)
        h_z = self.size[1] + cfg.CONTEXT_AMOUNT * np.sum(self.size)
        s_z = np.sqrt(w_z * h_z)
        scale_z = cfg.EXEMPLAR_SIZE / s_z
        s_x = s_z * (cfg.INSTANCE_SIZE / cfg.EXEMPLAR_SIZE)
        x_crop = self.get_subwindow(img, self.center_pos, cfg.INSTANCE_SIZE, round(s_x), self.channel_average)
        cls, loc = self.net.track(network_order(x_crop[None], self.order), *self.kernels)
        if self.score_size is None:  # pysot's from its config; here the network's
            self.score_size = cls.shape[-1]
            hanning = np.hanning(self.score_size)
            self.window = np.tile(np.outer(hanning, hanning).flatten(), self.anchor_num)
            self.anchors_ = self.generate_anchor(self.score_size)
        score = self.convert_score(cls.reshape(1, 2 * self.anchor_num, self.score_size, self.score_size))
        pred_bbox = self.convert_bbox(loc.reshape(1, 4 * self.anchor_num, self.score_size, self.score_size), self.anchors_)

        def change(r):
            return np.maximum(r, 1. / r)

        def sz(w, h):
            pad = (w + h) * 0.5
            return np.sqrt((w + pad) * (h + pad))

        s_c = change(sz(pred_bbox[2, :], pred_bbox[3, :]) / (sz(self.size[0] * scale_z, self.size[1] * scale_z)))
        r_c = change((self.size[0] / self.size[1]) / (pred_bbox[2, :] / pred_bbox[3, :]))
        penalty = np.exp(-(r_c * s_c - 1) * cfg.PENALTY_K)
        pscore = penalty * score
        pscore = pscore * (1 - cfg.WINDOW_INFLUENCE) + self.window * cfg.WINDOW_INFLUENCE
        best_idx = np.argmax(pscore)
        bbox = pred_bbox[:, best_idx] / scale_z
        lr = penalty[best_idx] * score[best_idx] * cfg.LR
        cx = bbox[0] + self.center_pos[0]
        cy = bbox[1] + self.center_pos[1]
        width = self.size[0] * (1 - lr) + bbox[2] * lr
        height = self.size[1] * (1 - lr) + bbox[3] * lr
        cx, cy, width, height = self.bbox_clip(cx, cy, width, height, img.shape[:2])
        self.center_pos = np.array([cx, cy])
        self.size = np.array([width, height])
        return np.array([cx - width / 2, cy - height / 2, width, height])


def reference_boxes(kind: str, tracker, frames: Sequence[np.ndarray], box) -> np.ndarray:
    """The reference tracker's 0-based boxes of frames 1.. on ``tracker``'s network."""
    if kind == "siamfc":
        ref = SiamFCPytorch(tracker.net, tracker.config)
        ref.init(frames[0], np.asarray(box, dtype=np.float64) + [1, 1, 0, 0])  # its boxes are 1-based
        return np.array([ref.update(f) - [1, 1, 0, 0] for f in frames[1:]])
    ref = Pysot(tracker.net, tracker.config)
    ref.init(frames[0], box)
    return np.array([ref.track(f) for f in frames[1:]])


def our_boxes(tracker, frames: Sequence[np.ndarray], box) -> np.ndarray:
    tracker.init(frames[0], box)
    return np.array([tracker.update(f).box for f in frames[1:]])


def compare(kind: str, tracker, frames: Sequence[np.ndarray], box) -> Dict[str, float]:
    """Mean IoU, largest centre distance and frames apart (IoU < 0.999) of ours against the reference."""
    from tracker.geometry import iou

    ref, ours = reference_boxes(kind, tracker, frames, box), our_boxes(tracker, frames, box)
    overlaps = iou(ours, ref)
    centres = np.linalg.norm((ours[:, :2] + ours[:, 2:] / 2) - (ref[:, :2] + ref[:, 2:] / 2), axis=1)
    return {"iou": float(overlaps.mean()), "centre_px": float(centres.max()), "apart": int((overlaps < 0.999).sum()),
            "frames": len(frames)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(SHARED / "data/sot/val"))
    p.add_argument("--sequences", default=",".join(SEQUENCES))
    p.add_argument("--out", default="benchmarks/results/reference_check.md")
    args = p.parse_args()
    from tracker import load_tracker
    from tracker.data.readers import read_dataset
    from tracker.data.sequence import read_image

    wanted = args.sequences.split(",")
    sequences = {s.name: s for s in read_dataset(args.root)}
    rows: List[list] = []
    worst = 1.0
    tic = time.perf_counter()
    for kind, model, overrides in (("siamfc", "siamfc", SIAMFC_PYTORCH), ("siamrpn", "siamrpn", PYSOT)):
        reference = load_tracker(model, overrides=overrides)
        exact = load_tracker(model, overrides={**overrides, f"{kind}.crop": "exact"})
        for name in wanted:
            seq = sequences[name]
            frames = [read_image(f) for f in seq.frames]
            r, e = compare(kind, reference, frames, seq.boxes[0]), compare(kind, exact, frames, seq.boxes[0])
            worst = min(worst, r["iou"])
            rows.append([f"{model} ({'siamfc-pytorch' if kind == 'siamfc' else 'pysot'})", name, r["frames"], f"{r['iou']:.4f}",
                         f"{r['centre_px']:.3f}", r["apart"], f"{e['iou']:.4f}", f"{e['centre_px']:.1f}"])
            print(rows[-1], flush=True)
    lines = ["# The reference crops against siamfc-pytorch's and pysot's trackers", "",
             f"`python benchmarks/reference_check.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`", "",
             "The trackers of siamfc-pytorch and pysot written out in numpy in `benchmarks/reference_check.py` (their crops, "
             "response upsampling, scale penalty, cosine window, scale update; pysot's anchors, box decoding, change penalty, "
             "window and size update; their number types), run on the same network object as ours (the shipped `siamfc` / "
             "`siamrpn` weights, onnxruntime), against `load_tracker(model, overrides=...)` with `siamfc.crop: siamfc-pytorch` "
             "/ `siamrpn.crop: pysot` and the references' hyper-parameters (siamfc-pytorch's defaults; pysot's "
             "siamrpn_alex_dwxcorr: penalty_k 0.16, window_influence 0.40, lr 0.30, best anchor's box). Boxes of every frame "
             "after the first; siamfc-pytorch's 1-based boxes moved to 0-based. Frames apart: IoU below 0.999. Last two "
             "columns: the default exact crop on the same settings, against the same reference.", ""]
    lines += table(["model (reference)", "sequence", "frames", "mean IoU", "largest centre distance px", "frames apart",
                    "exact crop: mean IoU", "exact crop: largest centre distance px"], rows)
    lines += ["", f"Lowest mean IoU of a reference crop: {worst:.4f} ({time.perf_counter() - tic:.0f} s)."]
    publish(lines, args.out)
    return 0 if worst >= 0.999 else 1


if __name__ == "__main__":
    raise SystemExit(main())
