"""The model zoo: named architectures (one YAML config each) and the weights we ship.

Shipped weights live in ``weights/`` at the repository root, installed as ``tracker/weights/``
by a wheel or an sdist (or in the folder named by ``$SIAMTRACK_WEIGHTS``), listed in
``manifest.json`` there with their sha256, their config and their ONNX graphs: a shipped
model loads and tracks on onnxruntime from the manifest and the graphs alone, without torch. The ``.pt`` checkpoints are for PyTorch
(``backend="torch"``, CUDA, training, export).
"""
from __future__ import annotations

import json
import logging
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from .config import ModelConfig, from_dict, load_config_file, to_dict, with_overrides
from .digest import sha256_of
from .errors import CheckpointError, ConfigError, DeviceError, UnknownModelError
from .export import cache as graph_cache
from .extras import openvino_installed, require_onnx, require_openvino, require_torch, torch_installed
from .network import resolve_device
from .threads import ThreadPolicy
from .trackers import SiameseTracker, build_tracker

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_DIR = PACKAGE_DIR / "configs"


def architectures() -> List[str]:
    """Every model name with a config, shipped weights or not."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def model_config(name: str) -> ModelConfig:
    path = CONFIG_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UnknownModelError(f"unknown model {name!r}; known: {', '.join(architectures())}")
    return load_config_file(path)


def weights_dir() -> Path:
    """``$SIAMTRACK_WEIGHTS``, else the weights an installed wheel carries (``tracker/weights/``),
    else the checkout's ``weights/`` (a source tree or an editable install)."""
    env = os.environ.get("SIAMTRACK_WEIGHTS")
    if env:
        return Path(env)
    packaged = PACKAGE_DIR / "weights"
    if (packaged / "manifest.json").is_file():
        return packaged
    return PACKAGE_DIR.parent / "weights"


def manifest() -> Dict[str, Any]:
    path = weights_dir() / "manifest.json"
    if not path.is_file():
        return {"models": {}}
    return json.loads(path.read_text())


def list_models() -> List[str]:
    """Names of the shipped models (``load_tracker`` accepts them without ``weights=``)."""
    models = manifest().get("models", {})
    return sorted(name for name, entry in models.items() if (weights_dir() / entry["file"]).is_file())


@dataclass(frozen=True)
class ModelInfo:
    """What to choose a shipped model by (the manifest's ``about`` says how each was measured)."""

    name: str
    description: str
    val_auc: Optional[float]  # success AUC on the 29 sot/val sequences
    fps: Optional[float]  # end to end at 640x480 on the project's 2-core CPU


def model_infos() -> List[ModelInfo]:
    """Every shipped model's one-line description, val AUC and fps, from the manifest."""
    models = manifest().get("models", {})
    return [ModelInfo(name, models[name].get("description", ""), models[name].get("val_auc"), models[name].get("fps"))
            for name in list_models()]


def shipped_entry(name: str) -> Dict[str, Any]:
    """The manifest's record of a shipped model: file, sha256, config, graphs, provenance."""
    entry = manifest().get("models", {}).get(name)
    if entry is None:
        if name not in architectures():
            raise UnknownModelError(f"unknown model {name!r}; shipped: {', '.join(list_models()) or 'none'}")
        raise CheckpointError(
            f"no shipped weights for {name!r} yet (shipped: {', '.join(list_models()) or 'none'}); "
            "pass weights=PATH, e.g. a checkpoint from `siamtrack train`"
        )
    return entry


def shipped_config(name: str) -> ModelConfig:
    """A shipped model's config, read from the manifest (no torch)."""
    try:
        return from_dict(shipped_entry(name)["config"])
    except (KeyError, ConfigError) as exc:
        raise CheckpointError(f"weights/manifest.json has no valid config for {name!r}: {exc}") from None


def shipped_weights(name: str, verify: bool = False) -> Path:
    entry = shipped_entry(name)
    path = weights_dir() / entry["file"]
    if not path.is_file():
        raise CheckpointError(f"shipped weights for {name!r} are missing: {path}")
    if verify:
        if sha256_of(path) != entry["sha256"]:
            raise CheckpointError(f"shipped weights {path} do not match the sha256 in the manifest")
    return path


def load_model(name: Optional[str] = None, weights: Union[str, Path, None] = None):
    """Resolve ``name``/``weights`` to a :class:`~tracker.models.checkpoint.Checkpoint`
    (weights win; their config is authoritative). Reading a ``.pt`` file needs torch."""
    if weights is None:
        if name is None:
            raise ValueError("give a model name or weights=PATH")
        path = shipped_weights(name)
    else:
        path = Path(weights)
        if not path.is_file():  # before importing torch: a typo fails at once
            raise CheckpointError(f"checkpoint not found: {path}")
    require_torch(f"reading the checkpoint {path}")
    from .models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    if weights is not None:
        check_architecture(name, weights, ckpt.config)
    return ckpt


