"""A generated demo clip: a textured object moving and changing scale over a textured
background. Deterministic, so the demo, the tests and the docs all see the same clip."""
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


def _smooth_texture(rng: np.random.Generator, height: int, width: int, cell: int, contrast: float) -> np.ndarray:
    small = rng.uniform(0, 255, size=(max(height // cell, 2), max(width // cell, 2), 3)).astype(np.float32)
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    mean = big.mean()
    return np.clip(mean + (big - mean) * contrast, 0, 255).astype(np.uint8)


def make_object(rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """A colourful, high-contrast patch: blocks of colour with a bright ring."""
    patch = _smooth_texture(rng, size, size, 12, 1.6)
    cv2.circle(patch, (size // 2, size // 2), size // 3, (40, 240, 250), max(size // 12, 2))
    cv2.rectangle(patch, (0, 0), (size - 1, size - 1), (30, 30, 200), max(size // 24, 1))
    return patch


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
        x0, y0 = int(round(x)), int(round(y))
        pw, ph = int(round(w)), int(round(h))
        frame[y0 : y0 + ph, x0 : x0 + pw] = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA)
        frames.append(frame)
        boxes.append((x0, y0, pw, ph))
    return DemoClip(frames, np.array(boxes, dtype=np.float64))
