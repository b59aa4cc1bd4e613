"""Post-processing of the anchor-free box head (SiamBAN, Chen et al. CVPR 2020; NanoTrack):
SiamRPN's change penalty, cosine window and damped size update, on one box per cell
decoded from its four distances instead of k anchors' deltas."""
from __future__ import annotations

import numpy as np

from ..geometry import hann_window
from .anchors import cell_offsets
from .siamrpn import SiamRPNTracker


def cell_centres(score_size: int, stride: int) -> np.ndarray:
    """(2, S*S) each cell's position (x, y) as an offset from the search-crop centre, row-major."""
    xx, yy = np.meshgrid(cell_offsets(score_size, stride), cell_offsets(score_size, stride))
    return np.stack([xx.ravel(), yy.ravel()])


def decode_distances(loc: np.ndarray, centres: np.ndarray, stride: int) -> np.ndarray:
    """(4, S, S) log distances in strides (left, top, right, bottom) at the cells ``centres``
    (:func:`cell_centres`) -> (4, S*S) boxes ``(dx, dy, w, h)``: centre offset from the crop
    centre and size, in crop pixels."""
    left, top, right, bottom = stride * np.exp(np.clip(loc.reshape(4, -1).astype(np.float64), -10, 10))
    return np.stack([centres[0] + (right - left) / 2, centres[1] + (bottom - top) / 2, left + right, top + bottom])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


class SiamBANTracker(SiamRPNTracker):
    def make_grid(self, score_size: int):
        return cell_centres(score_size, self.config.siamban.total_stride), hann_window(score_size).ravel()

    def decode(self, cls: np.ndarray, loc: np.ndarray):
        centres, window = self._grid(cls.shape[-1])
        score = sigmoid(cls.reshape(-1).astype(np.float64))
        return decode_distances(loc, centres, self.config.siamban.total_stride), score, window
