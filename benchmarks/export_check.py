#!/usr/bin/env python3
"""Exported graphs vs PyTorch on real sequences: mean IoU between the boxes of the PyTorch
tracker (the .pt, run exactly as trained) and of the trackers running the exported graphs
in onnxruntime, OpenCV's DNN module and (where openvino is installed) OpenVINO, and - for a
shipped model - the graphs shipped in weights/ (what `load_tracker(name)` runs without
torch), each tracking the whole sequence on its own; for the shipped graphs also the
largest box difference in pixels from the .pt run as trained and from the .pt on torch's
fast path (BatchNorm folded, what the graphs were exported from).

    python benchmarks/export_check.py [--model light] [--weights CHECKPOINT] [--sequences 6] [--backends onnxruntime,opencv,openvino,shipped] [--out benchmarks/results/export.md]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from _markdown import publish, table
from tracker.data.readers import read_got10k
from tracker.eval.runner import run_sequence
from tracker.export import export_onnx, export_openvino, load_exported_tracker
from tracker.geometry import iou
from tracker.zoo import load_model, load_tracker

SHARED = Path(os.environ.get("SIAMTRACK_SHARED", "../shared"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="light")
    parser.add_argument("--weights", help="a checkpoint instead of the shipped weights of --model")
    parser.add_argument("--sequences", type=int, default=6)
    parser.add_argument("--backends", default="onnxruntime,opencv,openvino,shipped",
                        help="comma list: onnxruntime, opencv, openvino (files of `siamtrack export`), shipped (weights/ graphs)")
    parser.add_argument("--out", default="benchmarks/results/export.md")
    args = parser.parse_args()
    seqs = read_got10k(SHARED / "data/sot/val")
    seqs = [seqs[i] for i in np.linspace(0, len(seqs) - 1, args.sequences).round().astype(int)]
    with tempfile.TemporaryDirectory() as folder:
        name = None if args.weights else args.model
        paths = export_onnx(load_model(name, args.weights).build(), folder, args.model)
        wanted = args.backends.split(",")
        backends = {b: label for b, label in (("onnxruntime", "onnxruntime"), ("opencv", "OpenCV DNN")) if b in wanted}
        if "openvino" in wanted:
            try:
                paths = export_openvino(paths)
                import openvino

                backends["openvino"] = f"OpenVINO {openvino.__version__.split('-')[0]}"
            except ImportError:
                pass
        shipped = "shipped" in wanted and name is not None
        rows = []
        for seq in seqs:
            ref = run_sequence(load_tracker(name, weights=args.weights, fast=False), seq)
            row = {"sequence": seq.name, "frames": len(seq)}
            for backend in backends:
                got = run_sequence(load_exported_tracker(paths["config"], backend), seq)
                row[backend] = float(iou(ref.boxes[1:], got.boxes[1:]).mean())
            if shipped:
                got = run_sequence(load_tracker(name, backend="onnxruntime"), seq)  # the graphs in weights/, no export
                row["shipped"] = float(iou(ref.boxes[1:], got.boxes[1:]).mean())
                row["shipped_px"] = float(np.abs(ref.boxes - got.boxes).max())
                fast = run_sequence(load_tracker(name, backend="torch"), seq)
                row["shipped_fast_px"] = float(np.abs(fast.boxes - got.boxes).max())
            rows.append(row)
        if shipped:
            backends["shipped"] = "shipped graphs (weights/)"
    lines = [f"# Export check ({args.model})", "",
             f"`python benchmarks/export_check.py {' '.join(sys.argv[1:])}` (OpenCV {cv2.__version__}). "
             "Mean IoU, over each sequence, between the PyTorch tracker's boxes and those of the tracker running the exported graphs.",
             ""]
    px = ["shipped_px", "shipped_fast_px"] if shipped else []
    lines += table(["sequence", "frames", *backends.values(), *(["shipped: max px vs .pt", "vs .pt on torch, BN folded"] if shipped else [])],
                   [(r["sequence"], r["frames"], *(f"{r[b]:.4f}" for b in backends), *(f"{r[k]:.2g}" for k in px)) for r in rows]
                   + [("**worst**", "", *(f"{min(r[b] for r in rows):.4f}" for b in backends), *(f"{max(r[k] for r in rows):.2g}" for k in px)),
                      ("**mean**", sum(r["frames"] for r in rows), *(f"{np.mean([r[b] for r in rows]):.4f}" for b in backends), *([""] * len(px)))])
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
