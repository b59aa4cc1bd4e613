"""A :class:`FrameIndex` as the frame set :class:`~tracker.data.pairs.PairDataset` samples:
sampling reads only the index's arrays; the frames (or their crops) are decoded on demand, in
the ``DataLoader`` worker that makes the pair, so memory does not grow with the dataset."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .copy_paste import read_mask
from .crop_cache import CropCache
from .frames import FrameCache
from .index import FrameIndex
from .sequence import read_image


class IndexedFrames:
    """Frames from files (through ``cache`` when given: the in-memory option) or from the
    crops of ``crops``. ``min_visible``: 2 for videos, 1 for still images (a pair from one
    image). Self-supervised pairs use frames with a box, the ones a crop exists for."""

    def __init__(self, index: FrameIndex, min_box: float, min_visible: int = 2, crops: Optional[CropCache] = None,
                 cache: Optional[FrameCache] = None) -> None:
        self.index, self.crops, self.cache = index, crops, cache
        boxes = index.boxes
        self.usable = index.visible & (boxes[:, 2] >= min_box) & (boxes[:, 3] >= min_box)
        counts = np.add.reduceat(self.usable.astype(np.int64), index.start[:-1]) if len(index) else np.zeros(0, np.int64)
        self.annotated = np.flatnonzero(counts >= min_visible)

    def __len__(self) -> int:
        return len(self.index)

    def visible(self, seq: int) -> np.ndarray:
        return self.usable[self.index.frames(seq)]

    def box(self, seq: int, k: int) -> np.ndarray:
        box = self.index.boxes[self.index.start[seq] + k]
        return box if self.crops is None else self.crops.box(box)

    def frame(self, seq: int, k: int) -> np.ndarray:
        if self.crops is not None:
            return read_image(self.crops.path(int(self.index.start[seq]) + k))
        path = self.index.path(seq, k)
        return read_image(path) if self.cache is None else self.cache.get(path)

    def mask(self, seq: int, k: int) -> Optional[np.ndarray]:
        """The object's mask where the data set has masks (DAVIS) and frames are whole, not cached crops."""
        return read_mask(self.index.path(seq, k)) if self.crops is None else None

    def self_frame(self, seq: int, rng: np.random.Generator) -> np.ndarray:
        with_box = np.flatnonzero(self.index.visible[self.index.frames(seq)])
        return self.frame(seq, int(with_box[rng.integers(len(with_box))]))

    def paths(self):
        """Every frame a pair may read (for :meth:`FrameCache.preload_files`)."""
        index = self.index
        for seq in range(len(index)):
            for k in np.flatnonzero(index.visible[index.frames(seq)]):
                yield index.path(seq, int(k))
