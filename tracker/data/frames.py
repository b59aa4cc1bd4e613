"""Frame sources for training: annotated sequences and unannotated clips, decoded once
and kept in memory so an epoch is bound by the network, not by JPEG decoding."""
from __future__ import annotations

import logging
from typing import Dict, Iterable, List, Optional

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import SourceError
from .sequence import Sequence, read_image

log = logging.getLogger(__name__)


class FrameCache:
    """Decoded frames keyed by path, filled lazily or all at once by :meth:`preload`.

    Preloading before a ``DataLoader`` forks its workers shares the pages among them. Memory
    grows with the dataset: the option for small sets (``DatasetConfig.frames`` for others).
    """

    def __init__(self, progress: bool = True) -> None:
        self._frames: Dict[str, np.ndarray] = {}
        self.progress = progress

    def get(self, path: str) -> np.ndarray:
        frame = self._frames.get(path)
        if frame is None:
            frame = read_image(path)
            self._frames[path] = frame
        return frame

    def preload(self, sequences: List[Sequence]) -> None:
        self.preload_files([p for seq in sequences for p in seq.frames])

    def preload_files(self, paths: Iterable[str], total: Optional[int] = None) -> None:
        """Decode ``paths`` now, under a progress bar (on stderr)."""
        for path in tqdm(paths, total=total, desc="decoding frames into memory", unit="frame", disable=not self.progress, mininterval=1.0):
            self.get(path)
        log.info("cached %d frames (%.1f GB)", len(self._frames), self.nbytes / 1e9)

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self._frames.values())


def read_clip(path: str, max_frames: Optional[int] = None, stride: int = 1) -> List[np.ndarray]:
    """All (or the first ``max_frames``) frames of a video file, every ``stride``-th one."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise SourceError(f"cannot open video {path}")
    frames: List[np.ndarray] = []
    index = 0
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index % stride == 0:
                frames.append(frame)
            index += 1
    finally:
        capture.release()
    if not frames:
        raise SourceError(f"video {path} has no readable frames")
    return frames
