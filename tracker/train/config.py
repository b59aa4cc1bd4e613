"""Training configuration: frozen dataclasses read from one YAML file per run."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Tuple

from ..data.datasets import DatasetConfig
from ..data.pairs import PairConfig


def _shared(path: str) -> str:
    return os.path.join(os.environ.get("SIAMTRACK_SHARED", "../shared"), path)


@dataclass(frozen=True)
class DataConfig:
    train_roots: Tuple[str, ...] = field(default_factory=lambda: (_shared("data/sot/train"),))
    clip_dirs: Tuple[str, ...] = field(default_factory=lambda: (_shared("data/videos"),))
    clip_max_frames: int = 120
    val_root: str = field(default_factory=lambda: _shared("data/sot/val"))
    val_sequences: int = 8  # evenly spread over the val list; 0 disables validation
    val_frames: int = 100
    preload: bool = True
    # train_roots are decoded into memory only while their frames fit this (estimated from the
    # frame counts and resolutions before decoding); larger sets are read from their files
    # through the frame index, as data.datasets with frames: files (see tracker.train.budget).
    # The default keeps sot/train (about 3.1 GB decoded) in memory, as the shipped configs train.
    memory_budget_mb: int = 4096
    # training sets on disk, read through a frame index by the DataLoader workers (see
    # DatasetConfig); when given, train_roots, clip_dirs and preload are not read
    datasets: Tuple[DatasetConfig, ...] = ()
    crop_dir: str = field(default_factory=lambda: os.path.join(os.path.expanduser("~"), ".cache", "siamtrack", "crops"))
    crop_size: int = 511
    crop_quality: int = 90
    crop_workers: int = 0  # processes cutting the crop cache: 0 = the CPU cores, shared by a node's ranks


@dataclass(frozen=True)
class OptimConfig:
    epochs: int = 20
    pairs_per_epoch: int = 20000
    batch_size: int = 32
    lr: float = 0.01
    end_lr: float = 0.0005
    warmup_epochs: float = 1.0
    warmup_lr: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 1e-4
    grad_clip: float = 10.0
    cls_weight: float = 1.0
    loc_weight: float = 1.2
    backbone_lr: float = 1.0  # the backbone's LR as a fraction of the schedule's (pysot: 0.1 for a pretrained one)
    # a pretrained backbone's schedule (pysot: frozen for 10 of 20 epochs, then x0.1): frozen
    # for the first ``freeze_epochs``; its stem and first ``frozen_blocks`` feature blocks
    # (mobilenetv2) frozen throughout. Frozen layers keep their BatchNorm in eval mode, and
    # ``freeze_bn`` keeps every backbone BatchNorm's statistics as loaded.
    freeze_epochs: int = 0
    frozen_blocks: int = 0
    freeze_bn: bool = False


INIT_SCOPES = ("backbone", "all")
IMAGENET = "imagenet"


@dataclass(frozen=True)
class DistillConfig:
    """Knowledge distillation: the student also learns a trained teacher's score maps (its
    probabilities on every cell, distractors included), e.g. the AlexNet SiamFC teaching
    light_fc. Both must be SiamFC-head models of one stride and crop sizes."""

    teacher: str = ""  # a siamtrack checkpoint; "" trains without one
    weight: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    model: str = "light"  # an architecture of the zoo (tracker/configs/<model>.yaml)
    pairs: PairConfig = field(default_factory=PairConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    seed: int = 0
    workers: int = 0
    amp: bool = True  # mixed precision on CUDA (ignored on the CPU)
    checkpoint_every: int = 100  # iterations between mid-epoch resume points
    keep_epochs: bool = False  # also keep every epoch's weights (model_e<N>.pt), to evaluate each afterwards
    # a checkpoint of this project that starts the run, e.g. weights/siamfc.pt for a SiamRPN on
    # SiamFC's trained AlexNet; what it gives must match the model's, tensor for tensor.
    # "imagenet": the backbone's ImageNet weights from an installed package (tracker.models.pretrained)
    init_from: str = ""
    # "backbone" (a new head on a trained backbone) or "all" (fine-tune a whole trained model)
    init_scope: str = "backbone"

    def __post_init__(self) -> None:
        if self.init_scope not in INIT_SCOPES:
            raise ValueError(f"init_scope must be one of {INIT_SCOPES}, got {self.init_scope!r}")
        if self.init_from == IMAGENET and self.init_scope != "backbone":
            raise ValueError("init_from: imagenet initialises the backbone only (init_scope: backbone)")
