"""An on-disk cache of context crops, one per annotated frame, as pysot's ``crop511`` step.

Each crop is centred on the target at the tracker's scale (its context region spans
``exemplar_size`` pixels), so a training pair cut from the crop is the pair cut from the full
frame up to one more interpolation, and reading a 511x511 JPEG costs the same whatever the
video's resolution. The cache folder is named by a hash of the crop settings and of the frame
index, so a changed setting or dataset builds a new cache instead of reading stale crops.
Crops are written atomically, sequence by sequence; an interrupted build resumes where it
stopped, and ``COMPLETE`` marks a cache that no longer needs checking.
"""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ..errors import DatasetError
from ..geometry import context_size
from .augment import CropAugment, augmented_crop
from .index import FrameIndex
from .sequence import read_image

log = logging.getLogger(__name__)
VERSION = 1  # of the cutting rule: bump it when crops are made differently
_NO_JITTER = CropAugment(color=0.0)
_worker_cache: Optional["CropCache"] = None


@dataclass(frozen=True)
class CropSettings:
    size: int = 511  # side of a cached crop (pysot's crop511)
    exemplar_size: int = 127  # pixels the target's context region spans in it
    context: float = 0.5
    quality: int = 90  # JPEG


class CropCache:
    """Crops of the visible frames of ``index`` under ``root/<name>-<key>/``."""

    def __init__(self, root: str, name: str, index: FrameIndex, settings: CropSettings = CropSettings()) -> None:
        self.index, self.settings = index, settings
        key = hashlib.sha1(json.dumps({"version": VERSION, **asdict(settings), "index": index.fingerprint()}, sort_keys=True).encode()).hexdigest()
        self.folder = Path(root) / f"{name}-{key[:16]}"

    def path(self, frame: int) -> str:
        """The crop of global frame ``frame`` of the index (1,000 files a folder)."""
        return os.path.join(self.folder, f"{frame // 1000:06d}", f"{frame % 1000:03d}.jpg")

    def box(self, box: np.ndarray) -> np.ndarray:
        """Where the target box ``(x, y, w, h)`` of a frame lies in its crop: centred, scaled."""
        s = self.settings
        w, h = float(box[2]), float(box[3])
        scale = s.exemplar_size / context_size((w, h), s.context)
        return np.array([(s.size - w * scale) / 2, (s.size - h * scale) / 2, w * scale, h * scale])

    @property
    def complete(self) -> bool:
        return (self.folder / "COMPLETE").is_file()

    def missing(self) -> np.ndarray:
        """Sequences whose last crop is not on disk (crops are written in order)."""
        index = self.index
        numbers = np.where(index.visible, np.arange(index.num_frames), -1)
        last = np.maximum.reduceat(numbers, index.start[:-1]) if len(index) else numbers[:0]
        return np.array([q for q, f in enumerate(last.tolist()) if not os.path.isfile(self.path(f))], dtype=np.int64)

    def build(self, workers: int = 1, share: Tuple[int, int] = (0, 1), progress: bool = True) -> int:
        """Cut the missing crops of share ``share = (i, n)`` of the sequences in ``workers``
        processes; returns how many crops were written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_meta()
        todo = self.missing()
        todo = todo[todo % share[1] == share[0]]  # by sequence number: the same share whenever a rank looks
        total = int(np.add.reduceat(self.index.visible.astype(np.int64), self.index.start[:-1])[todo].sum()) if len(todo) else 0
        log.info("crop cache %s: cutting %d crops of %d sequences", self.folder, total, len(todo))
        written = 0
        with tqdm(total=total, desc=f"crop cache {self.folder.name}", unit="crop", disable=not progress, mininterval=1.0) as bar:
            if workers <= 1 or len(todo) < 2:
                for q in todo:
                    n = self.cut_sequence(int(q))
                    written += n
                    bar.update(n)
            else:
                context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
                with context.Pool(workers, initializer=_init_worker, initargs=(self,)) as pool:
                    for n in pool.imap_unordered(_cut_in_worker, todo.tolist(), chunksize=max(1, min(64, len(todo) // (8 * workers)))):
                        written += n
                        bar.update(n)
        return written

    def finish(self) -> None:
        """Check every crop is there (after all shares are built) and mark the cache complete."""
        missing = self.missing()
        if len(missing):
            raise DatasetError(f"crop cache {self.folder}: {len(missing)} sequences have no crops yet")
        (self.folder / "COMPLETE").write_text("")

    def cut_sequence(self, seq: int) -> int:
        """Write the crops of one sequence that are not on disk yet; returns how many."""
        index, s = self.index, self.settings
        start = int(index.start[seq])
        written = 0
        for k in np.flatnonzero(index.visible[index.frames(seq)]):
            path = self.path(start + int(k))
            if os.path.isfile(path):
                continue
            crop, _ = augmented_crop(read_image(index.path(seq, int(k))), index.boxes[start + k], s.size, s.exemplar_size, s.context, _NO_JITTER, np.random.default_rng(0))
            write_jpeg(path, crop, s.quality)
            written += 1
        return written

    def _write_meta(self) -> None:
        meta = self.folder / "meta.json"
        if not meta.is_file():
            info = {"version": VERSION, "settings": asdict(self.settings), "index": self.index.fingerprint(),
                    "sequences": len(self.index), "crops": int(self.index.visible.sum())}
            tmp = meta.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(info, indent=1))
            os.replace(tmp, meta)


def write_jpeg(path: str, image: np.ndarray, quality: int) -> None:
    """Write atomically: a crop on disk is whole or absent, never cut short by a kill."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DatasetError(f"cannot encode the crop {path}")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data.tobytes())
    os.replace(tmp, path)


def _init_worker(cache: CropCache) -> None:
    # (no cv2.setNumThreads here: in a forked child it waits forever on the parent's pool)
    global _worker_cache
    _worker_cache = cache


def _cut_in_worker(seq: int) -> int:
    return _worker_cache.cut_sequence(seq)
