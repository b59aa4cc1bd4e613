"""SiamRPN post-processing (Li et al., CVPR 2018), after pysot's ``SiamRPNTracker``:
anchor decoding, scale/ratio change penalty, cosine window, damped size update.

The crops differ: ours are exact sub-pixel warps, pysot's ``get_subwindow`` places its
window at ``floor(pos - (sz + 1) / 2 + 0.5)``, about a pixel up-left of centre, and pysot
reports ``cx - w/2`` where its init took ``x + (w - 1)/2``; so the two part at the first
frame even on the same weights. ``siamrpn.crop: pysot`` does both and gives its boxes
(our centre also stays on a 1/8-px grid).
"""
from __future__ import annotations

from typing import List, NamedTuple

import numpy as np

from ..geometry import Box, context_size, hann_window, square_crop
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


def blend_peak(boxes: np.ndarray, pscore: np.ndarray, best: int, score_size: int, temperature: float) -> np.ndarray:
    """The box at the peak: the best anchor's, or (``temperature`` > 0) the average of every
    anchor's box in the best cell's 3x3 neighbourhood, weighted by
    ``exp((pscore - best pscore) / temperature)``.

    Argmax jumps between neighbouring anchors whose scores are nearly tied, so the box
    zigzags by a stride from frame to frame (and float rounding can flip the choice); the
    blend moves continuously with the scores.
    """
    if temperature <= 0:
        return boxes[:, best]
    row, col = divmod(best % (score_size * score_size), score_size)
    near = (slice(None), slice(max(row - 1, 0), row + 2), slice(max(col - 1, 0), col + 2))
    weights = np.exp((pscore.reshape(-1, score_size, score_size)[near] - pscore[best]) / temperature)
    near_boxes = boxes.reshape(4, -1, score_size, score_size)[(slice(None),) + near]
    return (near_boxes * weights).sum(axis=(1, 2, 3)) / weights.sum()


class Candidates(NamedTuple):
    boxes: np.ndarray  # (4, N) cx, cy (offsets from the crop centre), w, h in crop pixels
    score: np.ndarray  # (N,) foreground probability
    penalty: np.ndarray  # (N,) scale/ratio change penalty against the current size
    window: np.ndarray  # (N,) cosine window
    score_size: int

    def pscore(self, window_influence: float) -> np.ndarray:
        """What the tracker maximises: penalised score blended with the cosine window."""
        return self.penalty * self.score * (1 - window_influence) + self.window * window_influence


class SiamRPNTracker(SiameseTracker):
    def exemplar_crop(self, image: np.ndarray, state: TargetState) -> np.ndarray:
        p = self.config.tracking
        side = round(context_size(state.size, p.context))
        return square_crop(image, state.center, side, p.exemplar_size, state.avg_color, p.crop)

    def instance_size(self, state: TargetState) -> int:
        """The search crop's side: larger (same scale) while a long-term tracker is lost."""
        p = self.config.tracking
        return self.lost_search_size(state, p.instance_size, p.context) if self.searching(state) else p.instance_size

    def search_crops(self, image: np.ndarray, state: TargetState) -> List[np.ndarray]:
        p = self.config.tracking
        instance = self.instance_size(state)
        s_x = context_size(state.size, p.context) * instance / p.exemplar_size
        state.extra["scale_z"] = p.exemplar_size / context_size(state.size, p.context)
        return [square_crop(image, state.center, round(s_x), instance, state.avg_color, p.crop)]

    def _grid(self, score_size: int):
        cache = self.__dict__.setdefault("_grid_cache", {})
        if score_size not in cache:
            cache[score_size] = self.make_grid(score_size)
        return cache[score_size]

    def make_grid(self, score_size: int):
        """Where the candidates of a ``score_size`` map sit (here the anchors, (4, N)) and their
        cosine window (N,): made once per map size."""
        a = self.config.anchors
        return anchor_grid(a.stride, a.ratios, a.scales, score_size), np.tile(hann_window(score_size).ravel(), len(a.ratios) * len(a.scales))

    def decode(self, cls: np.ndarray, loc: np.ndarray):
        """One target's head outputs -> boxes (4, N) ``(dx, dy, w, h)`` in crop pixels, their
        foreground probabilities (N,) and cosine window (N,)."""
        anchors, window = self._grid(cls.shape[-1])
        return decode_boxes(loc, anchors), softmax_foreground(cls, self.config.head.anchor_num), window

    def candidates(self, state: TargetState, outputs: List[np.ndarray]) -> Candidates:
        """Every candidate's decoded box (crop pixels), foreground score and change penalty."""
        cls, loc = outputs[0][0], outputs[1][0]
        boxes, score, window = self.decode(cls, loc)
        w_z, h_z = state.size * state.extra["scale_z"]
        s_c = _change(_padded_size(boxes[2], boxes[3]) / _padded_size(w_z, h_z))
        r_c = _change((w_z / h_z) / (boxes[2] / boxes[3]))
        penalty = np.exp(-(r_c * s_c - 1) * self.config.tracking.penalty_k)
        return Candidates(boxes, score, penalty, window, cls.shape[-1])

    def locate(self, state: TargetState, outputs: List[np.ndarray]) -> TrackResult:
        p = self.config.tracking
        c = self.candidates(state, outputs)
        scale_z = state.extra["scale_z"]
        lost = self.config.lost
        searching = self.searching(state)
        pscore = c.pscore(0.0 if searching else p.window_influence)  # no motion prior while re-detecting
        best = int(np.argmax(pscore))
        best_score = float(c.score[best])

        # while re-detecting, only a confident peak counts as the target found again
        confident = best_score >= (lost.recover_threshold if searching else lost.threshold)
        if confident or not lost.longterm:  # a short-term tracker always follows its best peak
            box = blend_peak(c.boxes, pscore, best, c.score_size, p.peak_blend) / scale_z
            lr = c.penalty[best] * c.score[best] * p.lr
            self.move_center(state, box[:2])
            height, width = state.frame_shape
            size = state.size * (1 - lr) + box[2:] * lr
            state.size = np.clip(size, p.min_size, [max(width, p.min_size), max(height, p.min_size)])
        if lost.longterm:
            state.extra["lost"] = not confident
        return TrackResult(box=self.reported_box(state), score=best_score, ok=confident)

    def reported_box(self, state: TargetState) -> Box:
        """The state's box; with ``crop: pysot`` as pysot reports it, ``(cx - w/2, cy - h/2, w, h)``."""
        if self.config.tracking.crop != "pysot":
            return state.box
        (cx, cy), (w, h) = state.center, state.size
        return (float(cx - w / 2), float(cy - h / 2), float(w), float(h))
