"""Optional dependencies, imported only by the features that need them.

The base install tracks with every shipped model on numpy, OpenCV and onnxruntime;
PyTorch (and onnx, for exporting) comes with the ``torch`` extra. A feature that needs it
fails with one line that names the extra, instead of an ImportError from deep inside.
"""
from __future__ import annotations

import importlib.util
from types import ModuleType

from .errors import MissingDependencyError

TORCH_EXTRA = 'pip install "siamtrack[torch]" (a CPU-only torch: pip install torch --index-url https://download.pytorch.org/whl/cpu)'


def torch_installed() -> bool:
    """Whether PyTorch can be imported, without importing it (that takes seconds)."""
    return importlib.util.find_spec("torch") is not None


def require_torch(feature: str) -> ModuleType:
    """``torch``, or a :class:`MissingDependencyError` saying that ``feature`` needs it."""
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(f"{feature} needs PyTorch, which is not installed: {TORCH_EXTRA}") from None
    return torch


def require_onnx(feature: str) -> ModuleType:
    """``onnx`` (the exporter's output format), or a one-line error naming the extra."""
    require_torch(feature)
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError(f"{feature} needs the onnx package, which is not installed: {TORCH_EXTRA}") from None
    return onnx


def openvino_installed() -> bool:
    """Whether OpenVINO (the ``openvino`` extra) can be imported, without importing it."""
    return importlib.util.find_spec("openvino") is not None


def require_openvino(feature: str) -> ModuleType:
    """``openvino``, or a one-line error naming the extra."""
    try:
        import openvino
    except ImportError:
        raise MissingDependencyError(f"{feature} needs OpenVINO, which is not installed: pip install \"siamtrack[openvino]\"") from None
    return openvino
