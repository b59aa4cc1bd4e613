"""siamtrack checkpoints: weights + the model config + metadata, in one ``torch.save`` file.

Loading never unpickles arbitrary objects (``weights_only=True``), and every failure -
missing file, truncated or corrupt file, a checkpoint of another model - is a
:class:`~tracker.errors.CheckpointError` that names the file and the problem.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import torch

from ..config import ModelConfig, from_dict, to_dict
from ..errors import CheckpointError
from .siamese import SiameseNet

FORMAT = "siamtrack-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    config: ModelConfig
    state_dict: Dict[str, torch.Tensor]
    meta: Dict[str, Any] = field(default_factory=dict)

    def build(self) -> SiameseNet:
        """A network with these weights, in eval mode."""
        net = SiameseNet(self.config)
        load_state_strict(net, self.state_dict, source=self.meta.get("source", "checkpoint"))
        return net.eval()


def atomic_torch_save(obj: Any, path: Union[str, Path]) -> None:
    """Write to a temporary file then rename, so an interrupted save never leaves a torn file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(path: Union[str, Path], net: SiameseNet, meta: Optional[Mapping[str, Any]] = None) -> None:
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    atomic_torch_save(
        {"format": FORMAT, "version": VERSION, "config": to_dict(net.config), "state_dict": state, "meta": dict(meta or {})},
        path,
    )


def read_torch_file(path: Union[str, Path]) -> Any:
    """``torch.load`` with the failures a user can cause turned into ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint is empty: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for torn or foreign files
        # torch's own message advises weights_only=False: unsafe, and not what a user should do here
        if "can still be loaded" in str(exc):  # a whole pickle: Python objects beside the tensors
            raise CheckpointError(f"{path} is a torch file of pickled Python objects, which siamtrack does not unpickle; "
                                  "convert siamfc-pytorch or pysot files with `siamtrack convert`") from None
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated, corrupt or not a torch file)") from None


def load_checkpoint(path: Union[str, Path]) -> Checkpoint:
    data = read_torch_file(path)
    if isinstance(data, dict) and {"net", "optimizer", "model_config"} <= set(data):
        raise CheckpointError(f"{path} is a training state (for `siamtrack train --resume`), not a model checkpoint; "
                              "use model_best.pt or model_last.pt from the same run folder")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a siamtrack checkpoint; for siamfc-pytorch or pysot files use "
            "tracker.models.convert (or `siamtrack convert`)"
        )
    if data.get("version", 0) > VERSION:
        raise CheckpointError(f"{path} has checkpoint version {data['version']}, newer than this siamtrack ({VERSION})")
    try:
        config = from_dict(data["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has an invalid model config: {exc}") from exc
    meta = dict(data.get("meta") or {})
    meta.setdefault("source", str(path))
    return Checkpoint(config=config, state_dict=data["state_dict"], meta=meta)


def load_state_strict(net: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load weights, failing with a readable list of missing/unexpected/mis-shaped keys."""
    own = net.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    mis_shaped = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or mis_shaped:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if mis_shaped:
            parts.append(f"{len(mis_shaped)} shape mismatches (e.g. {mis_shaped[:2]})")
        raise CheckpointError(f"{source} does not match the model architecture: " + "; ".join(parts))
    net.load_state_dict(state_dict)