def check_architecture(name: Optional[str], weights: Union[str, Path], config: ModelConfig) -> None:
    """``weights`` (whose config is ``config``) must hold the network ``name`` names, if any."""
    if name is not None and name in architectures():
        expected = model_config(name)
        if (config.backbone, config.head.kind) != (expected.backbone, expected.head.kind):
            raise CheckpointError(f"{weights} holds a {config.name!r} model ({config.backbone.name}/{config.head.kind}), not {name!r}")


def check_model_options(name: Optional[str], weights: Union[str, Path, None] = None,
                        overrides: Optional[Mapping[str, Any]] = None) -> None:
    """Fail as :func:`load_tracker` would on a model name, weights file or override that is
    wrong, without building anything: commands check their arguments before the seconds of
    opening a video or loading a model. A ``weights=`` checkpoint is read (torch needed, as
    for loading it): a torn or foreign file fails here, before any work."""
    cfg = shipped_config(name or DEFAULT_MODEL) if weights is None else load_model(name, weights).config
    if overrides:
        with_overrides(cfg, overrides)
        check_override_sections(cfg, overrides)


# the post-processing sections of ModelConfig, each read by one kind of tracker only
TRACKER_SECTIONS = ("siamfc", "siamrpn", "siamban")


def override_applies(cfg: ModelConfig, key: str) -> bool:
    """False for a key of the other tracker's section (``siamrpn.lr`` on a SiamFC model)."""
    section = key.split(".", 1)[0]
    return section not in TRACKER_SECTIONS or section == cfg.tracker


def check_override_sections(cfg: ModelConfig, overrides: Mapping[str, Any]) -> None:
    """An override the model's tracker never reads would be accepted and change nothing."""
    for key in overrides:
        if not override_applies(cfg, key):
            raise ConfigError(f"{key}: {key.split('.', 1)[0]}.* does not apply to model {cfg.name} (a {cfg.tracker} tracker)")


BACKENDS = ("auto", "torch", "onnxruntime", "openvino")


def _graph_shapes(cfg: ModelConfig) -> Tuple[Any, ...]:
    """What fixes the shipped graphs' shapes: a config that changes any of it (an override
    of ``siamfc.scale_search``, say) needs graphs exported for it."""
    return cfg.backbone, cfg.neck, cfg.head, cfg.tracker, cfg.tracking.exemplar_size, cfg.kernels_per_target


def _auto_backend(cfg: ModelConfig, device: str, fast: bool) -> str:
    """The model's measured faster CPU runtime (``cpu_backend``); onnxruntime without torch,
    and in place of OpenVINO where the ``openvino`` extra is not installed."""
    wanted = cfg.cpu_backend
    if wanted not in ("torch", "onnxruntime", "openvino"):
        raise ConfigError(f"cpu_backend must be torch, onnxruntime or openvino, got {wanted!r}")
    if device == "cpu" and fast and wanted == "openvino":
        return "openvino" if openvino_installed() else "onnxruntime"
    if device == "cpu" and fast and (wanted == "onnxruntime" or not torch_installed()):
        return "onnxruntime"
    return "torch"


# the shipped default: ImageNet MobileNetV2 features, val AUC 0.59 (light_fc_fast 0.51) at its speed (README, "Models")
DEFAULT_MODEL = "mobilenet_fc"


