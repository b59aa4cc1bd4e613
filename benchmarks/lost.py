#!/usr/bin/env python3
"""Lost-target detection and long-term re-detection, measured on real sequences.

* The ``ok`` flag against ground-truth absence, on the sequences of ``sot/train`` whose
  ``absence.label`` marks frames where the target is gone (TLD, VOT-LT, UAV: reported
  apart, since the models saw these sequences in training): precision and recall of
  "lost" (``ok`` False) for absent frames, with and without long-term mode.
* OTB success AUC on ``sot/val`` with and without long-term mode.

    python benchmarks/lost.py [--model light] [--set lost.threshold=0.7 ...] [--out benchmarks/results/lost.md]

``--sweep 0.3,0.4,...`` calibrates instead: a short-term track does not depend on the
threshold, so one pass per sequence gives precision, recall and the val frames flagged
lost for every candidate threshold.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from _markdown import publish
from tracker.data.readers import read_got10k
from tracker.eval.metrics import score_sequence
from tracker.config import parse_overrides
from tracker.eval.runner import run_sequence
from tracker.zoo import load_tracker

SHARED = Path(os.environ.get("SIAMTRACK_SHARED", "../shared"))


def tracker_for(model: str, longterm: bool, overrides=None):
    return load_tracker(model, overrides={**(overrides or {}), "lost.longterm": longterm})


def flag_table(model: str, sequences, overrides=None) -> list:
    rows = []
    for longterm in (False, True):
        tp = fp = fn = 0
        aucs = []
        for seq in sequences:
            run = run_sequence(tracker_for(model, longterm, overrides), seq)
            lost_pred = ~run.ok[1:]
            lost_true = seq.absent[1:]
            tp += int((lost_pred & lost_true).sum())
            fp += int((lost_pred & ~lost_true).sum())
            fn += int((~lost_pred & lost_true).sum())
            aucs.append(score_sequence(run.boxes, seq.boxes, seq.absent).auc)
        rows.append({"longterm": longterm, "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1),
                     "absent_frames": tp + fn, "auc": float(np.mean(aucs))})
    return rows


def val_auc(model: str, sequences, overrides=None) -> list:
    rows = []
    for longterm in (False, True):
        aucs, lost_rate = [], []
        for seq in sequences:
            run = run_sequence(tracker_for(model, longterm, overrides), seq)
            aucs.append(score_sequence(run.boxes, seq.boxes, seq.absent).auc)
            lost_rate.append(float((~run.ok[1:]).mean()))
        rows.append({"longterm": longterm, "auc": float(np.mean(aucs)), "frames_flagged_lost": float(np.mean(lost_rate))})
    return rows


def sweep_table(model: str, train, val, thresholds, overrides=None) -> list:
    """Short-term runs once; "lost" = score below each threshold."""
    train_runs = [(run_sequence(tracker_for(model, False, overrides), s), s) for s in train]
    val_scores = [run_sequence(tracker_for(model, False, overrides), s).scores[1:] for s in val]
    rows = []
    for t in thresholds:
        tp = sum(int(((r.scores[1:] < t) & s.absent[1:]).sum()) for r, s in train_runs)
        flagged = sum(int((r.scores[1:] < t).sum()) for r, s in train_runs)
        absent = sum(int(s.absent[1:].sum()) for r, s in train_runs)
        rows.append({"threshold": t, "precision": tp / max(flagged, 1), "recall": tp / max(absent, 1),
                     "val_flagged": float(np.mean([(v < t).mean() for v in val_scores]))})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="light")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="tracker hyper-parameter, e.g. lost.threshold=0.7 (repeatable)")
    parser.add_argument("--sweep", help="comma list of thresholds to calibrate on (short-term runs only)")
    parser.add_argument("--out", default="benchmarks/results/lost.md")
    args = parser.parse_args()
    overrides = parse_overrides(args.overrides)
    train = [s for s in read_got10k(SHARED / "data/sot/train") if s.absent.sum() >= 10]
    val = read_got10k(SHARED / "data/sot/val")
    if args.sweep:
        rows = sweep_table(args.model, train, val, [float(t) for t in args.sweep.split(",")], overrides)
        lines = [f"# Lost threshold sweep ({args.model})", "",
                 f"`python benchmarks/lost.py --model {args.model} --sweep {args.sweep}`: short-term tracks; a frame is "
                 "flagged lost when its score < threshold. Precision and recall of lost against ground-truth absence "
                 "on the sot/train sequences with >= 10 absent frames; the fraction of sot/val frames flagged (none absent).", "",
                 "| threshold | lost precision | lost recall | val frames flagged |", "|---|---|---|---|"]
        lines += [f"| {r['threshold']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['val_flagged']:.3f} |" for r in rows]
        publish(lines, args.out)
        return 0
    flags = flag_table(args.model, train, overrides)
    vals = val_auc(args.model, val, overrides)
    command = " ".join(["python benchmarks/lost.py --model", args.model, *(f"--set {o}" for o in args.overrides)])
    lines = [f"# Lost-target detection ({args.model})", "",
             f"`{command}`; `ok` is False when the score < lost.threshold.", "",
             "## `ok` vs ground-truth absence (sot/train sequences with >= 10 absent frames, seen in training)", "",
             "Sequences: " + ", ".join(f"{s.name} ({int(s.absent.sum())}/{len(s)} absent)" for s in train), "",
             "| long-term | lost precision | lost recall | absent frames | AUC |", "|---|---|---|---|---|"]
    lines += [f"| {r['longterm']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['absent_frames']} | {r['auc']:.3f} |" for r in flags]
    lines += ["", "## sot/val (29 sequences; no absent frames, occlusions only)", "",
              "| long-term | AUC | frames flagged lost |", "|---|---|---|"]
    lines += [f"| {r['longterm']} | {r['auc']:.3f} | {r['frames_flagged_lost']:.3f} |" for r in vals]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
