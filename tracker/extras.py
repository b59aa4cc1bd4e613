"""Optional dependencies, imported only by the features that need them.

The base install tracks with every shipped model on numpy, OpenCV and onnxruntime;
PyTorch (and onnx, for exporting) comes with the ``torch`` extra. A feature that needs it
fails with one line that names the extra, instead of an ImportError from deep inside.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import MissingDependencyError

TORCH_EXTRA = 'pip install "siamtrack[torch]" (a CPU-only torch: pip install torch --index-url https://download.pytorch.org/whl/cpu)'


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (torch takes seconds)."""
    return importlib.util.find_spec(module) is not None


def _require(module: str, feature: str, package: str, how: str) -> ModuleType:
    """``module``, or a :class:`MissingDependencyError` saying that ``feature`` needs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"{feature} needs {package}, which is not installed: {how}") from None


def torch_installed() -> bool:
    return _installed("torch")


def openvino_installed() -> bool:
    """Whether OpenVINO (the ``openvino`` extra) can be imported."""
    return _installed("openvino")


def require_torch(feature: str) -> ModuleType:
    return _require("torch", feature, "PyTorch", TORCH_EXTRA)


def require_onnx(feature: str) -> ModuleType:
    """``onnx`` (the exporter's output format), or a one-line error naming the extra."""
    require_torch(feature)
    return _require("onnx", feature, "the onnx package", TORCH_EXTRA)


def require_openvino(feature: str) -> ModuleType:
    return _require("openvino", feature, "OpenVINO", 'pip install "siamtrack[openvino]"')


def require_aiohttp(feature: str) -> ModuleType:
    """aiohttp (the ``serve`` extra: ``siamtrack serve``'s web server), or a one-line error naming the extra."""
    return _require("aiohttp", feature, "aiohttp", 'pip install "siamtrack[serve]"')
