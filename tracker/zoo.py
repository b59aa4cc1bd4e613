"""The model zoo: named architectures (one YAML config each) and the weights we ship.

Shipped weights live in ``weights/`` at the repository root (or the folder named by
``$SIAMTRACK_WEIGHTS``), listed in ``weights/manifest.json`` with their sha256.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import torch

from .config import ModelConfig, load_config_file, with_overrides
from .errors import CheckpointError, ConfigError, DeviceError, UnknownModelError
from .models.checkpoint import Checkpoint, load_checkpoint, sha256_of
from .models.cuda import CudaNet
from .models.fuse import optimize_for_inference
from .trackers import SiameseTracker, build_tracker
from .threads import ThreadPolicy
from .trackers.base import resolve_device

log = logging.getLogger(__name__)
CONFIG_DIR = Path(__file__).resolve().parent / "configs"


def architectures() -> List[str]:
    """Every model name with a config, shipped weights or not."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def model_config(name: str) -> ModelConfig:
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UnknownModelError(f"unknown model {name!r}; known: {', '.join(architectures())}")
    return load_config_file(path)


def weights_dir() -> Path:
    env = os.environ.get("SIAMTRACK_WEIGHTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "weights"


def manifest() -> Dict[str, Any]:
    path = weights_dir() / "manifest.json"
    if not path.is_file():
        return {"models": {}}
    return json.loads(path.read_text())


def list_models() -> List[str]:
    """Names of the shipped models (``load_tracker`` accepts them without ``weights=``)."""
    models = manifest().get("models", {})
    return sorted(name for name, entry in models.items() if (weights_dir() / entry["file"]).is_file())


def shipped_weights(name: str, verify: bool = False) -> Path:
    entry = manifest().get("models", {}).get(name)
    if entry is None:
        if name not in architectures():
            raise UnknownModelError(f"unknown model {name!r}; shipped: {', '.join(list_models()) or 'none'}")
        raise CheckpointError(
            f"no shipped weights for {name!r} yet (shipped: {', '.join(list_models()) or 'none'}); "
            "pass weights=PATH, e.g. a checkpoint from `siamtrack train`"
        )
    path = weights_dir() / entry["file"]
    if not path.is_file():
        raise CheckpointError(f"shipped weights for {name!r} are missing: {path}")
    if verify and sha256_of(path) != entry["sha256"]:
        raise CheckpointError(f"shipped weights {path} do not match the sha256 in the manifest")
    return path


def load_model(name: Optional[str] = None, weights: Union[str, Path, None] = None) -> Checkpoint:
    """Resolve ``name``/``weights`` to a checkpoint (weights win; their config is authoritative)."""
    if weights is None:
        if name is None:
            raise ValueError("give a model name or weights=PATH")
        ckpt = load_checkpoint(shipped_weights(name))
    else:
        ckpt = load_checkpoint(weights)
        if name is not None and name in architectures():
            expected = model_config(name)
            if (ckpt.config.backbone, ckpt.config.head.kind) != (expected.backbone, expected.head.kind):
                raise CheckpointError(
                    f"{weights} holds a {ckpt.config.name!r} model ({ckpt.config.backbone.name}/"
                    f"{ckpt.config.head.kind}), not {name!r}"
                )
    return ckpt


BACKENDS = ("auto", "torch", "onnxruntime")


def onnxruntime_available() -> bool:
    try:
        import onnx  # noqa: F401  (the in-memory export)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


# the shipped default: ImageNet MobileNetV2 features, val AUC 0.59 (light_fc_fast 0.51) at its speed (README, "Models")
DEFAULT_MODEL = "mobilenet_fc"


def load_tracker(
    name: Optional[str] = None,
    weights: Union[str, Path, None] = None,
    device: Union[str, torch.device, None] = "cpu",
    config: Optional[ModelConfig] = None,
    fast: bool = True,
    backend: str = "auto",
    threads: Optional[int] = None,
    overrides: Optional[Mapping[str, Any]] = None,
    half: bool = False,
    max_threads: Optional[int] = None,
) -> SiameseTracker:
    """A ready tracker: ``load_tracker("siamfc")``, ``load_tracker(weights="run/best.pt")``;
    ``load_tracker()`` is the shipped default, ``DEFAULT_MODEL``.

    ``config`` replaces the checkpoint's tracking hyper-parameters (it must describe the
    same network); ``overrides`` changes some of them, ``{"siamrpn.lr": 0.2}``. ``fast``
    folds BatchNorm and uses channels-last convolutions. ``backend`` runs the network in
    ``"torch"`` or, on the CPU, ``"onnxruntime"`` (the network exported in memory);
    ``"auto"`` takes the model's measured faster CPU runtime (``cpu_backend`` of its
    config: onnxruntime, 1.5-2x eager torch, for the light models) when ``fast`` is set.
    Every path computes the same network up to float rounding, and the tracker keeps its
    centre on the crop grid so that rounding does not compound: the paths give the same
    boxes over whole sequences (benchmarks/results/export.md), bar a rare straddle of a
    grid line at a point where the track is ambiguous anyway. ``fast=False`` runs the
    network exactly as trained.

    On the CPU the runtime's thread count follows the machine's load
    (:class:`~tracker.threads.ThreadPolicy`: the cores nobody else is using at load, at
    most ``max_threads``, corrected while tracking); ``threads`` fixes it instead. The
    torch backend's count is PyTorch's process-wide one (``torch.set_num_threads``).

    On a CUDA ``device`` with ``fast`` the search branch is replayed from CUDA graphs and
    crops are uploaded from pinned memory (:mod:`tracker.models.cuda`); ``half`` adds fp16
    autocast there.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r} ({', '.join(BACKENDS)})")
    dev = resolve_device(device)  # before any loading: a bad device fails at once
    ckpt = load_model(DEFAULT_MODEL if name is None and weights is None else name, weights)
    if config is not None:
        if (config.backbone, config.head) != (ckpt.config.backbone, ckpt.config.head):
            raise CheckpointError("config describes a different network than the checkpoint")
        ckpt.config = config
    if overrides:
        ckpt.config = with_overrides(ckpt.config, overrides)
    net = ckpt.build()
    if half and not (fast and dev.type == "cuda"):
        raise DeviceError("half=True (--half) is the fast CUDA path: it needs device='cuda' and fast=True")
    if backend == "auto":
        wanted = ckpt.config.cpu_backend
        if wanted not in ("torch", "onnxruntime"):
            raise ConfigError(f"cpu_backend must be torch or onnxruntime, got {wanted!r}")
        backend = "onnxruntime" if wanted == "onnxruntime" and fast and dev.type == "cpu" and onnxruntime_available() else "torch"
    if backend == "onnxruntime":
        if dev.type != "cpu":
            raise DeviceError(f"the onnxruntime backend runs on the CPU, not on {dev}")
        if not onnxruntime_available():
            raise ImportError("backend='onnxruntime' needs the onnx and onnxruntime packages (pip install onnx onnxruntime)")
        from .export.runtime import ExportedNet

        policy = ThreadPolicy(max_threads, forced=threads)
        return build_tracker(ExportedNet.from_network(net, policy.threads), ckpt.config, "cpu", policy)
    if fast:
        net = optimize_for_inference(net, dev)
        if dev.type == "cuda":
            net = CudaNet(net, dev, half=half)
    return build_tracker(net, ckpt.config, dev, ThreadPolicy(max_threads, forced=threads) if dev.type == "cpu" else None)
