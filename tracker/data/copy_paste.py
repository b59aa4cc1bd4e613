"""Copy-paste pairs: an object cut out of its frame (by its mask where the data set has one,
DAVIS's; else by the ellipse inscribed in its box) and pasted into another scene at a
random place and size, often beside a pasted look-alike: another object of the data cut the
same way, at a similar size. The tracker must then find its target among distractors on
backgrounds it never saw it on, the failure that dominates away from ``val``."""
from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np


def mask_path(frame_path: str) -> str:
    """DAVIS layout: ``<sequence>/masks/<frame stem>.png`` beside the frames."""
    folder, name = os.path.split(frame_path)
    return os.path.join(folder, "masks", os.path.splitext(name)[0] + ".png")


def read_mask(frame_path: str) -> Optional[np.ndarray]:
    """The object mask of a frame (uint8, 0 / 255), or None where the data set has none."""
    path = mask_path(frame_path)
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE) if os.path.isfile(path) else None


class Cutout:
    """An object's pixels and their opacity (0-1), cut to its box."""

    def __init__(self, pixels: np.ndarray, alpha: np.ndarray) -> None:
        self.pixels, self.alpha = pixels, alpha

    @classmethod
    def from_frame(cls, frame: np.ndarray, box: Sequence[float], mask: Optional[np.ndarray] = None) -> Optional["Cutout"]:
        """The object inside ``box`` (x, y, w, h); None when the box holds no whole pixel or
        the mask shows nothing of it."""
        height, width = frame.shape[:2]
        x1, y1 = int(np.floor(max(box[0], 0))), int(np.floor(max(box[1], 0)))
        x2, y2 = int(np.ceil(min(box[0] + box[2], width))), int(np.ceil(min(box[1] + box[3], height)))
        if x2 - x1 < 2 or y2 - y1 < 2:
            return None
        pixels = frame[y1:y2, x1:x2]
        if mask is not None and mask.shape[:2] == frame.shape[:2]:
            alpha = (mask[y1:y2, x1:x2] > 127).astype(np.float32)
            if alpha.mean() < 0.05:
                return None
        else:  # no mask: the ellipse inscribed in the box, the object's likely extent
            alpha = np.zeros((y2 - y1, x2 - x1), np.float32)
            cv2.ellipse(alpha, (((x2 - x1 - 1) / 2, (y2 - y1 - 1) / 2), (x2 - x1, y2 - y1), 0), 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (3, 3), 0)  # a soft edge: no tell-tale seam for the network
        return cls(pixels.copy(), alpha)

    def paste(self, scene: np.ndarray, box: Sequence[float]) -> None:
        """Blend the object into ``scene`` (in place) so that it fills ``box`` (x, y, w, h),
        clipped to the scene."""
        x, y, w, h = box
        sx, sy = w / self.alpha.shape[1], h / self.alpha.shape[0]
        matrix = np.array([[sx, 0.0, x + 0.5 * sx - 0.5], [0.0, sy, y + 0.5 * sy - 0.5]])  # pixel centres map to centres
        size = (scene.shape[1], scene.shape[0])
        pixels = cv2.warpAffine(self.pixels, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(self.alpha, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
        scene[:] = (scene * (1.0 - alpha) + pixels * alpha).astype(scene.dtype)


def place(scene_shape: Tuple[int, int], size: Tuple[float, float], rng: np.random.Generator,
          away_from: Optional[np.ndarray] = None) -> np.ndarray:
    """A box (x, y, w, h) of ``size`` (shrunk to fit) at a random place in the scene; with
    ``away_from`` (another box) placed, where the scene allows, so that the two do not overlap."""
    height, width = scene_shape
    w, h = size
    fit = min(1.0, 0.9 * width / w, 0.9 * height / h)
    w, h = w * fit, h * fit
    for _ in range(10):
        box = np.array([rng.uniform(0, width - w), rng.uniform(0, height - h), w, h])
        if away_from is None or not _overlap(box, away_from):
            break
    return box


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def composite(scene: np.ndarray, target: Optional[Cutout], target_size: Tuple[float, float], distractor: Optional[Cutout],
              rng: np.random.Generator, distractor_scale: float = 0.25) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    """``scene`` with the target pasted at ``target_size`` and the distractor (if any) at a
    size within ``distractor_scale`` of it, elsewhere. Returns the image and the two boxes
    (x, y, w, h; None for what was not pasted)."""
    image = scene.copy()
    target_box = distractor_box = None
    if target is not None:
        target_box = place(image.shape[:2], target_size, rng)
        target.paste(image, target_box)
    if distractor is not None:
        side = np.sqrt(target_size[0] * target_size[1]) * np.exp(rng.uniform(-distractor_scale, distractor_scale))
        aspect = distractor.alpha.shape[1] / distractor.alpha.shape[0]
        distractor_box = place(image.shape[:2], (side * np.sqrt(aspect), side / np.sqrt(aspect)), rng, target_box)
        distractor.paste(image, distractor_box)
        if target is not None and target_box is not None:  # the target stays in front: its box stays true
            target.paste(image, target_box)
    return image, target_box, distractor_box
