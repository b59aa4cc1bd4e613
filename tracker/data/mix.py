"""Several training sets in one epoch, as pysot mixes VID, YouTube-BB, COCO and DET: each
set has a fixed number of the epoch's pairs, in an order reshuffled every epoch."""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import ConfigError
from .pairs import PairDataset


def epoch_counts(weights: Sequence[float], num_use: Sequence[int], total: int) -> np.ndarray:
    """Pairs per set in an epoch of ``total``: ``num_use`` where given (> 0); the rest shared
    by weight among the sets without one (among all sets when every one has one), rounded
    by largest remainder so the counts add up to ``total``."""
    weights, fixed = np.asarray(weights, dtype=np.float64), np.asarray(num_use, dtype=np.int64)
    rest = total - int(fixed.sum())
    if rest < 0:
        raise ConfigError(f"the datasets' num_use add up to {int(fixed.sum())}, more than the {total} pairs of an epoch")
    sharing = fixed == 0 if (fixed == 0).any() else np.ones(len(fixed), dtype=bool)
    share = np.where(sharing, weights, 0.0)
    if rest and share.sum() <= 0:
        raise ConfigError(f"{rest} pairs of an epoch are left to datasets of weight 0")
    exact = rest * share / max(share.sum(), 1e-12)
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: rest - int(counts.sum())]] += 1
    return fixed + counts


class MixDataset(Dataset):
    """Item ``i`` of epoch ``e`` is item ``i`` of the set that epoch's shuffle gives it: pairs
    stay a pure function of ``(seed, epoch, index)``."""

    def __init__(self, parts: List[PairDataset], counts: Sequence[int], seed: int = 0) -> None:
        self.parts, self.counts, self.seed = parts, np.asarray(counts, dtype=np.int64), seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        for part in self.parts:
            part.set_epoch(epoch)
        order = np.repeat(np.arange(len(self.parts), dtype=np.int16), self.counts)
        self.part_of = np.random.default_rng([self.seed, epoch]).permutation(order)

    def __len__(self) -> int:
        return len(self.part_of)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        return self.parts[self.part_of[index]][index]
