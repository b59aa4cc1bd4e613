"""``siamtrack export``: ONNX graphs of a model for onnxruntime and OpenCV DNN (and OpenVINO IR)."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a model as template + search ONNX graphs")
    p.add_argument("--model", default=None, help="shipped model name")
    p.add_argument("--weights", help="a siamtrack checkpoint instead of the shipped weights")
    p.add_argument("--format", default="onnx", choices=["onnx", "openvino"],
                   help="onnx: the two graphs + JSON; openvino: those and their OpenVINO IR (needs openvino)")
    p.add_argument("--out", default="runs/export", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..extras import require_onnx

    require_onnx("siamtrack export")
    from ..zoo import DEFAULT_MODEL, load_model
    from .onnx import export_onnx
    from .openvino import export_openvino, require_openvino

    if args.format == "openvino":
        require_openvino()  # before any work
    name = args.model or (None if args.weights else DEFAULT_MODEL)
    ckpt = load_model(name, args.weights)
    paths = export_onnx(ckpt.build(), args.out, ckpt.config.name)
    if args.format == "openvino":
        paths = export_openvino(paths)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
