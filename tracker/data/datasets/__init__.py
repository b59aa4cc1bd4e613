"""Training sets as they are laid out on disk, each read into a :class:`FrameIndex`, and the
config of one entry of a mix (pysot's ``DATASET.NAMES`` with its ``NUM_USE``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Set

from ...errors import ConfigError, DatasetError
from ..index import FrameIndex, index_sequences
from ..readers import LAYOUTS, detect_layout
from .coco import read_coco_index
from .got10k import read_got10k_index
from .lasot import read_lasot_index
from .trackingnet import read_trackingnet_index

# "clips": a folder of unannotated videos, decoded into memory (self-supervised pairs only)
KINDS = ("got10k", "lasot", "trackingnet", "coco", "otb", "vot", "uav123", "auto", "clips")
# memory: every frame decoded once into RAM (small sets); files: frames decoded on demand by
# the DataLoader workers; crops: one context crop per annotated frame, cut once to disk
FRAMES = ("memory", "files", "crops")


@dataclass(frozen=True)
class DatasetConfig:
    """One training set of a mix.

    Each epoch has ``optim.pairs_per_epoch`` pairs: ``num_use`` of them come from this set
    (pysot's NUM_USE); what the sets with ``num_use: 0`` leave is shared by ``weight`` among
    them (among all sets when every one has a ``num_use``).
    """

    kind: str = "got10k"
    root: str = ""
    weight: float = 1.0
    num_use: int = 0
    frames: str = "crops"
    split: str = ""  # a file of sequence names to use (e.g. LaSOT's training split); "" = all
    annotations: str = ""  # coco: the instances_*.json ("" = ../annotations/instances_<root>.json)
    min_cover: int = 1  # got10k: frames less visible than this cover.label class are not used

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"dataset kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.frames not in FRAMES:
            raise ConfigError(f"dataset frames must be one of {', '.join(FRAMES)}, got {self.frames!r}")
        if not self.root:
            raise ConfigError(f"a {self.kind} dataset needs a root")
        if self.weight < 0 or self.num_use < 0:
            raise ConfigError(f"{self.root}: weight and num_use must not be negative")


def split_names(path: str) -> Optional[Set[str]]:
    if not path:
        return None
    return {line.strip() for line in Path(path).read_text().splitlines() if line.strip()}


def read_index(dataset: DatasetConfig, progress: bool = True) -> FrameIndex:
    """The frames of one configured training set."""
    names = split_names(dataset.split)
    kind = detect_layout(dataset.root) if dataset.kind == "auto" else dataset.kind
    if kind == "got10k":
        return read_got10k_index(dataset.root, names, dataset.min_cover, progress)
    if kind == "lasot":
        return read_lasot_index(dataset.root, names, progress)
    if kind == "trackingnet":
        return read_trackingnet_index(dataset.root, names, progress)
    if kind == "coco":
        return read_coco_index(dataset.root, dataset.annotations)
    if kind in LAYOUTS:
        return index_sequences(s for s in LAYOUTS[kind](dataset.root) if names is None or s.name in names)
    raise DatasetError(f"{dataset.kind} datasets have no frame index")
