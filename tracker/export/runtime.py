"""Run exported graphs behind the tracker: a :class:`~tracker.network.Network` whose
``template``/``track`` call onnxruntime, OpenCV's DNN module or OpenVINO (no torch).

Three uses: the CPU runtime of :func:`tracker.zoo.load_tracker` (``backend="onnxruntime"``)
on the graphs shipped in ``weights/`` (:meth:`ExportedNet.from_shipped`), the same graphs
exported in memory from a checkpoint (:meth:`ExportedNet.from_network`, needs torch), and
trackers over the files of ``siamtrack export`` (:func:`load_exported_tracker`).
onnxruntime runs small mobile networks two to four times faster than eager PyTorch on a
CPU, because it fuses and plans the whole graph instead of dispatching each convolution
from Python.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from ..config import from_dict
from ..errors import CheckpointError, ConfigError
from ..threads import ThreadPolicy, usable_cores
from ..trackers import SiameseTracker, build_tracker

Graph = Union[bytes, str, Path]
RUNTIMES = ("onnxruntime", "opencv", "openvino")
ALIASES = {"ort": "onnxruntime"}  # the name this backend had before 0.1.0


def runtime_name(backend: str) -> str:
    """``backend`` as one of :data:`RUNTIMES` (``"ort"`` is accepted for onnxruntime)."""
    name = ALIASES.get(backend, backend)
    if name not in RUNTIMES:
        raise ConfigError(f"unknown backend {backend!r} for exported graphs ({', '.join(RUNTIMES)})")
    return name


def _default_threads() -> int:
    """torch's thread count where torch is loaded anyway (a caller may have set it), else
    the cores this process may use."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else usable_cores()


