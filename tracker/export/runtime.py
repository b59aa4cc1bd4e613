"""Run exported graphs behind the tracker: a drop-in for :class:`SiameseNet` whose
``template``/``track`` call onnxruntime or OpenCV's DNN module instead of PyTorch."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple, Union

import numpy as np
import torch

from ..config import from_dict
from ..errors import CheckpointError
from ..trackers import SiameseTracker, build_tracker


class ExportedNet:
    """``template(z)``/``track(x, *kernels)`` over two exported graphs (``backend``: ort | opencv)."""

    def __init__(self, config_path: Union[str, Path], backend: str = "ort") -> None:
        path = Path(config_path)
        if not path.is_file():
            raise CheckpointError(f"exported model description not found: {path}")
        meta = json.loads(path.read_text())
        if meta.get("format") != "siamtrack-onnx":
            raise CheckpointError(f"{path} is not a siamtrack ONNX export description")
        self.config = from_dict(meta["config"])
        self.is_rpn = self.config.head.kind != "xcorr"
        self.kernel_names = list(meta["template"]["outputs"])
        self.output_names = list(meta["search"]["outputs"])
        self.search_batch = meta["search"]["inputs"]["x"][0]
        template, search = path.parent / meta["template"]["file"], path.parent / meta["search"]["file"]
        self.backend = backend
        if backend == "ort":
            import onnxruntime as ort

            opts = ort.SessionOptions()
            self._template = ort.InferenceSession(str(template), opts, providers=["CPUExecutionProvider"])
            self._search = ort.InferenceSession(str(search), opts, providers=["CPUExecutionProvider"])
        elif backend == "opencv":
            import cv2

            self._template = cv2.dnn.readNetFromONNX(str(template))
            self._search = cv2.dnn.readNetFromONNX(str(search))
        else:
            raise ValueError(f"unknown backend {backend!r} (ort, opencv)")

    # the tracker treats the network like a torch module
    def to(self, *args, **kwargs) -> "ExportedNet":
        return self

    def eval(self) -> "ExportedNet":
        return self

    def _run(self, session, inputs: dict, outputs: List[str]) -> List[np.ndarray]:
        if self.backend == "ort":
            return session.run(outputs, inputs)
        for name, value in inputs.items():
            session.setInput(value, name)
        return list(session.forward(outputs))

    def template(self, z: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        out = self._run(self._template, {"z": z.cpu().numpy().astype(np.float32)}, self.kernel_names)
        return tuple(torch.from_numpy(np.ascontiguousarray(o)) for o in out)

    def track(self, x: torch.Tensor, *kernels: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if x.shape[0] != self.search_batch:
            raise ValueError(f"the exported search graph takes {self.search_batch} crops per call, got {x.shape[0]}")
        inputs = {"x": x.cpu().numpy().astype(np.float32)}
        inputs.update({n: k.cpu().numpy().astype(np.float32) for n, k in zip(self.kernel_names, kernels)})
        return tuple(torch.from_numpy(np.ascontiguousarray(o)) for o in self._run(self._search, inputs, self.output_names))


def load_exported_tracker(config_path: Union[str, Path], backend: str = "ort") -> SiameseTracker:
    """A tracker running an export of ``siamtrack export`` (same post-processing as PyTorch)."""
    net = ExportedNet(config_path, backend)
    return build_tracker(net, net.config, "cpu")
