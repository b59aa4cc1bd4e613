"""Crop-level augmentation: geometry as one affine warp, then photometric changes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np

from ..geometry import context_size


@dataclass(frozen=True)
class CropAugment:
    """Jitter of one branch: ``shift`` in output pixels, ``scale``/``aspect`` as relative ranges."""

    shift: float = 0.0
    scale: float = 0.0
    aspect: float = 0.0
    blur: float = 0.0  # probability
    color: float = 1.0  # probability of colour jitter
    flip: float = 0.0  # probability


def augmented_crop(
    image: np.ndarray,
    box: Sequence[float],
    out_size: int,
    exemplar_size: int,
    context: float,
    aug: CropAugment,
    rng: np.random.Generator,
    flip: bool = False,
) -> Tuple[np.ndarray, np.ndarray]:
    """Crop around ``box`` (x, y, w, h) at the tracker's scale, jittered by ``aug``.

    The crop side is ``context_size * out_size / exemplar_size`` (SiamFC/SiamRPN search
    geometry). Returns the crop and the box in crop coordinates as ``(x1, y1, x2, y2)``.
    """
    x, y, w, h = (float(v) for v in box)
    cx, cy = x + (w - 1) / 2.0, y + (h - 1) / 2.0
    side = context_size((w, h), context) * out_size / exemplar_size
    scale = 1.0 + rng.uniform(-aug.scale, aug.scale)
    aspect = np.exp(rng.uniform(-aug.aspect, aug.aspect))
    side_x, side_y = side * scale * np.sqrt(aspect), side * scale / np.sqrt(aspect)
    ax, ay = side_x / out_size, side_y / out_size
    shift = rng.uniform(-aug.shift, aug.shift, size=2)
    half = (out_size - 1) / 2.0
    # input = a * output + b (pixel-index coordinates); the shift moves the object in the crop
    bx = cx - ax * (half - shift[0])
    by = cy - ay * (half - shift[1])
    if flip:
        matrix = np.array([[-ax, 0.0, bx + ax * (out_size - 1)], [0.0, ay, by]])
    else:
        matrix = np.array([[ax, 0.0, bx], [0.0, ay, by]])
    mean = cv2.mean(image)[:3]
    crop = cv2.warpAffine(
        image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=mean,
    )
    # continuous corners: u_out = (u_in - 0.5 - b) / a + 0.5
    x1 = (x - 0.5 - bx) / ax + 0.5
    x2 = (x + w - 0.5 - bx) / ax + 0.5
    y1 = (y - 0.5 - by) / ay + 0.5
    y2 = (y + h - 0.5 - by) / ay + 0.5
    if flip:
        x1, x2 = out_size - x2, out_size - x1
    crop = photometric(crop, aug, rng)
    return crop, np.array([x1, y1, x2, y2], dtype=np.float32)


def photometric(crop: np.ndarray, aug: CropAugment, rng: np.random.Generator) -> np.ndarray:
    """Colour jitter (brightness, contrast, per-channel gain) and Gaussian blur."""
    out = crop
    if rng.random() < aug.color:
        gain = rng.uniform(0.85, 1.15, size=3) * rng.uniform(0.75, 1.25)
        offset = rng.uniform(-25, 25)
        out = cv2.LUT(out, colour_table(gain, offset))
    if rng.random() < aug.blur:
        k = int(rng.choice([3, 5, 7]))
        out = cv2.GaussianBlur(out, (k, k), rng.uniform(0.5, 2.0))
    return out


def colour_table(gain: np.ndarray, offset: float) -> np.ndarray:
    """``clip(v * gain[c] + offset)`` for every byte ``v`` and channel ``c``, as ``cv2.LUT`` takes
    it: a lookup costs a byte a pixel, where the same sum in floats cost most of a pair's CPU."""
    table = np.clip(np.arange(256, dtype=np.float32)[:, None] * gain + offset, 0, 255).astype(np.uint8)
    return table.reshape(256, 1, 3)


def to_gray(crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
