"""Export to deployment runtimes and trackers that run the exported graphs.

``ExportedNet`` and ``load_exported_tracker`` run graphs with numpy only; the exporters
need torch and onnx and are imported on first use.
"""
from typing import Any

from .openvino import export_openvino
from .runtime import ExportedNet, load_exported_tracker

__all__ = ["export_onnx", "export_openvino", "ExportedNet", "load_exported_tracker"]


def __getattr__(name: str) -> Any:
    if name == "export_onnx":
        from ..extras import require_onnx

        require_onnx("ONNX export")
        from .onnx import export_onnx

        return export_onnx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
