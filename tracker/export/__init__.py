"""Export to deployment runtimes and trackers that run the exported graphs."""
from .onnx import export_onnx
from .openvino import export_openvino
from .runtime import ExportedNet, load_exported_tracker

__all__ = ["export_onnx", "export_openvino", "ExportedNet", "load_exported_tracker"]
