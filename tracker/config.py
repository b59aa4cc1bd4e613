"""Frozen dataclass configurations: one object per model, passed in, never global.

A config is plain data; ``replace`` (or :func:`with_overrides`) makes a modified copy.
Configs load from YAML/JSON files and ``key=value`` overrides, so a released model is
one small file, as in pysot, but with types and without a mutable global.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple, Union

import yaml

from .errors import ConfigError
from .geometry import CROPS


@dataclass(frozen=True)
class BackboneConfig:
    """Which feature extractor, and its width."""

    name: str = "alexnet_siamfc"  # alexnet_siamfc | alexnet_legacy | light | mobilenet_s16 | mobilenetv2
    width: float = 1.0
    blocks: int = 0  # mobilenetv2: where to cut it (feature blocks kept, stem included; 0 = 7, stride 8)
    deep_blocks: int = 0  # mobilenetv2: run on to this block at half resolution, upsampled and stacked (0 = none)


@dataclass(frozen=True)
class NeckConfig:
    """pysot's adjust layer between backbone and head: a 1x1 convolution (+ BatchNorm) to
    ``out_channels``, trained on top of a pretrained backbone; it also makes the
    correlation cheaper. 0 = none."""

    out_channels: int = 0


@dataclass(frozen=True)
class HeadConfig:
    """Which Siamese head. ``kind``: ``xcorr`` (SiamFC), ``rpn_upchannel``, ``rpn_dw``, ``rpn_light``,
    ``rpn_pixelwise`` (anchors) or ``box`` (anchor-free, the ``siamban`` tracker)."""

    kind: str = "xcorr"
    in_channels: int = 256
    hidden: int = 256
    anchor_num: int = 5
    out_scale: float = 0.001  # SiamFC response scale
    template_crop: int = 0  # centre-crop template features to this size (0 = keep)
    tower_layers: int = 4  # box head: depthwise-separable 3x3 layers per branch after the correlation


@dataclass(frozen=True)
class AnchorConfig:
    stride: int = 8
    ratios: Tuple[float, ...] = (0.33, 0.5, 1.0, 2.0, 3.0)
    scales: Tuple[float, ...] = (8.0,)


SCALE_SEARCHES = ("crops", "templates")


def _check_crop(section: str, crop: str) -> None:
    if crop not in CROPS:
        raise ConfigError(f"{section}.crop must be one of {', '.join(CROPS)}, got {crop!r}")


@dataclass(frozen=True)
class SiamFCParams:
    """Post-processing of SiamFC (Bertinetto et al. 2016; siamfc-pytorch values)."""

    exemplar_size: int = 127
    instance_size: int = 255
    total_stride: int = 8
    response_up: int = 16
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_lr: float = 0.59
    scale_penalty: float = 0.9745
    window_influence: float = 0.176
    context: float = 0.5
    min_size: float = 4.0  # never let the box collapse below this many pixels
    # how the scale pyramid is searched: "crops" (SiamFC's: scale_num search crops, one
    # backbone pass each, every frame) or "templates" (scale_num exemplar kernels made once
    # at init, correlated with one search crop: a third of the backbone work per frame)
    scale_search: str = "crops"
    # how crops are cut: "exact" (one sub-pixel warp) or "siamfc-pytorch" (its integer-grid
    # crop_and_resize, up to half a pixel off centre), to give a converted siamfc-pytorch
    # checkpoint that tracker's boxes (see tracker.geometry.square_crop)
    crop: str = "exact"

    def __post_init__(self) -> None:
        if self.scale_search not in SCALE_SEARCHES:
            raise ConfigError(f"siamfc.scale_search must be one of {', '.join(SCALE_SEARCHES)}, got {self.scale_search!r}")
        _check_crop("siamfc", self.crop)


@dataclass(frozen=True)
class SiamRPNParams:
    """Post-processing of SiamRPN (Li et al. 2018; pysot ``siamrpn_alex_dwxcorr`` values)."""

    exemplar_size: int = 127
    instance_size: int = 287
    penalty_k: float = 0.16
    window_influence: float = 0.40
    lr: float = 0.30
    context: float = 0.5
    min_size: float = 10.0
    # 0 takes the best anchor's box (pysot); > 0 blends the boxes around it (see blend_peak)
    peak_blend: float = 0.0
    # how crops are cut: "exact" (one sub-pixel warp) or "pysot" (its get_subwindow, about a
    # pixel up-left of centre; boxes then reported as pysot does, cx - w/2), to give a
    # converted pysot checkpoint that tracker's boxes (see tracker.geometry.square_crop)
    crop: str = "exact"

    def __post_init__(self) -> None:
        _check_crop("siamrpn", self.crop)


@dataclass(frozen=True)
class SiamBANParams(SiamRPNParams):
    """Post-processing of the anchor-free box head: SiamRPN's (change penalty, cosine window,
    damped size), each cell's box decoded from its four distances. Defaults: NanoTrack v2's
    published ``configv2.yaml`` (window 0.49, penalty 0.15, lr 0.385)."""

    penalty_k: float = 0.15
    window_influence: float = 0.49
    lr: float = 0.385
    total_stride: int = 8


@dataclass(frozen=True)
class LostParams:
    """Lost-target detection and long-term re-detection.

    ``ok`` turns False when the best score falls below ``threshold``. In ``longterm`` mode
    the tracker then freezes its box, searches a crop of ``lost_instance_size`` pixels at
    the same scale (up to the whole frame) without the motion window, and declares the
    target found again when the score reaches ``recover_threshold``.
    """

    threshold: float = 0.3
    longterm: bool = False
    lost_instance_size: int = 767
    recover_threshold: float = 0.6


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model and its tracker from a checkpoint."""

    name: str = "siamfc"
    tracker: str = "siamfc"  # siamfc | siamrpn | siamban
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    neck: NeckConfig = field(default_factory=NeckConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    anchors: AnchorConfig = field(default_factory=AnchorConfig)
    siamfc: SiamFCParams = field(default_factory=SiamFCParams)
    siamrpn: SiamRPNParams = field(default_factory=SiamRPNParams)
    siamban: SiamBANParams = field(default_factory=SiamBANParams)
    lost: LostParams = field(default_factory=LostParams)
    input_order: str = "bgr"  # channel order the network was trained on: bgr | rgb
    # the faster CPU runtime for this network (measured: benchmarks/results/speed.md); what
    # load_tracker(backend="auto") uses. onnxruntime wins big on mobile nets with a MatMul
    # correlation, loses on the stride-8 light net's 64-slice depthwise correlation.
    cpu_backend: str = "torch"  # torch | onnxruntime | openvino (onnxruntime where OpenVINO is not installed)

    @property
    def tracking(self) -> Union[SiamFCParams, SiamRPNParams]:
        """The post-processing parameters of this model's tracker (crop sizes and the rest)."""
        return {"siamfc": self.siamfc, "siamban": self.siamban}.get(self.tracker, self.siamrpn)

    @property
    def total_stride(self) -> int:
        """Crop pixels between neighbouring cells of the network's output maps."""
        return {"siamfc": self.siamfc.total_stride, "siamban": self.siamban.total_stride}.get(self.tracker, self.anchors.stride)

    @property
    def crops_per_frame(self) -> int:
        """Search crops per target and frame: SiamFC's scale pyramid of crops, else one."""
        return self.siamfc.scale_num if self.tracker == "siamfc" and self.siamfc.scale_search == "crops" else 1

    @property
    def kernels_per_target(self) -> int:
        """Template kernels per target: SiamFC's scale pyramid of templates, else one."""
        return self.siamfc.scale_num if self.tracker == "siamfc" and self.siamfc.scale_search == "templates" else 1


def to_dict(config: Any) -> Dict[str, Any]:
    """Nested plain-dict form (tuples become lists), for JSON/YAML and checkpoints."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def _typed(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the field's type ``hint`` (ints pass as floats), so a wrong
    type fails here, naming the key, and not as a TypeError frames later."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a mapping of {hint.__name__} values, got {value!r}")
        return _build(hint, value, where + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _typed(value, next(a for a in args if a is not type(None)), where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            raise ConfigError(f"{where} must hold {len(items)} values, got {len(value)}")
        return tuple(_typed(v, h, f"{where}[{i}]") for i, (v, h) in enumerate(zip(value, items)))
    if hint in (int, float, str, bool):
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if hint is float and numeric:
            return float(value)
        if not (isinstance(value, hint) and (numeric or hint in (str, bool))):
            raise ConfigError(f"{where} must be of type {hint.__name__}, got {value!r}")
    return tuple(value) if isinstance(value, list) else value


def _build(cls: type, data: Mapping[str, Any], prefix: str = "") -> Any:
    """Instantiate dataclass ``cls`` from a nested mapping, rejecting unknown keys and values of the wrong type."""
    kwargs = {}
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        if key not in hints:
            raise ConfigError(f"unknown config key {prefix + key!r} for {cls.__name__}")
        kwargs[key] = _typed(value, hints[key], f"{prefix}{key}")
    return cls(**kwargs)


def from_dict(data: Mapping[str, Any], cls: type = ModelConfig) -> Any:
    return _build(cls, data)


def with_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """Copy of ``config`` with dotted-key overrides, e.g. ``{"siamrpn.lr": 0.4}``."""
    data = to_dict(config)
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            if part not in node or not isinstance(node[part], dict):
                raise ConfigError(f"unknown config section {part!r} in {dotted!r}")
            node = node[part]
        if leaf not in node:
            raise ConfigError(f"unknown config key {dotted!r}")
        node[leaf] = value
    return from_dict(data, type(config))


def parse_overrides(items: Union[None, list]) -> Dict[str, Any]:
    """``["siamrpn.lr=0.4", ...]`` -> ``{"siamrpn.lr": 0.4}`` (values parsed as YAML scalars)."""
    result: Dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"override must be key=value, got {item!r}")
        key, raw = item.split("=", 1)
        result[key.strip()] = yaml.safe_load(raw)
    return result


def flatten(data: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"siamrpn": {"lr": 0.4}}`` -> ``{"siamrpn.lr": 0.4}`` (for partial YAML override files)."""
    flat: Dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def read_mapping(path: Union[str, Path]) -> Mapping[str, Any]:
    """The mapping in a YAML (or JSON) file; a missing, unreadable or malformed file is a ConfigError."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data or {}, Mapping):
        raise ConfigError(f"config file {path} must hold a mapping of config values, got {type(data).__name__}")
    return data or {}


def load_overrides_file(path: Union[str, Path]) -> Dict[str, Any]:
    """A YAML file of (possibly partial, nested) config values, as dotted overrides."""
    return flatten(read_mapping(path))


def load_config_file(path: Union[str, Path], cls: type = ModelConfig) -> Any:
    """Read a YAML or JSON config file into ``cls``."""
    return from_dict(read_mapping(path), cls)

