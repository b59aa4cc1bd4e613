"""OpenVINO IR (``.xml`` + ``.bin``) of the exported ONNX graphs, for Intel deployments.

The IR is converted from the same two ONNX graphs (template and search), so it keeps
their inputs, outputs and layout; the export JSON names the IR files beside the ONNX ones.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional

from ..errors import CheckpointError


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
    config = {"INFERENCE_PRECISION_HINT": "f32"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    return ov.Core().compile_model(str(path), "CPU", config)
