"""SiamRPN post-processing (Li et al., CVPR 2018), as in pysot's ``SiamRPNTracker``:
anchor decoding, scale/ratio change penalty, cosine window, damped size update."""
from __future__ import annotations

from typing import List

import numpy as np

from ..geometry import context_size, crop_and_resize, hann_window
from .anchors import anchor_grid
from .base import SiameseTracker, TargetState, TrackResult


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def _padded_size(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def softmax_foreground(cls: np.ndarray, anchor_num: int) -> np.ndarray:
    """(2k, H, W) logits, channel = class*k + anchor -> (k*H*W,) foreground probabilities."""
    logits = cls.reshape(2, anchor_num, -1).reshape(2, -1)
    logits = logits - logits.max(axis=0, keepdims=True)
    exp = np.exp(logits)
    return exp[1] / exp.sum(axis=0)


def decode_boxes(loc: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """(4k, H, W) regression -> (4, k*H*W) boxes ``(dx, dy, w, h)`` in crop pixels."""
    delta = loc.reshape(4, -1).astype(np.float64)
    out = np.empty_like(delta)
    out[0] = delta[0] * anchors[2] + anchors[0]
    out[1] = delta[1] * anchors[3] + anchors[1]
    out[2] = np.exp(np.clip(delta[2], -10, 10)) * anchors[2]
    out[3] = np.exp(np.clip(delta[3], -10, 10)) * anchors[3]
    return out


class SiamRPNTracker(SiameseTracker):
    def exemplar_crop(self, image: np.ndarray, state: TargetState) -> np.ndarray:
        p = self.config.siamrpn
        side = round(context_size(state.size, p.context))
        return crop_and_resize(image, state.center, side, p.exemplar_size, state.avg_color)

    def search_crops(self, image: np.ndarray, state: TargetState) -> List[np.ndarray]:
        p = self.config.siamrpn
        s_x = context_size(state.size, p.context) * p.instance_size / p.exemplar_size
        state.extra["scale_z"] = p.exemplar_size / context_size(state.size, p.context)
        return [crop_and_resize(image, state.center, round(s_x), p.instance_size, state.avg_color)]

    def _grid(self, score_size: int):
        cache = getattr(self, "_grid_cache", None)
        if cache is None or cache[0] != score_size:
            a = self.config.anchors
            anchors = anchor_grid(a.stride, a.ratios, a.scales, score_size)
            window = np.tile(hann_window(score_size).ravel(), len(a.ratios) * len(a.scales))
            cache = (score_size, anchors, window)
            self._grid_cache = cache
        return cache[1], cache[2]

    def locate(self, state: TargetState, outputs: List[np.ndarray]) -> TrackResult:
        p = self.config.siamrpn
        cls, loc = outputs[0][0], outputs[1][0]
        k = self.config.head.anchor_num
        anchors, window = self._grid(cls.shape[-1])
        score = softmax_foreground(cls, k)
        boxes = decode_boxes(loc, anchors)

        scale_z = state.extra["scale_z"]
        w_z, h_z = state.size * scale_z
        s_c = _change(_padded_size(boxes[2], boxes[3]) / _padded_size(w_z, h_z))
        r_c = _change((w_z / h_z) / (boxes[2] / boxes[3]))
        penalty = np.exp(-(r_c * s_c - 1) * p.penalty_k)
        pscore = penalty * score
        pscore = pscore * (1 - p.window_influence) + window * p.window_influence
        best = int(np.argmax(pscore))

        box = boxes[:, best] / scale_z
        lr = penalty[best] * score[best] * p.lr
        center = state.center + box[:2]
        size = state.size * (1 - lr) + box[2:] * lr

        height, width = state.frame_shape
        center = np.clip(center, 0, [width, height])
        size = np.clip(size, p.min_size, [max(width, p.min_size), max(height, p.min_size)])
        state.center, state.size = center, size
        best_score = float(score[best])
        return TrackResult(box=state.box, score=best_score, ok=best_score >= self.config.lost.threshold)
