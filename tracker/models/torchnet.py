"""A PyTorch network behind the numpy :class:`~tracker.network.Network` interface.

On the CPU the crops become a float tensor by numpy's conversion (one thread: a tiny torch
op costs milliseconds when its thread pool waits for a core another process holds), an
NHWC buffer seen as NCHW, i.e. channels-last for the convolutions. On a GPU the uint8
bytes travel (4x less than floats), asynchronously from page-locked memory
(:class:`~tracker.models.cuda.HostStaging`), and the kernels a target keeps are uploaded
once, not every frame.
"""
from __future__ import annotations

from typing import Dict, Tuple, Union

import numpy as np
import torch

from .cuda import HostStaging

# uploaded kernels kept per network: a single tracker and a pool's few batch groups
_KERNEL_CACHE = 8


class TorchNet:
    """``template``/``track`` of a torch module (a :class:`~tracker.models.SiameseNet`, a
    :class:`~tracker.models.cuda.CudaNet`, any module with those two methods) on numpy arrays."""

    def __init__(self, module, device: Union[str, torch.device] = "cpu") -> None:
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        self.config = getattr(module, "config", None)
        self._staging = HostStaging(self.device) if self.device.type == "cuda" else None
        self._kernels: Dict[Tuple[int, ...], Tuple[Tuple[np.ndarray, ...], Tuple[torch.Tensor, ...]]] = {}

    def _pixels(self, crops: np.ndarray) -> torch.Tensor:
        if self._staging is None:
            return torch.from_numpy(np.ascontiguousarray(crops, dtype=np.float32)).permute(0, 3, 1, 2)
        return self._staging.upload(crops).permute(0, 3, 1, 2).float()  # bytes up, converted there

    def _device_kernels(self, kernels: Tuple[np.ndarray, ...]) -> Tuple[torch.Tensor, ...]:
        if self._staging is None:
            return tuple(torch.from_numpy(k) for k in kernels)
        key = tuple(id(k) for k in kernels)
        hit = self._kernels.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], kernels)):
            if len(self._kernels) >= _KERNEL_CACHE:
                self._kernels.pop(next(iter(self._kernels)))
            # the arrays stay referenced with their tensors, so their ids cannot be reused meanwhile
            hit = self._kernels[key] = (kernels, tuple(torch.from_numpy(k).to(self.device) for k in kernels))
        return hit[1]

    @staticmethod
    def set_threads(threads: int) -> None:
        """PyTorch's thread count is process-wide (the thread policy's setter, on the CPU)."""
        torch.set_num_threads(threads)

    @staticmethod
    def _host(outputs) -> Tuple[np.ndarray, ...]:
        return tuple(o.float().cpu().numpy() for o in outputs)

    def template(self, crops: np.ndarray) -> Tuple[np.ndarray, ...]:
        with torch.inference_mode():
            return self._host(self.module.template(self._pixels(crops)))

    def track(self, crops: np.ndarray, *kernels: np.ndarray) -> Tuple[np.ndarray, ...]:
        with torch.inference_mode():
            return self._host(self.module.track(self._pixels(crops), *self._device_kernels(kernels)))
