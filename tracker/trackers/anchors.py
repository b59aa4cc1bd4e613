"""SiamRPN anchors: k shapes (ratios x scales) tiled over the score map, as in pysot."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def cell_offsets(score_size: int, stride: int) -> np.ndarray:
    """(S,) each score-map cell's position as an offset from the search-crop centre (crop
    pixels): the cells are centred on the crop, ``stride`` apart (symmetric for even sizes too)."""
    return (np.arange(score_size) - (score_size - 1) / 2) * stride


def anchor_shapes(stride: int, ratios: Sequence[float], scales: Sequence[float]) -> np.ndarray:
    """(k, 2) anchor widths and heights; pysot rounds the base shape to integers."""
    shapes = []
    area = stride * stride
    for r in ratios:
        ws = int(np.sqrt(area / r))
        hs = int(ws * r)
        for s in scales:
            shapes.append((ws * s, hs * s))
    return np.array(shapes, dtype=np.float64)


def anchor_grid(stride: int, ratios: Sequence[float], scales: Sequence[float], score_size: int) -> np.ndarray:
    """(4, k*score_size^2) anchors ``(cx, cy, w, h)`` as offsets from the search-crop centre.

    Ordered anchor-major then row-major, the layout of the head's ``(2k | 4k, H, W)`` output
    after ``reshape(., k, H, W)``.
    """
    shapes = anchor_shapes(stride, ratios, scales)
    k = len(shapes)
    offsets = cell_offsets(score_size, stride)
    xx, yy = np.meshgrid(offsets, offsets)
    grid = np.zeros((4, k, score_size, score_size), dtype=np.float64)
    grid[0] = xx[None]
    grid[1] = yy[None]
    grid[2] = shapes[:, 0, None, None]
    grid[3] = shapes[:, 1, None, None]
    return grid.reshape(4, -1)
