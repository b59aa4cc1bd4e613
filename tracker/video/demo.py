"""Generated demo clips: textured objects moving and changing scale over a textured
background. Deterministic, so the demo, the tests and the docs all see the same clips."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np


@dataclass(frozen=True)
class DemoClip:
    frames: List[np.ndarray]
    boxes: np.ndarray  # (N, 4) ground truth x, y, w, h
    fps: float = 30.0


@dataclass(frozen=True)
class TargetsClip:
    frames: List[np.ndarray]
    boxes: np.ndarray  # (K, N, 4) ground truth x, y, w, h of each of the K objects
    fps: float = 30.0


def _smooth_texture(rng: np.random.Generator, height: int, width: int, cell: int, contrast: float) -> np.ndarray:
    small = rng.uniform(0, 255, size=(max(height // cell, 2), max(width // cell, 2), 3)).astype(np.float32)
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    mean = big.mean()
    return np.clip(mean + (big - mean) * contrast, 0, 255).astype(np.uint8)


def make_object(rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """A colourful, high-contrast patch: blocks of colour with a bright ring and a blue border
    (not red: red is the overlay's colour for a lost target)."""
    patch = _smooth_texture(rng, size, size, 12, 1.6)
    cv2.circle(patch, (size // 2, size // 2), size // 3, (40, 240, 250), max(size // 12, 2))
    cv2.rectangle(patch, (0, 0), (size - 1, size - 1), (200, 30, 30), max(size // 24, 1))
    return patch


def _paste(frame: np.ndarray, patch: np.ndarray, x: float, y: float, w: float, h: float) -> Tuple[int, int, int, int]:
    """``patch`` resized into ``frame`` at the box rounded to whole pixels; that box."""
    x0, y0, pw, ph = int(round(x)), int(round(y)), int(round(w)), int(round(h))
    frame[y0 : y0 + ph, x0 : x0 + pw] = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA)
    return x0, y0, pw, ph


def generate_clip(num_frames: int = 120, width: int = 640, height: int = 360, seed: int = 7,
                  base_size: Tuple[int, int] = (72, 56), scale_range: Tuple[float, float] = (0.8, 1.35),
                  hidden: Optional[Tuple[int, int]] = None) -> DemoClip:
    """Object on a Lissajous path, its size swinging through ``scale_range``.

    Frames ``hidden[0] <= i < hidden[1]`` do not show the object (its box is NaN): it has
    left the view, and re-enters further along its path.
    """
    rng = np.random.default_rng(seed)
    background = _smooth_texture(rng, height, width, 40, 0.6)
    patch = make_object(rng)
    frames, boxes = [], []
    for i in range(num_frames):
        t = i / max(num_frames - 1, 1)
        scale = scale_range[0] + (scale_range[1] - scale_range[0]) * (0.5 - 0.5 * np.cos(2 * np.pi * t))
        w, h = base_size[0] * scale, base_size[1] * scale
        cx = width * (0.5 + 0.32 * np.sin(2 * np.pi * t))
        cy = height * (0.5 + 0.28 * np.sin(4 * np.pi * t + 0.5))
        x, y = cx - w / 2, cy - h / 2
        frame = background.copy()
        if hidden is not None and hidden[0] <= i < hidden[1]:
            frames.append(frame)
            boxes.append((np.nan,) * 4)
            continue
        boxes.append(_paste(frame, patch, x, y, w, h))
        frames.append(frame)
    return DemoClip(frames, np.array(boxes, dtype=np.float64))


def generate_targets_clip(num_targets: int = 3, num_frames: int = 90, width: int = 640, height: int = 360, seed: int = 11,
                          base_size: Tuple[int, int] = (64, 52), scale_range: Tuple[float, float] = (0.9, 1.15)) -> TargetsClip:
    """``num_targets`` distinct objects, each in its own horizontal band of the frame (they
    never overlap), each on its own path across the frame and back, its size swinging
    through ``scale_range``: several targets with known boxes."""
    rng = np.random.default_rng(seed)
    background = _smooth_texture(rng, height, width, 40, 0.6)
    patches = [make_object(rng) for _ in range(num_targets)]
    band = height / num_targets
    frames, boxes = [], []
    for i in range(num_frames):
        t = i / max(num_frames - 1, 1)
        frame, row = background.copy(), []
        for k, patch in enumerate(patches):
            phase = 2 * np.pi * k / num_targets
            scale = scale_range[0] + (scale_range[1] - scale_range[0]) * (0.5 - 0.5 * np.cos(2 * np.pi * t + phase))
            w, h = base_size[0] * scale, base_size[1] * scale
            cx = width * (0.5 + 0.3 * np.sin(2 * np.pi * t + phase))
            cy = band * (k + 0.5) + 0.4 * (band - base_size[1] * scale_range[1]) * np.sin(4 * np.pi * t + phase)
            row.append(_paste(frame, patch, cx - w / 2, cy - h / 2, w, h))
        frames.append(frame)
        boxes.append(row)
    return TargetsClip(frames, np.array(boxes, dtype=np.float64).transpose(1, 0, 2))
