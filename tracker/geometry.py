"""Box and crop geometry shared by trackers, training and evaluation.

Conventions (the ones of GOT-10k, OTB and pysot):

* A box ``(x, y, w, h)`` is 0-based: it covers ``[x, x+w) x [y, y+h)`` in
  continuous image coordinates.
* A *centre* is expressed in pixel-index coordinates, where pixel ``i`` has its
  centre at ``i``. The centre of box ``(x, y, w, h)`` is therefore
  ``(x + (w-1)/2, y + (h-1)/2)``, exactly what siamfc-pytorch and pysot use.
"""
from __future__ import annotations

import math
from typing import Sequence, Tuple

import cv2
import numpy as np

Box = Tuple[float, float, float, float]


def xywh_to_cxcywh(box: Sequence[float]) -> np.ndarray:
    """``(x, y, w, h)`` -> ``(cx, cy, w, h)`` with the centre in pixel-index coordinates."""
    x, y, w, h = (float(v) for v in box)
    return np.array([x + (w - 1) / 2.0, y + (h - 1) / 2.0, w, h], dtype=np.float64)


def cxcywh_to_xywh(center: Sequence[float], size: Sequence[float]) -> Box:
    """Inverse of :func:`xywh_to_cxcywh`."""
    cx, cy = float(center[0]), float(center[1])
    w, h = float(size[0]), float(size[1])
    return (cx - (w - 1) / 2.0, cy - (h - 1) / 2.0, w, h)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """Corner form ``(x1, y1, x2, y2)`` of one box or an ``(N, 4)`` array (continuous coordinates)."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of ``xywh`` boxes (broadcasts; zero where the union is empty)."""
    a, b = xywh_to_xyxy(a), xywh_to_xyxy(b)
    lt = np.maximum(a[..., :2], b[..., :2])
    rb = np.minimum(a[..., 2:], b[..., 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[..., 2:] - a[..., :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[..., 2:] - b[..., :2], 0, None), axis=-1)
    union = area_a + area_b - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def context_size(size: Sequence[float], context: float) -> float:
    """Side of the square exemplar region: ``sqrt((w + p)(h + p))`` with ``p = context * (w + h)``."""
    w, h = float(size[0]), float(size[1])
    pad = context * (w + h)
    return math.sqrt((w + pad) * (h + pad))


def crop_matrix(center: Sequence[float], side: float, out_size: int) -> np.ndarray:
    """Affine map from output pixels to input pixels for a square crop.

    Output pixel ``i`` samples the input at ``c + (i - (out-1)/2) * side/out``, so the
    crop of side ``side`` centred on ``c`` fills the ``out_size`` square exactly.
    """
    scale = float(side) / float(out_size)
    off = (out_size - 1) / 2.0
    return np.array(
        [[scale, 0.0, center[0] - off * scale], [0.0, scale, center[1] - off * scale]],
        dtype=np.float64,
    )


def crop_and_resize(
    image: np.ndarray,
    center: Sequence[float],
    side: float,
    out_size: int,
    border_value: Sequence[float] = (0, 0, 0),
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Square crop of ``side`` pixels around ``center``, resized to ``out_size``.

    One ``cv2.warpAffine`` call: no padded copy of the whole frame is ever made, and
    pixels outside the image take ``border_value`` (the frame's mean colour in trackers).
    """
    if side <= 0 or not math.isfinite(side):
        raise ValueError(f"crop side must be a positive finite number, got {side}")
    matrix = crop_matrix(center, side, out_size)
    border = tuple(float(v) for v in border_value)
    return cv2.warpAffine(
        image,
        matrix,
        (out_size, out_size),
        flags=interpolation | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


# how a tracker cuts its crops (``crop`` of the siamfc / siamrpn params): see square_crop
CROPS = ("exact", "siamfc-pytorch", "pysot")


def _paste(window: np.ndarray, image: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """``window`` with the part of ``image`` it covers (its top-left at ``x0, y0`` in the
    image) copied in; the rest keeps ``window``'s fill."""
    size = window.shape[0]
    height, width = image.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size, width), min(y0 + size, height)
    if xa < xb and ya < yb:
        window[ya - y0 : yb - y0, xa - x0 : xb - x0] = image[ya:yb, xa:xb]
    return window


def crop_siamfc_pytorch(image: np.ndarray, center: Sequence[float], side: float, out_size: int,
                        border_value: Sequence[float] = (0, 0, 0)) -> np.ndarray:
    """siamfc-pytorch's ``crop_and_resize``: the side rounded to whole pixels (half to even),
    the first row and column ``round(centre - (side - 1) / 2)``, pixels outside the frame in
    ``border_value`` as OpenCV rounds it, the patch resized bilinearly by ``cv2.resize``.

    The corners snap to the pixel grid, so the crop's centre sits up to half a pixel off
    the target's (where :func:`crop_and_resize` is exact). The patch is built from the
    window alone: the same pixels as padding the whole frame first.
    """
    size = max(1, round(side))
    x0, y0 = (int(v) for v in np.round(np.asarray(center)[:2] - (size - 1) / 2))  # in the centre's float type, as there
    # the border colour as cv2.copyMakeBorder rounds it (siamfc-pytorch pads with that call)
    fill = cv2.copyMakeBorder(image[:1, :1], 1, 0, 0, 0, cv2.BORDER_CONSTANT, value=tuple(map(float, border_value)))[0, 0]
    patch = _paste(np.full((size, size, image.shape[2]), fill, dtype=image.dtype), image, x0, y0)
    return cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)


def crop_pysot(image: np.ndarray, center: Sequence[float], side: float, out_size: int,
               border_value: Sequence[float] = (0, 0, 0)) -> np.ndarray:
    """pysot's ``get_subwindow``: a window of ``sz = round(side)`` pixels whose first column is
    ``floor(cx - (sz + 1) / 2 + 0.5)`` (rows alike), pixels outside the frame in
    ``border_value`` truncated to integers (numpy's float to uint8), resized by ``cv2.resize``
    when ``sz != out_size``.

    That first column is ``floor(cx - sz / 2)``: the window sits half a pixel (odd ``sz``: a
    whole pixel) up-left of the target's centre. pysot's callers round the side; so does this.
    """
    size = max(1, round(side))
    x0, y0 = (int(v) for v in np.floor(np.asarray(center, dtype=np.float64)[:2] - (size + 1) / 2 + 0.5))
    fill = np.asarray(border_value, dtype=np.float64)[:3].astype(np.uint8)
    patch = _paste(np.full((size, size, image.shape[2]), fill, dtype=image.dtype), image, x0, y0)
    return patch if size == out_size else cv2.resize(patch, (out_size, out_size))


def square_crop(image: np.ndarray, center: Sequence[float], side: float, out_size: int,
                border_value: Sequence[float], method: str = "exact") -> np.ndarray:
    """A tracker's crop by ``method``: ``exact`` (:func:`crop_and_resize`, one sub-pixel
    warp, the default), or a published tracker's integer-grid arithmetic
    (``siamfc-pytorch``, ``pysot``) so that converted public checkpoints give their boxes."""
    if method == "exact":
        return crop_and_resize(image, center, side, out_size, border_value)
    if method == "siamfc-pytorch":
        return crop_siamfc_pytorch(image, center, side, out_size, border_value)
    if method == "pysot":
        return crop_pysot(image, center, side, out_size, border_value)
    raise ValueError(f"unknown crop {method!r} ({', '.join(CROPS)})")


# the grid the tracked centre lives on (see snap_to_crop_grid)
CROP_SUBPIXEL = 1.0 / 8.0


def snap_to_crop_grid(point: Sequence[float]) -> np.ndarray:
    """``point`` rounded to a 1/8-px grid.

    A tracker that keeps its centre on this grid makes every search crop a function of a
    state that float noise cannot move: the same weights run by PyTorch, onnxruntime or
    OpenCV DNN (outputs ~1e-6 apart) then give identical boxes, where an unsnapped centre
    lets the crop's fixed-point sampling and uint8 rounding amplify 1e-6 into a different
    track within a few dozen frames. Noise still flips a rounding when a centre falls
    within ~1e-5 px of a grid line; the coarser the grid, the rarer that is (1/32 px, the
    resolution of ``cv2.warpAffine``, left one track in 29 val sequences diverging; 1/8
    none, benchmarks/results/export.md). The rounding, at most 1/16 px, is far below any
    tracker's error.
    """
    return np.round(np.asarray(point, dtype=np.float64) / CROP_SUBPIXEL) * CROP_SUBPIXEL


def clip_box(box: Sequence[float], width: int, height: int) -> Box:
    """Intersect an ``xywh`` box with the frame ``[0, width) x [0, height)``."""
    x1, y1, x2, y2 = xywh_to_xyxy(np.asarray(box))
    x1, x2 = np.clip([x1, x2], 0, width)
    y1, y2 = np.clip([y1, y2], 0, height)
    return (float(x1), float(y1), float(x2 - x1), float(y2 - y1))


def hann_window(size: int) -> np.ndarray:
    """2-D cosine window used to penalise large displacements."""
    w = np.hanning(size)
    return np.outer(w, w)
