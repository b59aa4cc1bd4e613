"""The training pairs of ``data.datasets``: one frame set per configured dataset (an index read
from disk, its frames in memory, read from files or from the crop cache), mixed per epoch."""
from __future__ import annotations

import logging
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..errors import DatasetError
from ..data.crop_cache import CropCache, CropSettings
from ..data.datasets import DatasetConfig, read_index
from ..data.frames import FrameCache, read_clip
from ..data.indexed import IndexedFrames
from ..data.mix import MixDataset, epoch_counts
from ..data.pairs import FrameSource, PairConfig, PairDataset
from ..data.readers import video_files
from .config import TrainConfig

log = logging.getLogger(__name__)


def node_share() -> tuple:
    """This process's share of a node's work, (local rank, ranks on the node), from torchrun."""
    return int(os.environ.get("LOCAL_RANK", "0")), int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def crop_cache(cfg: TrainConfig, dataset: DatasetConfig, index, pairs: PairConfig, barrier: Callable[[], None]) -> CropCache:
    """The dataset's crop cache, cut now if it is not complete: the ranks of a node each cut
    a share, wait for each other, then check it (on a shared file system several nodes cutting
    one cache write the same files, atomically). Every rank passes the barrier, whatever it
    found, so that a rank seeing the cache completed meanwhile does not leave the others waiting."""
    settings = CropSettings(cfg.data.crop_size, pairs.exemplar_size, pairs.context, cfg.data.crop_quality)
    name = f"{dataset.kind}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', Path(dataset.root).name)}"
    cache = CropCache(cfg.data.crop_dir, name, index, settings)
    if not cache.complete:
        local_rank, local_world = node_share()
        workers = cfg.data.crop_workers or max(1, (os.cpu_count() or 1) // local_world)
        cache.build(workers, share=(local_rank, local_world), progress=local_rank == 0)
    barrier()
    if not cache.complete:
        cache.finish()
    log.info("%s: %d crops in %s", dataset.root, int(index.visible.sum()), cache.folder)
    return cache


def dataset_pairs(cfg: TrainConfig, dataset: DatasetConfig, pairs: PairConfig, barrier: Callable[[], None], progress: bool) -> PairDataset:
    if dataset.kind == "clips":
        clips = [FrameSource.from_clip(Path(p).stem, read_clip(p, cfg.data.clip_max_frames)) for p in video_files(dataset.root)]
        if not clips:
            raise DatasetError(f"{dataset.root}: no videos (.mp4, .avi, .mov, .mkv) for a clips dataset")
        return PairDataset(clips, replace(pairs, self_supervised=1.0), dataset.num_use, cfg.seed)
    index = read_index(dataset, progress)
    crops = cache = None
    if dataset.frames == "crops":
        crops = crop_cache(cfg, dataset, index, pairs, barrier)
    elif dataset.frames == "memory":
        cache = FrameCache(progress)
    frames = IndexedFrames(index, pairs.min_box, 1 if dataset.kind == "coco" else 2, crops, cache)
    if cache is not None:
        cache.preload_files(frames.paths(), total=int(index.visible.sum()))
    log.info("%s (%s): %d sequences, %d frames, %d for supervised pairs", dataset.root, dataset.kind, len(index), index.num_frames, len(frames.annotated))
    return PairDataset(frames, pairs, dataset.num_use, cfg.seed)


def build_mix(cfg: TrainConfig, pairs: PairConfig, barrier: Callable[[], None] = lambda: None, progress: bool = True) -> MixDataset:
    """Every dataset of ``cfg.data.datasets``, sharing ``optim.pairs_per_epoch`` as configured."""
    datasets = cfg.data.datasets
    parts = [dataset_pairs(cfg, d, pairs, barrier, progress) for d in datasets]
    counts = epoch_counts([d.weight for d in datasets], [d.num_use for d in datasets], cfg.optim.pairs_per_epoch)
    log.info("pairs per epoch: %s", ", ".join(f"{d.kind} {d.root}: {n}" for d, n in zip(datasets, counts)))
    return MixDataset(parts, counts, cfg.seed)
