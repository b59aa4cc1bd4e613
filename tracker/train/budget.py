"""How ``data.train_roots`` is read: decoded into memory while that fits
``data.memory_budget_mb``, else through the frame index, decoded on demand.

The in-memory path decodes every frame once, so an epoch is bound by the network, not by
JPEG decoding; its memory grows with the data (GOT-10k: hundreds of GB). Larger sets become
the equivalent ``data.datasets`` (each root with ``frames: files``, the clip folders as
``clips``), whose memory does not grow with the number of frames. The decoded size is
estimated before anything is decoded: frame counts from the annotations, resolutions from
``meta_info.ini`` or the first frame of a sample of sequences.
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np

from ..data.datasets import DatasetConfig, read_index
from ..errors import DatasetError
from ..data.index import FrameIndex
from ..data.readers import video_files
from .config import TrainConfig

log = logging.getLogger(__name__)

# sequences whose resolution is looked up (evenly spread); the rest take their mean
SAMPLE = 64


def frame_size(index: FrameIndex, seq: int) -> Optional[Tuple[int, int]]:
    """``(width, height)`` of a sequence's frames: GOT-10k's ``meta_info.ini``, else its first
    frame decoded at 1/8 scale (JPEG's DCT scaling: a fraction of a full decode), times 8."""
    folder = Path(index.folders[index.folder[seq]].decode())
    for ini in (folder / "meta_info.ini", folder.parent / "meta_info.ini"):
        if ini.is_file():
            for line in ini.read_text(errors="replace").splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "resolution":
                    numbers = [int(v) for v in value.strip(" ()").split(",") if v.strip().isdigit()]
                    if len(numbers) == 2:
                        return numbers[0], numbers[1]
    small = cv2.imread(index.path(seq, 0), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    return None if small is None else (small.shape[1] * 8, small.shape[0] * 8)


def decoded_bytes(index: FrameIndex) -> int:
    """Estimated bytes of every frame of ``index`` decoded (BGR uint8, as the frame cache keeps them)."""
    if not len(index):
        return 0
    picks = np.unique(np.linspace(0, len(index) - 1, min(SAMPLE, len(index))).round().astype(int))
    sizes = [s for s in (frame_size(index, int(k)) for k in picks) if s is not None]
    if not sizes:
        return 0
    pixels = float(np.mean([w * h for w, h in sizes]))
    return int(pixels * 3 * index.num_frames)


def clip_folders(cfg: TrainConfig) -> List[str]:
    """The clip folders the in-memory path reads (a missing or empty one is skipped there too)."""
    return [folder for folder in cfg.data.clip_dirs if os.path.isdir(folder) and any(True for _ in video_files(folder))]


def plan_data(cfg: TrainConfig, progress: bool = True) -> TrainConfig:
    """``cfg`` as it is when ``train_roots`` fits the memory budget; otherwise with the
    equivalent ``data.datasets`` (sets weighted by their sequences, as the in-memory path
    samples them). Says which, and why, in the log."""
    data = cfg.data
    if data.datasets or not data.train_roots:
        return cfg
    try:
        roots = [(root, read_index(DatasetConfig(kind="auto", root=root, frames="files"), progress)) for root in data.train_roots]
    except DatasetError as exc:  # a root only the in-memory path reads (no frame index for its layout)
        log.warning("data.train_roots cannot be indexed (%s): decoding them into memory, whatever their size", exc)
        return cfg
    frames = sum(index.num_frames for _, index in roots)
    size = sum(decoded_bytes(index) for _, index in roots)
    budget = data.memory_budget_mb * 2**20
    what = f"data.train_roots: {frames} frames, about {size / 2**30:.2f} GB decoded"
    if size <= budget:
        log.info("%s, within data.memory_budget_mb %d: decoding them into memory", what, data.memory_budget_mb)
        return cfg
    datasets = [DatasetConfig(kind="auto", root=root, frames="files", weight=float(len(index))) for root, index in roots]
    for folder in clip_folders(cfg):
        datasets.append(DatasetConfig(kind="clips", root=folder, weight=float(sum(1 for _ in video_files(folder)))))
    log.info("%s, over data.memory_budget_mb %d: reading frames from their files as they are needed (data.datasets: %s)",
             what, data.memory_budget_mb, ", ".join(f"{d.kind} {d.root}" for d in datasets))
    return replace(cfg, data=replace(data, datasets=tuple(datasets)))
