#!/usr/bin/env python3
"""How well does an RPN head's box regression follow its targets, away from the tracker?

Training-style pairs (template crop, jittered search crop, target box) are drawn from a
dataset; at every positive anchor (IoU >= 0.6, as in training) the head's predicted deltas
(dx, dy, log w, log h) are compared with the targets. Per delta: the correlation, the slope
of prediction on target (1 = measures, 0 = predicts a constant), and the mean absolute
error next to that of the best constant. Two kinds of pairs:

* supervised: two frames of one sequence, the search crop jittered as in training;
* self: one frame, a random box, the search crop a shifted/scaled/stretched warp of the
  template's region - pure geometry, no change of appearance.

    python benchmarks/regression_probe.py --model siamrpn --model light --out benchmarks/results/regression_probe.md
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

import numpy as np
import torch

from _markdown import publish, table
from _models import load_rpn_tracker
from tracker.data.frames import FrameCache
from tracker.data.pairs import FrameSource, PairConfig, PairDataset
from tracker.data.readers import read_dataset
from tracker.train.targets import AnchorTargets
from tracker.trackers.siamrpn import SiamRPNTracker

DELTAS = ("dx", "dy", "log w", "log h")
BATCH = 32


def positive_deltas(tracker: SiamRPNTracker, dataset: PairDataset) -> tuple:
    """(predicted, target) deltas, (N, 4) each, at every positive anchor of every pair."""
    net, config = tracker.net.module, tracker.config  # the torch module behind the numpy interface
    size = config.siamrpn.instance_size
    targets = AnchorTargets(config.anchors, net.score_size(config.siamrpn.exemplar_size, size), size)
    generator = torch.Generator().manual_seed(0)
    predicted, wanted = [], []
    for start in range(0, len(dataset) - BATCH + 1, BATCH):
        items = [dataset[i] for i in range(start, start + BATCH)]
        batch = {key: torch.stack([item[key] for item in items]) for key in items[0]}
        with torch.inference_mode():
            loc = net(batch["z"].float(), batch["x"].float())[1]
        labels, deltas, _ = targets(batch["box"].float(), batch["negative"], generator)
        positive = labels == 1
        predicted.append(loc.reshape(BATCH, 4, -1).permute(0, 2, 1)[positive].numpy())
        wanted.append(deltas.permute(0, 2, 1)[positive].numpy())
    return np.concatenate(predicted), np.concatenate(wanted)


def summarise(predicted: np.ndarray, wanted: np.ndarray) -> list:
    """Per delta: 'corr / slope / mae (constant's mae)'."""
    cells = []
    for j in range(4):
        p, t = predicted[:, j], wanted[:, j]
        corr = np.corrcoef(p, t)[0, 1]
        slope = np.polyfit(t, p, 1)[0]
        cells.append(f"{corr:.2f} / {slope:.2f} / {np.abs(p - t).mean():.3f} ({np.abs(t - np.median(t)).mean():.3f})")
    return cells


def main() -> int:
    shared = os.environ.get("SIAMTRACK_SHARED", "../shared")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="NAME or NAME=CHECKPOINT (repeatable)")
    p.add_argument("--root", action="append", default=None, help="GOT-10k-style dataset (repeatable; default sot/val)")
    p.add_argument("--pairs", type=int, default=384, help="pairs per kind")
    p.add_argument("--seed", type=int, default=123)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    roots = args.root or [os.path.join(shared, "data/sot/val")]

    cache = FrameCache()
    sources = [FrameSource.from_sequence(seq, cache, PairConfig.min_box) for root in roots for seq in read_dataset(root)]
    rows = []
    for spec in args.model:
        tracker = load_rpn_tracker(spec, "SiamFC has no box regression")
        pairs = PairConfig(instance_size=tracker.config.siamrpn.instance_size, negative=0.0)
        for kind, share in (("supervised", 0.0), ("self", 1.0)):
            dataset = PairDataset(sources, replace(pairs, self_supervised=share), args.pairs, args.seed)
            predicted, wanted = positive_deltas(tracker, dataset)
            rows.append([spec, kind, len(wanted)] + summarise(predicted, wanted))
    lines = ["# Box regression of the RPN heads, on training-style pairs", "",
             f"`python benchmarks/regression_probe.py {' '.join(sys.argv[1:])}`", "",
             f"Pairs from {', '.join(roots)}; cells: correlation / slope of prediction on target /",
             "mean absolute error (that of the best constant), over the positive anchors.", ""]
    lines += table(["model", "pairs", "anchors"] + list(DELTAS), rows)
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