def load_tracker(
    name: Optional[str] = None,
    weights: Union[str, Path, None] = None,
    device: Any = "cpu",
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
    same network); ``overrides`` changes some of them, ``{"siamrpn.lr": 0.2}``. ``backend``
    runs the network in ``"torch"`` or, on the CPU, ``"onnxruntime"``: a shipped model on
    the graphs shipped with it (no export, no torch), a ``weights=`` checkpoint exported in
    memory once (its graphs are kept by :mod:`tracker.export.cache` for the next load); ``"openvino"`` runs a shipped model's graphs in OpenVINO (the ``openvino``
    extra). ``"auto"`` takes the model's measured faster CPU runtime (``cpu_backend`` of
    its config: onnxruntime, 1.5-2x eager torch, for the light models; a config's
    ``openvino`` falls back to onnxruntime where OpenVINO is not installed) when ``fast`` is
    set, and onnxruntime wherever torch is not installed. ``fast`` folds BatchNorm and uses
    channels-last convolutions in torch; ``fast=False`` runs the network exactly as trained.
    Every path computes the same network up to float rounding, and the tracker keeps its
    centre on the crop grid so that rounding does not compound: the paths give the same
    boxes over whole sequences (benchmarks/results/export.md), bar a rare straddle of a
    grid line at a point where the track is ambiguous anyway.

    On the CPU the runtime's thread count follows the machine's load
    (:class:`~tracker.threads.ThreadPolicy`: the cores nobody else is using at load, at
    most ``max_threads``, corrected while tracking); ``threads`` fixes it instead. The
    torch backend's count is PyTorch's process-wide one (``torch.set_num_threads``).

    On a CUDA ``device`` with ``fast`` the search branch is replayed from CUDA graphs and
    crops are uploaded from pinned memory (:mod:`tracker.models.cuda`); ``half`` adds fp16
    autocast there. PyTorch is needed for ``weights=`` (a ``.pt`` file), ``backend="torch"``,
    ``fast=False`` and CUDA: without it they raise a one-line
    :class:`~tracker.errors.MissingDependencyError` naming the ``torch`` extra.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r} ({', '.join(BACKENDS)})")
    for option, count in (("threads", threads), ("max_threads", max_threads)):
        if count is not None and (isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1):
            raise ConfigError(f"{option} must be a whole number >= 1 (or None: follow the machine's load), got {count!r}")
    dev = resolve_device(device)  # before any loading: a bad device fails at once
    if half and not (fast and dev.startswith("cuda")):
        raise DeviceError("half=True (--half) is the fast CUDA path: it needs device='cuda' and fast=True")
    if name is None and weights is None:
        name = DEFAULT_MODEL
    # a checkpoint exported before is not read again (no torch): its config is in the graph cache
    recorded = graph_cache.recorded_config(weights) if weights is not None else None
    if recorded is not None:
        check_architecture(name, weights, recorded)
    ckpt = None if weights is None or recorded is not None else load_model(name, weights)
    entry = shipped_entry(name) if weights is None else None
    shipped = shipped_config(name) if weights is None else recorded or ckpt.config
    cfg = shipped
    if config is not None:
        if (config.backbone, config.head) != (cfg.backbone, cfg.head):
            raise CheckpointError("config describes a different network than the checkpoint")
        cfg = config
    if overrides:
        cfg = with_overrides(cfg, overrides)
        check_override_sections(cfg, overrides)
    chosen = backend == "auto"
    if chosen:
        backend = _auto_backend(cfg, dev, fast)
    policy = ThreadPolicy(max_threads, forced=threads) if dev == "cpu" else None
    if backend in ("onnxruntime", "openvino"):
        from .export.runtime import ExportedNet

        if dev != "cpu":
            raise DeviceError(f"the {backend} backend runs on the CPU, not on {dev}")
        if backend == "openvino":
            require_openvino("backend='openvino'")
        graphs = entry.get("graphs") if entry is not None else None
        if graphs is not None and _graph_shapes(cfg) == _graph_shapes(shipped):
            if graphs.get("weights_sha256") != entry["sha256"]:
                raise CheckpointError(f"the shipped graphs of {name!r} were exported from other weights: "
                                      f"run python scripts/ship_graphs.py --name {name}")
            runtime = "openvino" if backend == "openvino" else "onnxruntime"
            return build_tracker(ExportedNet.from_shipped(graphs, entry["config"], weights_dir(), policy.threads, runtime), cfg, "cpu", policy)
        if backend == "openvino" and not chosen:
            raise ConfigError("backend='openvino' runs a shipped model's graphs; for weights=PATH or overrides that change "
                              "their shapes use onnxruntime, or `siamtrack export --format openvino` and load_exported_tracker")
        source, shapes = weights if weights is not None else shipped_weights(name), _graph_shapes(cfg)
        net = graph_cache.cached_net(source, shapes, cfg, policy.threads)
        if net is None:
            require_onnx("an onnxruntime tracker on weights=PATH or on overrides that change the shipped graphs' shapes (an in-memory export)")
            ckpt = ckpt or load_model(name, weights)
            recorded_dict = to_dict(ckpt.config)
            ckpt.config = cfg
            net = graph_cache.export_and_keep(source, shapes, recorded_dict, ckpt.build(), policy.threads)
        return build_tracker(net, cfg, "cpu", policy)
    torch = require_torch("backend='torch'" if fast else "fast=False (the network exactly as trained)")
    from .models.cuda import CudaNet
    from .models.fuse import optimize_for_inference
    from .models.torchnet import TorchNet

    ckpt = ckpt or load_model(name, weights)
    ckpt.config = cfg
    net = ckpt.build()
    if fast:
        net = optimize_for_inference(net, torch.device(dev))
        if dev.startswith("cuda"):
            net = CudaNet(net, dev, half=half)
    return build_tracker(TorchNet(net, dev), cfg, dev, policy)
