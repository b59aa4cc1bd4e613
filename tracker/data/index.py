"""A training set as flat numpy arrays: (sequence, frame, box) at a few bytes a frame.

Millions of frames (GOT-10k 1.4 M, TrackingNet 14 M) fit in a small index, and forked
``DataLoader`` workers share its pages: a list of per-frame Python objects would grow with
the dataset and be copied into every worker as reference counts are written. File names are
a per-sequence pattern (``{:08d}.jpg`` from 1 for GOT-10k) wherever the layout fixes them, so
indexing reads the annotation files only and never lists frame folders.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from ..errors import DatasetError
from .sequence import Sequence as FrameSequence
from .sequence import parse_box_lines


@dataclass(frozen=True)
class FrameIndex:
    folders: np.ndarray  # (D,) bytes: the distinct frame folders
    folder: np.ndarray  # (S,) int32: each sequence's entry in ``folders``
    template: np.ndarray  # (S,) bytes: file-name pattern such as b"{:08d}.jpg"; b"" = names in ``files``
    first: np.ndarray  # (S,) int64: the number ``template`` gives the first frame
    start: np.ndarray  # (S+1,) int64: sequence s holds frames start[s]:start[s+1]
    boxes: np.ndarray  # (F, 4) float32 x, y, w, h, 0-based
    visible: np.ndarray  # (F,) bool: a box is given and the target is in view
    files: np.ndarray  # (F,) bytes file names; empty where every sequence has a template

    def __len__(self) -> int:
        return len(self.folder)

    @property
    def num_frames(self) -> int:
        return len(self.boxes)

    def frames(self, seq: int) -> slice:
        return slice(int(self.start[seq]), int(self.start[seq + 1]))

    def path(self, seq: int, k: int) -> str:
        """File of frame ``k`` (0-based, within the sequence) of sequence ``seq``."""
        folder = self.folders[self.folder[seq]].decode()
        template = self.template[seq].decode()
        name = template.format(int(self.first[seq]) + k) if template else self.files[self.start[seq] + k].decode()
        return os.path.join(folder, name)

    def fingerprint(self) -> str:
        """Hash of the whole index: any change of sequences, files or boxes changes it."""
        h = hashlib.sha1()
        for array in (self.folders, self.folder, self.template, self.first, self.start, self.boxes, self.visible, self.files):
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()


def visible_boxes(boxes: np.ndarray, absent: Optional[np.ndarray] = None) -> np.ndarray:
    """Frames whose box is finite and non-empty and whose target is not marked absent."""
    ok = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    return ok if absent is None else ok & ~np.asarray(absent, dtype=bool)


class IndexBuilder:
    """Collects sequences one at a time; :meth:`build` makes the flat arrays."""

    def __init__(self) -> None:
        self._folders: dict = {}
        self._folder: List[int] = []
        self._template: List[str] = []
        self._first: List[int] = []
        self._boxes: List[np.ndarray] = []
        self._visible: List[np.ndarray] = []
        self._files: List[np.ndarray] = []

    def add(self, folder: str, boxes: np.ndarray, absent: Optional[np.ndarray] = None, template: str = "",
            first: int = 0, files: Sequence[str] = ()) -> None:
        """One sequence: frames ``template.format(first + k)`` or the names ``files`` in
        ``folder``. A sequence without one visible target is left out (nothing to sample)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not template and len(files) != len(boxes):
            raise DatasetError(f"{folder}: {len(files)} frames but {len(boxes)} boxes")
        visible = visible_boxes(boxes, absent)
        if not visible.any():
            return
        self._folder.append(self._folders.setdefault(str(folder), len(self._folders)))
        self._template.append(template)
        self._first.append(first)
        self._boxes.append(boxes.astype(np.float32))
        self._visible.append(visible)
        self._files.append(None if template else np.array([os.fsencode(f) for f in files], dtype=bytes))

    def build(self) -> FrameIndex:
        lengths = np.array([len(b) for b in self._boxes], dtype=np.int64)
        files = [np.zeros(len(b), dtype=bytes) if f is None else f for f, b in zip(self._files, self._boxes)]
        return FrameIndex(
            folders=np.array([os.fsencode(f) for f in self._folders], dtype=bytes),
            folder=np.array(self._folder, dtype=np.int32),
            template=np.array([t.encode() for t in self._template], dtype=bytes),
            first=np.array(self._first, dtype=np.int64),
            start=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            boxes=np.concatenate(self._boxes) if self._boxes else np.zeros((0, 4), np.float32),
            visible=np.concatenate(self._visible) if self._visible else np.zeros(0, bool),
            files=np.concatenate(files) if any(f is not None for f in self._files) else np.zeros(0, dtype=bytes),
        )


def read_boxes(path: Path) -> np.ndarray:
    """x,y,w,h rows of an annotation file. Comma-separated files go through numpy's parser
    (six times faster, which counts over TrackingNet's 14 M lines); anything else through
    :func:`parse_box_lines`, which also names a malformed line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns about an empty file
            boxes = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
        if boxes.shape[1] == 4:
            return boxes
    except ValueError:
        pass
    return parse_box_lines(Path(path).read_text(), str(path))


def indexing(items: Iterable, desc: str, progress: bool, total: Optional[int] = None) -> Iterable:
    """``items`` under a progress bar (on stderr) while a dataset is indexed."""
    return tqdm(items, desc=desc, total=total, unit="seq", disable=not progress, mininterval=1.0)


def index_sequences(sequences: Iterable[FrameSequence]) -> FrameIndex:
    """The index of :class:`~tracker.data.sequence.Sequence` objects (the layouts the
    evaluation readers know: OTB, VOT, UAV123...), their file names listed."""
    builder = IndexBuilder()
    for seq in sequences:
        folder = os.path.dirname(seq.frames[0]) if seq.frames else ""
        builder.add(folder, seq.boxes, seq.absent, files=[os.path.relpath(f, folder) for f in seq.frames])
    return builder.build()


def stills_index(folder: str, files: np.ndarray, boxes: np.ndarray) -> FrameIndex:
    """One-frame sequences, one per object (as pysot samples COCO and ImageNet DET): the
    template and the search crop come from one image, differently augmented."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    keep = visible_boxes(boxes)
    n = int(keep.sum())
    return FrameIndex(
        folders=np.array([os.fsencode(str(folder))], dtype=bytes),
        folder=np.zeros(n, dtype=np.int32),
        template=np.zeros(n, dtype=bytes),
        first=np.zeros(n, dtype=np.int64),
        start=np.arange(n + 1, dtype=np.int64),
        boxes=boxes[keep].astype(np.float32),
        visible=np.ones(n, dtype=bool),
        files=np.asarray(files, dtype=bytes)[keep],
    )
