"""One ``Sequence`` abstraction for training, evaluation and the CLI: frame files plus
per-frame boxes (NaN where the target is absent)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence as Seq

import cv2
import numpy as np

from ..errors import DatasetError


def _jpeg_is_complete(path: str) -> bool:
    """A JPEG ends with the EOI marker; libjpeg silently greys out the rest of a cut file."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(fh.tell() - 32, 0))
        return b"\xff\xd9" in fh.read()


def read_image(path: str) -> np.ndarray:
    """Decode an image as HxWx3 BGR uint8; a missing, truncated or unreadable file is a
    ``DatasetError`` (never a partly grey frame)."""
    if not Path(path).is_file():
        raise DatasetError(f"frame file is missing: {path}")
    if path.lower().endswith((".jpg", ".jpeg")) and not _jpeg_is_complete(path):
        raise DatasetError(f"frame file is a truncated JPEG: {path}")
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"frame file cannot be decoded (corrupt or not an image): {path}")
    return image


@dataclass
class Sequence:
    """An annotated (or unannotated, ``boxes`` all NaN) image sequence."""

    name: str
    frames: List[str]
    boxes: np.ndarray  # (N, 4) x, y, w, h; NaN rows where the target is absent or unknown
    absent: Optional[np.ndarray] = None  # (N,) bool
    meta: Dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        if len(self.boxes) != len(self.frames):
            raise DatasetError(
                f"sequence {self.name!r}: {len(self.frames)} frames but {len(self.boxes)} annotation lines"
            )
        invalid = ~np.isfinite(self.boxes).all(axis=1) | (self.boxes[:, 2] <= 0) | (self.boxes[:, 3] <= 0)
        if self.absent is None:
            self.absent = invalid
        else:
            self.absent = np.asarray(self.absent, dtype=bool) | invalid

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def visible(self) -> np.ndarray:
        return ~self.absent

    def frame(self, index: int) -> np.ndarray:
        return read_image(self.frames[index])

    @property
    def init_box(self) -> np.ndarray:
        return self.boxes[0]

    def starting_at(self, start: int, name: str) -> "Sequence":
        """The frames from ``start`` on, as a sequence of their own called ``name``."""
        return Sequence(name, self.frames[start:], self.boxes[start:], self.absent[start:], dict(self.meta))


def parse_box_lines(text: str, source: str) -> np.ndarray:
    """Boxes from text: one box per line, separated by commas, tabs or spaces; ``nan`` allowed.

    Polygons (8 numbers, VOT) become their axis-aligned bounding box.
    """
    rows: List[Seq[float]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        parts = line.replace(",", " ").replace("\t", " ").split()
        try:
            values = [float(v) for v in parts]
        except ValueError:
            raise DatasetError(f"{source}:{number}: malformed annotation line {line!r}") from None
        if len(values) == 4:
            rows.append(values)
        elif len(values) >= 6 and len(values) % 2 == 0:
            xs, ys = values[0::2], values[1::2]
            rows.append([min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)])
        else:
            raise DatasetError(f"{source}:{number}: expected 4 (x,y,w,h) or 8 (polygon) numbers, got {len(values)}")
    return np.array(rows, dtype=np.float64).reshape(-1, 4)