def onnxruntime_session(graph: Graph, threads: Optional[int] = None):
    """An onnxruntime CPU session with a fixed thread count (default: torch's, or the cores).

    Worker threads do not spin while idle: on a 2-core machine spinning threads take the
    core that decodes the next frame, and the tracker gets slower, not faster.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads or _default_threads())
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    model = graph if isinstance(graph, bytes) else str(graph)
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


class ExportedNet:
    """``template(crops)``/``track(crops, *kernels)`` over two exported graphs (``backend``:
    onnxruntime | opencv | openvino; the last takes the IR files of ``--format openvino``)."""

    def __init__(self, template: Graph, search: Graph, meta: Dict[str, Any], backend: str = "onnxruntime",
                 threads: Optional[int] = None, one_target_search: Optional[Graph] = None) -> None:
        backend = runtime_name(backend)
        self.config = from_dict(meta["config"])
        self.is_rpn = self.config.head.kind != "xcorr"
        self.kernel_names = list(meta["template"]["outputs"])
        self.output_names = list(meta["search"]["outputs"])
        self.search_batch = None if meta["search"].get("dynamic_batch") else meta["search"]["inputs"]["x"][0]
        self.pixels_last = bool(meta.get("pixels_last"))
        self.backend = backend
        self._graphs = (template, search, one_target_search)
        if one_target_search is not None and backend not in ("onnxruntime", "openvino"):
            raise ValueError("a one-target search graph runs in onnxruntime or OpenVINO")
        if backend == "opencv":
            import cv2

            if isinstance(template, bytes) or isinstance(search, bytes):
                raise ValueError("the opencv backend reads exported files, not in-memory graphs")
            # OpenCV DNN runs on OpenCV's process-wide pool, which the tracker scopes per frame
            self._opencv = cv2.dnn.readNetFromONNX(str(template)), cv2.dnn.readNetFromONNX(str(search))
        elif backend == "openvino":
            if isinstance(template, bytes) or isinstance(search, bytes):
                raise ValueError("the openvino backend reads exported IR files, not in-memory graphs")
        self._by_threads: Dict[int, list] = {}
        self._single: Optional["ExportedNet"] = None
        self.set_threads(threads or usable_cores())

    def set_threads(self, threads: int) -> None:
        """Run on ``threads`` threads from the next call. onnxruntime and OpenVINO fix the
        count when a session is made, so there is one session per count, made on first use."""
        self.threads = max(1, int(threads))
        if self.threads not in self._by_threads:
            self._by_threads[self.threads] = self._sessions(self.threads)
        self._template, self._search, self._one_target = self._by_threads[self.threads]
        if self._one_target is not None:
            self._one_target_shape = (tuple(self._one_target.get_inputs()[0].shape) if self.backend == "onnxruntime"
                                      else tuple(int(d) for d in self._one_target.input("x").shape))

    def single_threaded(self) -> Optional["ExportedNet"]:
        """This network on one thread, sharing its graphs and sessions, callable from several
        threads at once (onnxruntime sessions are): a pool runs its targets on a few of these
        in parallel, which beats one call on all threads for small graphs. None where the
        runtime is not onnxruntime."""
        if self.backend != "onnxruntime":
            return None
        if self._single is None:  # made once: a pool asks every frame
            self._single = copy.copy(self)
            self._single.set_threads(1)  # the view's own attributes; the session cache is shared
        return self._single

    def _session(self, graph: Graph, threads: int):
        """One graph made runnable on ``threads`` threads by this net's runtime (onnxruntime or openvino)."""
        if self.backend == "openvino":
            from .openvino import compile_ir

            return compile_ir(Path(graph), threads)
        return onnxruntime_session(graph, threads)

    def _sessions(self, threads: int) -> list:
        if self.backend == "opencv":
            return [*self._opencv, None]
        template, search, one_target = self._graphs
        if one_target is None:
            return [self._session(template, threads), self._session(search, threads), None]
        # the general search graph waits for its first call (a pool's wider crop, a re-detection):
        # a single tracker never pays for loading it
        return [self._session(template, threads), None, self._session(one_target, threads)]

    def _general_search(self):
        if self._search is None:
            self._search = self._by_threads[self.threads][1] = self._session(self._graphs[1], self.threads)
        return self._search

    @classmethod
    def from_files(cls, config_path: Union[str, Path], backend: str = "onnxruntime", threads: Optional[int] = None) -> "ExportedNet":
        """The graphs written by :func:`tracker.export.export_onnx`, found through their JSON."""
        path, backend = Path(config_path), runtime_name(backend)
        if not path.is_file():
            raise CheckpointError(f"exported model description not found: {path}")
        try:
            meta = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{path} is not a siamtrack ONNX export description: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != "siamtrack-onnx":
            raise CheckpointError(f"{path} is not a siamtrack ONNX export description")
        if backend == "openvino":
            if "openvino" not in meta["template"]:
                raise CheckpointError(f"{path} has no OpenVINO IR: export with --format openvino")
            files = meta["template"]["openvino"], meta["search"]["openvino"]
        else:
            files = meta["template"]["file"], meta["search"]["file"]
        return cls(path.parent / files[0], path.parent / files[1], meta, backend, threads)

    @classmethod
    def from_shipped(cls, graphs: Dict[str, Any], config: Dict[str, Any], folder: Union[str, Path],
                     threads: Optional[int] = None, backend: str = "onnxruntime") -> "ExportedNet":
        """The graphs shipped beside a model's weights (``graphs``: its manifest entry's
        record of them, ``config``: the entry's config), run by onnxruntime (or, ``backend``
        "openvino", by OpenVINO, which reads the same ONNX files): no export, no torch."""
        files = {role: Path(folder) / entry["file"] for role, entry in graphs["files"].items()}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise CheckpointError(f"shipped graphs are missing: {', '.join(missing)} (scripts/ship_graphs.py writes them)")
        meta = dict(graphs["meta"], config=config)
        return cls(files["template"], files["search"], meta, backend, threads, files.get("search_one_target"))

    @classmethod
    def from_network(cls, net: Any, threads: Optional[int] = None) -> "ExportedNet":
        """``net`` (a :class:`~tracker.models.SiameseNet`) exported in memory and run by
        onnxruntime: the graphs :func:`~tracker.export.onnx.runtime_graphs` makes, the
        ones shipped for the shipped models (needs torch and onnx)."""
        from .onnx import runtime_graphs

        graphs, meta = runtime_graphs(net)
        return cls(graphs["template"], graphs["search"], meta, "onnxruntime", threads, graphs.get("search_one_target"))

    def _run(self, session, inputs: Dict[str, np.ndarray], outputs: List[str]) -> Tuple[np.ndarray, ...]:
        if self.backend == "onnxruntime":
            return tuple(session.run(outputs, inputs))
        if self.backend == "openvino":
            result = session(inputs)
            return tuple(np.ascontiguousarray(result[session.output(name)]) for name in outputs)
        for name, value in inputs.items():
            session.setInput(value, name)
        return tuple(np.ascontiguousarray(o) for o in session.forward(outputs))

    def _pixels(self, crops: np.ndarray) -> np.ndarray:
        """NHWC crops -> float32 in the graph's layout."""
        return np.ascontiguousarray(crops if self.pixels_last else np.transpose(crops, (0, 3, 1, 2)), dtype=np.float32)

    def template(self, crops: np.ndarray) -> Tuple[np.ndarray, ...]:
        return self._run(self._template, {"z": self._pixels(crops)}, self.kernel_names)

    def track(self, crops: np.ndarray, *kernels: np.ndarray) -> Tuple[np.ndarray, ...]:
        if self.search_batch is not None and crops.shape[0] != self.search_batch:
            raise ValueError(f"the exported search graph takes {self.search_batch} crops per call, got {crops.shape[0]}")
        inputs = {"x": self._pixels(crops)}
        inputs.update({n: np.ascontiguousarray(k, dtype=np.float32) for n, k in zip(self.kernel_names, kernels)})
        x, per_target = inputs["x"], self._one_target_shape[0] if self._one_target is not None else 0
        if per_target and x.shape[1:] == self._one_target_shape[1:] and x.shape[0] % per_target == 0:
            targets = x.shape[0] // per_target
            if all(inputs[n].shape[0] == targets for n in self.kernel_names):
                if targets == 1:
                    return self._run(self._one_target, inputs, self.output_names)
                # several targets (a pool): the static one-target graph once per target is
                # 1.0-2.2x faster on the CPU than one call of the free-batch graph
                # (benchmarks/results/pool_one_target.md)
                parts = [self._run(self._one_target, {"x": x[t * per_target : (t + 1) * per_target],
                                                      **{n: inputs[n][t : t + 1] for n in self.kernel_names}}, self.output_names)
                         for t in range(targets)]
                return tuple(np.concatenate(group) for group in zip(*parts))
        return self._run(self._general_search(), inputs, self.output_names)


def load_exported_tracker(config_path: Union[str, Path], backend: str = "onnxruntime", threads: Optional[int] = None) -> SiameseTracker:
    """A tracker running an export of ``siamtrack export`` (same post-processing as PyTorch):
    ``config_path`` is the export's JSON, ``backend`` onnxruntime, opencv or openvino (no torch)."""
    policy = ThreadPolicy(forced=threads)
    net = ExportedNet.from_files(config_path, backend, policy.threads)
    return build_tracker(net, net.config, "cpu", policy)
