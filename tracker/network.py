"""The one interface between the tracker core and a network runtime: numpy in, numpy out.

``template(crops)`` maps exemplar crops to their targets' kernels (once per target);
``track(crops, *kernels)`` maps search crops and those kernels to the head's outputs (every
frame). Crops are ``(N, H, W, 3)`` pixels 0-255 in the network's channel order (uint8 from
the trackers); kernels and outputs are float32 arrays, batch first. PyTorch on the CPU or a
GPU (:class:`tracker.models.torchnet.TorchNet`), onnxruntime, OpenCV DNN and OpenVINO
(:class:`tracker.export.runtime.ExportedNet`) implement it, so crops, windows, scales,
anchors and the lost logic are one numpy code path, and tracking needs no torch.
"""
from __future__ import annotations

import re
import sys
from typing import Any, Protocol, Tuple

import numpy as np

from .errors import DeviceError
from .extras import require_torch, torch_installed

# device types torch knows that the trackers do not run on
_OTHER_TORCH_DEVICES = ("mps", "xpu", "xla", "meta", "hip", "ipu", "hpu", "mtia", "vulkan", "lazy", "privateuseone")


class Network(Protocol):
    def template(self, crops: np.ndarray) -> Tuple[np.ndarray, ...]:
        """Exemplar crops ``(B, h, w, 3)`` -> per-target kernels."""

    def track(self, crops: np.ndarray, *kernels: np.ndarray) -> Tuple[np.ndarray, ...]:
        """Search crops ``(B*S, H, W, 3)`` and kernels ``(B, ...)`` -> ``(score,)`` or ``(cls, loc)``."""


def as_network(net: Any, device: str = "cpu") -> Network:
    """``net`` behind the numpy interface: a torch module (or :class:`~tracker.models.cuda.CudaNet`)
    is wrapped, on ``device``; any other runtime is taken as it is."""
    torch = sys.modules.get("torch")  # a torch module exists only where torch is loaded already
    if torch is not None:
        from .models.cuda import CudaNet
        from .models.torchnet import TorchNet

        if isinstance(net, (torch.nn.Module, CudaNet)):
            return TorchNet(net, device)
    return net


def resolve_device(device: Any) -> str:
    """``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (a ``torch.device`` too); ``None``/``"auto"``
    picks CUDA when torch sees one. A device that is not here is a clear error; only CUDA
    needs torch to check."""
    if device is None or device == "auto":
        if not torch_installed():
            return "cpu"
        return "cuda" if require_torch("device='auto'").cuda.is_available() else "cpu"
    text = str(device)
    match = re.fullmatch(r"([a-z_]+)(:\d+)?", text)
    kind = match.group(1) if match else None
    if kind == "cpu" and match.group(2) is None:
        return "cpu"
    if kind == "cuda":
        torch = require_torch(f"device {text!r}")
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
            raise DeviceError(f"device {text!r} was requested but no CUDA device is available (torch {torch.__version__} is {build})")
        return text
    if kind in _OTHER_TORCH_DEVICES:
        raise DeviceError(f"device {text!r} is not supported (cpu, cuda, cuda:N or auto)")
    raise DeviceError(f"unknown device {device!r} (cpu, cuda, cuda:N or auto)")
