"""OpenVINO IR (``.xml`` + ``.bin``) of the exported ONNX graphs, for Intel deployments.

The IR is converted from the same two ONNX graphs (template and search), so it keeps
their inputs, outputs and layout; the export JSON names the IR files beside the ONNX ones.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Dict, Optional

from ..errors import CheckpointError

_core = None
_core_lock = threading.Lock()


def require_openvino():
    try:
        import openvino
    except ImportError:
        raise ImportError("OpenVINO IR needs the openvino package (pip install openvino)") from None
    return openvino


def export_openvino(paths: Dict[str, str]) -> Dict[str, str]:
    """Convert the graphs of :func:`~tracker.export.export_onnx` (its returned ``paths``) to
    IR files beside them, in fp32, and record them in the export JSON."""
    ov = require_openvino()
    config = Path(paths["config"])
    meta = json.loads(config.read_text())
    out = dict(paths)
    for branch in ("template", "search"):
        onnx_path = Path(paths[branch])
        xml = onnx_path.with_suffix(".xml")
        ov.save_model(ov.convert_model(str(onnx_path)), str(xml), compress_to_fp16=False)
        meta[branch]["openvino"] = xml.name
        out[f"{branch}_openvino"] = str(xml)
    config.write_text(json.dumps(meta, indent=1))
    return out


def compile_ir(path: Path, threads: Optional[int] = None):
    """An fp32 CPU compiled model of one IR file."""
    ov = require_openvino()
    if not path.is_file():
        raise CheckpointError(f"OpenVINO IR not found: {path} (export with --format openvino)")
    # no pinning: OpenVINO pins its threads to cores counted from the first, so two processes
    # (eval workers, a pipeline's trackers) would share one core and leave the other idle
    config = {"INFERENCE_PRECISION_HINT": "f32", "ENABLE_CPU_PINNING": False}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    return _shared_core().compile_model(str(path), "CPU", config)


def _shared_core():
    """The process's one OpenVINO Core, as OpenVINO recommends. Each Core loads its own CPU
    plugin, which points the calling thread's signal stack (sigaltstack) at memory of its own
    and unmaps it when the plugin goes: plugins released out of order leave the thread's signal
    stack on unmapped memory, and the next signal with a Python handler (Ctrl-C, the SIGCHLD
    handler of a DataLoader with workers) kills the process with SIGSEGV."""
    global _core
    with _core_lock:
        if _core is None:
            _core = require_openvino().Core()
        return _core
