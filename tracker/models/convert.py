"""Converters from public checkpoints to siamtrack checkpoints.

* siamfc-pytorch (``AlexNetV1`` + ``SiamFC`` head, e.g. ``siamfc_alexnet_e50.pth``): keys
  ``backbone.conv1.0.weight`` ... ``backbone.conv5.0.bias``; the network expects RGB input.
* pysot ``siamrpn_alex_dwxcorr`` ``model.pth``: keys ``backbone.features.N.*`` and
  ``rpn_head.{cls,loc}.{conv_kernel,conv_search,head}.*``; BGR input, 287 search.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Mapping, Union

import torch

from ..config import BackboneConfig, HeadConfig, ModelConfig
from ..errors import CheckpointError
from .checkpoint import Checkpoint, load_state_strict, read_torch_file
from .siamese import SiameseNet

StateDict = Dict[str, torch.Tensor]


def _unwrap(data: object, source: str) -> StateDict:
    """Accept a bare state dict, ``{'state_dict': ...}`` / ``{'model': ...}`` wrappers and DDP ``module.`` prefixes."""
    if isinstance(data, Mapping):
        for key in ("state_dict", "model", "net"):
            if key in data and isinstance(data[key], Mapping):
                data = data[key]
                break
    if not isinstance(data, Mapping) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointError(f"{source} does not hold a state dict of tensors")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in data.items()}


def siamfc_pytorch_config() -> ModelConfig:
    return ModelConfig(name="siamfc", tracker="siamfc", input_order="rgb")


def pysot_alex_dwxcorr_config() -> ModelConfig:
    return ModelConfig(
        name="siamrpn",
        tracker="siamrpn",
        backbone=BackboneConfig(name="alexnet_legacy"),
        head=HeadConfig(kind="rpn_dw", in_channels=256, hidden=256, anchor_num=5),
    )


def convert_siamfc_pytorch(state: Mapping[str, torch.Tensor], source: str = "siamfc-pytorch state dict") -> Checkpoint:
    state = _unwrap(state, source)
    if not any(k.startswith("backbone.conv1.") for k in state):
        raise CheckpointError(f"{source} is not a siamfc-pytorch AlexNetV1 checkpoint (no backbone.conv1.* keys)")
    converted = {k: v for k, v in state.items() if k.startswith("backbone.")}
    config = siamfc_pytorch_config()
    net = SiameseNet(config)
    # siamfc-pytorch's BatchNorm has no num_batches_tracked in older releases: take ours.
    for key, value in net.state_dict().items():
        if key.endswith("num_batches_tracked") and key not in converted:
            converted[key] = value
    load_state_strict(net, converted, source)
    return Checkpoint(config, net.state_dict(), {"source": source, "converted_from": "siamfc-pytorch"})


def convert_pysot_alex_dwxcorr(state: Mapping[str, torch.Tensor], source: str = "pysot state dict") -> Checkpoint:
    state = _unwrap(state, source)
    if not any(k.startswith("rpn_head.cls.conv_kernel") for k in state):
        raise CheckpointError(f"{source} is not a pysot siamrpn_alex_dwxcorr checkpoint (no rpn_head.cls.conv_kernel.* keys)")
    converted: StateDict = {}
    for key, value in state.items():
        if key.startswith("backbone."):
            converted[key] = value
        elif key.startswith("rpn_head."):
            converted["head." + key[len("rpn_head.") :]] = value
    config = pysot_alex_dwxcorr_config()
    net = SiameseNet(config)
    load_state_strict(net, converted, source)
    return Checkpoint(config, net.state_dict(), {"source": source, "converted_from": "pysot siamrpn_alex_dwxcorr"})


CONVERTERS = {"siamfc-pytorch": convert_siamfc_pytorch, "pysot-alex-dwxcorr": convert_pysot_alex_dwxcorr}


def convert_file(path: Union[str, Path], layout: str) -> Checkpoint:
    """Read a public ``.pth`` of the given ``layout`` (a key of :data:`CONVERTERS`)."""
    if layout not in CONVERTERS:
        raise ValueError(f"unknown checkpoint layout {layout!r} ({', '.join(CONVERTERS)})")
    return CONVERTERS[layout](read_torch_file(path), source=str(path))
