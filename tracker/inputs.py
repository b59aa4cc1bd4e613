"""Validation and normalisation of the frames and boxes users hand to a tracker."""
from __future__ import annotations

import math
from typing import Any, Sequence

import cv2
import numpy as np

from .errors import InvalidBoxError, InvalidFrameError
from .geometry import Box


def as_bgr_frame(frame: Any) -> np.ndarray:
    """Return ``frame`` as a contiguous HxWx3 uint8 BGR array, or raise ``InvalidFrameError``.

    Grayscale (HxW or HxWx1) and BGRA (HxWx4) frames are converted; float frames
    in ``[0, 1]`` are rejected rather than silently rescaled, because guessing the
    range is how trackers end up quietly wrong.
    """
    if frame is None:
        raise InvalidFrameError("frame is None (did the video reader fail to return a frame?)")
    if not isinstance(frame, np.ndarray):
        raise InvalidFrameError(f"frame must be a numpy array, got {type(frame).__name__}")
    if frame.size == 0:
        raise InvalidFrameError(f"frame is empty (shape {frame.shape})")
    if frame.dtype != np.uint8:
        raise InvalidFrameError(f"frame must be uint8 (0-255 BGR), got dtype {frame.dtype}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise InvalidFrameError(
            f"frame must be HxW, HxWx3 (BGR) or HxWx4 (BGRA), got shape {frame.shape}"
        )
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame)


def validate_box(box: Any, frame_shape: Sequence[int]) -> Box:
    """Check an ``(x, y, w, h)`` initial box against a frame; return it as floats.

    Rejects NaN/inf, non-positive sizes and boxes with no overlap with the frame.
    A box partly outside the frame is allowed: targets entering the view are common.
    """
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError) as exc:
        raise InvalidBoxError(f"box must be 4 numbers (x, y, w, h), got {box!r}") from exc
    if len(values) != 4:
        raise InvalidBoxError(f"box must be 4 numbers (x, y, w, h), got {len(values)} values")
    if not all(math.isfinite(v) for v in values):
        raise InvalidBoxError(f"box has NaN or infinite values: {tuple(values)}")
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise InvalidBoxError(f"box must have positive width and height, got w={w}, h={h}")
    height, width = int(frame_shape[0]), int(frame_shape[1])
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise InvalidBoxError(
            f"box {tuple(values)} lies entirely outside the {width}x{height} frame"
        )
    return (x, y, w, h)
