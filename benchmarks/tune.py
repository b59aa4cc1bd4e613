#!/usr/bin/env python3
"""Grid search of tracking hyper-parameters on ../shared/data/sot/val (never on test data).

Frames are decoded once and kept in memory; every combination of the ``--grid`` values is
run over every sequence (first-frame init, OTB success AUC over the frames after the first,
absent frames not scored, as in `siamtrack eval`) and the table is written sorted by AUC.
``--starts 3`` runs each sequence from three start frames (OTB's TRE, as ``siamtrack eval
--starts``): three times the runs, a steadier mean to choose by.

    python benchmarks/tune.py --model light --grid siamrpn.penalty_k=0.05,0.1,0.2 \
        --grid siamrpn.window_influence=0.3,0.4,0.5 --out benchmarks/results/tune_light.md
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

import numpy as np

from _markdown import publish
from tracker.config import to_dict
from tracker.data.readers import read_dataset
from tracker.data.sequence import read_image
from tracker.eval.experiment import temporal_starts
from tracker.eval.metrics import score_sequence
from tracker.eval.report import CLEAR_DIFFERENCE, paired_difference
from tracker.zoo import load_model, load_tracker


def parse_value(text: str):
    """Crop sizes stay ints, numbers become floats, anything else (a mode's name) stays a string."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def parse_grid(items):
    grid = {}
    for item in items:
        key, _, values = item.partition("=")
        grid[key] = [parse_value(v) for v in values.split(",")]
    return grid


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--root", default=os.path.join(os.environ.get("SIAMTRACK_SHARED", "../shared"), "data/sot/val"))
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime"], help="network runtime (see load_tracker)")
    p.add_argument("--starts", type=int, default=1, help="OTB's TRE: runs from this many start frames a sequence (as siamtrack eval --starts)")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    if args.starts < 1:
        p.error(f"--starts must be at least 1, got {args.starts}")
    sequences = temporal_starts(read_dataset(args.root), args.starts)
    decoded = {path: read_image(path) for path in dict.fromkeys(f for s in sequences for f in s.frames)}
    frames = {s.name: [decoded[f] for f in s.frames] for s in sequences}
    base = load_model(args.model, args.weights).config
    grid = parse_grid(args.grid)
    rows, first = [], None
    for values in itertools.product(*grid.values()):
        overrides = dict(zip(grid, values))
        tracker = load_tracker(args.model, weights=args.weights, overrides=overrides, backend=args.backend)
        aucs, precisions, start = {}, [], time.perf_counter()
        for seq in sequences:
            tracker.init(frames[seq.name][0], tuple(seq.init_box))
            boxes = [seq.init_box] + [tracker.update(f).box for f in frames[seq.name][1:]]
            score = score_sequence(np.array(boxes), seq.boxes, seq.absent)
            aucs[seq.name] = score.auc
            precisions.append(score.precision)
        first = first or aucs
        rows.append((float(np.nanmean(list(aucs.values()))), float(np.nanmean(precisions)), overrides, time.perf_counter() - start,
                     paired_difference(aucs, first)))
        print(f"AUC {rows[-1][0]:.4f}  {overrides}", file=sys.stderr)
    rows.sort(key=lambda r: -r[0])
    flat = {k: v for k, v in to_dict(base)[base.tracker].items()}
    lines = ["# Tracking hyper-parameters on sot/val", "",
             f"`python benchmarks/tune.py {' '.join(sys.argv[1:])}`: {len(sequences)} runs ({args.starts} start(s) a sequence), mean AUC and "
             f"precision@20 per run; against the grid's first setting: the AUC difference run by run, its standard error "
             f"(within about two of them is chance) and the runs won / lost by more than {CLEAR_DIFFERENCE}. Checkpoint's own values: {flat}.", "",
             "| AUC | Prec@20 | " + " | ".join(grid) + " | against the first | won / lost | seconds |", "|---" * (len(grid) + 5) + "|"]
    for auc, prec, overrides, seconds, d in rows:
        lines.append(f"| {auc:.4f} | {prec:.4f} | " + " | ".join(f"{overrides[k]:g}" if isinstance(overrides[k], float) else str(overrides[k]) for k in grid)
                     + (f" | {d['mean']:+.4f} +- {d['standard_error']:.4f} | {d['better']} / {d['worse']}" if d else " | - | -")
                     + f" | {seconds:.0f} |")
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
