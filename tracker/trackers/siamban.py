"""Post-processing of the anchor-free box head (SiamBAN, Chen et al. CVPR 2020; NanoTrack):
SiamRPN's change penalty, cosine window and damped size update, on one box per cell
decoded from its four distances instead of k anchors' deltas."""
from __future__ import annotations

import numpy as np

from ..geometry import hann_window
from .siamrpn import SiamRPNTracker


def cell_offsets(score_size: int, stride: int) -> np.ndarray:
    """(S,) each cell's position as an offset from the search-crop centre (crop pixels): the
    head's cells are centred on the crop, ``stride`` apart (the anchor grid's geometry)."""
    return (np.arange(score_size) - (score_size - 1) / 2) * stride


def decode_distances(loc: np.ndarray, stride: int) -> np.ndarray:
    """(4, S, S) log distances in strides (left, top, right, bottom) -> (4, S*S) boxes
    ``(dx, dy, w, h)``: centre offset from the crop centre and size, in crop pixels."""
    size = loc.shape[-1]
    distance = stride * np.exp(np.clip(loc.reshape(4, -1).astype(np.float64), -10, 10))
    left, top, right, bottom = distance
    xx, yy = np.meshgrid(cell_offsets(size, stride), cell_offsets(size, stride))
    return np.stack([xx.ravel() + (right - left) / 2, yy.ravel() + (bottom - top) / 2, left + right, top + bottom])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


class SiamBANTracker(SiamRPNTracker):
    def decode(self, cls: np.ndarray, loc: np.ndarray):
        size = cls.shape[-1]
        cache = self.__dict__.setdefault("_window_cache", {})
        if size not in cache:
            cache[size] = hann_window(size).ravel()
        score = sigmoid(cls.reshape(-1).astype(np.float64))
        return decode_distances(loc, self.config.siamban.total_stride), score, cache[size]
