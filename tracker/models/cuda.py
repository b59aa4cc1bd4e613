"""The GPU runtime of a :class:`SiameseNet`: half precision through autocast, and every
search-call shape captured once as a CUDA graph and replayed after that.

A tracker's search call is a few dozen small kernels on a tiny batch, so on a fast GPU the
time goes to launching them from Python, not to computing: a CUDA graph replays the whole
recorded sequence with one launch. Pools call with a varying number of targets; batches
are padded up to a power of two so a handful of graphs serve every pool size.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Tuple

import torch

from .siamese import SiameseNet

log = logging.getLogger(__name__)

Shape = Tuple[Tuple[int, ...], ...]


def padded_batch(n: int) -> int:
    """The batch a graph is captured for: ``n`` rounded up to a power of two."""
    return 1 << max(0, n - 1).bit_length()


class _Captured:
    """One recorded search call: static inputs, the graph, and its static outputs."""

    def __init__(self, run, inputs: List[torch.Tensor], warmup: int) -> None:
        self.inputs = inputs
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # lets cuDNN pick its algorithms before recording
            for _ in range(warmup):
                run(*self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.outputs = run(*self.inputs)

    def __call__(self, inputs: List[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        for static, value in zip(self.inputs, inputs):
            static[: value.shape[0]].copy_(value, non_blocking=True)
        self.graph.replay()
        return self.outputs


class CudaNet:
    """``template(z)``/``track(x, *kernels)`` of ``net`` on a CUDA device.

    ``half`` runs the network under ``torch.autocast(float16)`` (convolutions and matmuls
    in fp16, reductions and the outputs in fp32); ``graphs`` replays ``track`` from CUDA
    graphs. Both keep the call signature, so trackers and pools use it like the module.
    Returned tensors of a graph replay are only valid until the next ``track`` call (the
    trackers copy them to the host at once).
    """

    def __init__(self, net: SiameseNet, device: torch.device, half: bool = False, graphs: bool = True, warmup: int = 3) -> None:
        device = torch.device(device)
        if device.type != "cuda":
            raise ValueError(f"CudaNet runs on a CUDA device, not on {device}")
        self.net = net.to(device).eval()
        self.config = net.config
        self.device = device
        self.half = half
        self.graphs = graphs
        self.warmup = warmup
        self._captured: Dict[Shape, _Captured] = {}

    @property
    def is_rpn(self) -> bool:
        return self.net.is_rpn

    # the tracker treats the network like a torch module
    def to(self, *args, **kwargs) -> "CudaNet":
        return self

    def eval(self) -> "CudaNet":
        return self

    def _run(self, branch, *inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        # autocast's weight-cast cache must stay off where graphs are recorded (PyTorch's rule)
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.half, cache_enabled=not self.graphs):
            return tuple(o.float() for o in branch(*inputs))

    @torch.inference_mode()
    def template(self, z: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return self._run(self.net.template, z)

    @torch.inference_mode()
    def track(self, x: torch.Tensor, *kernels: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if not self.graphs:
            return self._run(self.net.track, x, *kernels)
        targets = kernels[0].shape[0]
        batch = padded_batch(targets)
        crops_per_target = x.shape[0] // targets
        shape: Shape = ((batch * crops_per_target,) + tuple(x.shape[1:]),) + tuple((batch,) + tuple(k.shape[1:]) for k in kernels)
        captured = self._captured.get(shape)
        if captured is None:
            log.debug("capturing a CUDA graph for search inputs %s", shape)
            blank = [torch.zeros(s, dtype=t.dtype, device=self.device) for s, t in zip(shape, (x,) + kernels)]
            captured = self._captured[shape] = _Captured(lambda *a: self._run(self.net.track, *a), blank, self.warmup)
        outputs = captured([x, *kernels])
        return tuple(o[: x.shape[0]] for o in outputs)


class HostStaging:
    """Page-locked host buffers for uploading crop batches: ``upload(batch)`` copies a uint8
    NHWC batch into a pinned buffer of its shape and starts an asynchronous copy to the
    device. An event per buffer makes the next write to it wait for the previous copy."""

    def __init__(self, device: torch.device) -> None:
        self.device = torch.device(device)
        self._buffers: Dict[Tuple[int, ...], Tuple[torch.Tensor, torch.cuda.Event]] = {}

    def upload(self, batch) -> torch.Tensor:
        key = tuple(batch.shape)
        if key not in self._buffers:
            self._buffers[key] = (torch.empty(key, dtype=torch.uint8, pin_memory=True), torch.cuda.Event())
        host, copied = self._buffers[key]
        copied.synchronize()
        host.numpy()[...] = batch
        tensor = host.to(self.device, non_blocking=True)
        copied.record()
        return tensor
