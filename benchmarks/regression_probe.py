#!/usr/bin/env python3
"""How well does a head's box regression follow its targets, away from the tracker?

Training-style pairs (template crop, jittered search crop, target box) are drawn from a
dataset (default ``sot/val``); at every positive location of the head's own training
targets (anchors with IoU >= 0.6 for the RPN heads; the ellipse of semi-axes w/4, h/4 for the
anchor-free box head) its predicted box is set against the true one, both in crop pixels:

* centre dx, dy: the box centre's offset from the location, predicted on true;
* log w, log h and log sqrt(wh) (pure scale): predicted on true.

Per quantity: the slope of prediction on truth (1 = measures it, 0 = predicts a constant),
the correlation, and the mean absolute error next to that of the best constant. Every head is
compared on the same pairs. Two kinds of pairs:

* supervised: two frames of one sequence, the search crop jittered as in training;
* self: one frame, a random box, the search crop a shifted/scaled/stretched warp of the
  template's region - pure geometry, no change of appearance.

    python benchmarks/regression_probe.py --model mobilenet_ban --model siamrpn --out benchmarks/results/regression_probe.md
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

import numpy as np
import torch

from _markdown import publish, table
from tracker import load_tracker
from tracker.data.frames import FrameCache
from tracker.data.pairs import FrameSource, PairConfig, PairDataset
from tracker.data.readers import read_dataset
from tracker.train.targets import AnchorTargets, box_targets
from tracker.trackers import SiamBANTracker, SiamRPNTracker
from tracker.trackers.siamban import decode_distances
from tracker.trackers.siamrpn import decode_boxes

QUANTITIES = ("centre dx", "centre dy", "log w", "log h", "log sqrt(wh)")
BATCH = 32


def positive_boxes(tracker: SiamRPNTracker, net: torch.nn.Module, batch: dict, generator: torch.Generator):
    """(predicted, true, location) at the positive locations of one batch: (N, 4) boxes
    ``(cx, cy, w, h)`` and (N, 2) locations, in crop pixels from the crop centre."""
    config, size = tracker.config, batch["x"].shape[-1]
    with torch.inference_mode():
        cls, loc = net(batch["z"].float(), batch["x"].float())
    score_size, boxes = cls.shape[-1], batch["box"].float()
    x1, y1, x2, y2 = boxes.unbind(1)
    true = torch.stack([(x1 + x2) / 2 - 0.5 - (size - 1) / 2, (y1 + y2) / 2 - 0.5 - (size - 1) / 2, x2 - x1, y2 - y1], dim=1).numpy()
    places, _ = tracker.make_grid(score_size)  # the tracker's own candidates: anchors or cells
    if isinstance(tracker, SiamBANTracker):
        labels = box_targets(boxes, batch["negative"], score_size, config.siamban.total_stride, size)[0]
        decoded = [decode_distances(loc[b].numpy(), places, config.siamban.total_stride) for b in range(len(boxes))]
    else:
        targets = AnchorTargets(config.anchors, score_size, size)  # sampled pair by pair, as the numbers recorded were
        labels = torch.cat([targets(boxes[b:b + 1], batch["negative"][b:b + 1], generator)[0] for b in range(len(boxes))])
        decoded = [decode_boxes(loc[b].numpy(), places) for b in range(len(boxes))]
    positive = labels.reshape(len(boxes), -1).numpy() == 1
    predicted = np.concatenate([d[:, p].T for d, p in zip(decoded, positive)])
    wanted = np.repeat(true, positive.sum(axis=1), axis=0)
    where = np.concatenate([places[:2, p].T for p in positive])
    return predicted, wanted, where


def quantities(boxes: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(N, 5): centre offsets from the location, log w, log h, log sqrt(wh)."""
    w, h = np.maximum(boxes[:, 2], 1e-3), np.maximum(boxes[:, 3], 1e-3)
    return np.stack([boxes[:, 0] - where[:, 0], boxes[:, 1] - where[:, 1], np.log(w), np.log(h), 0.5 * np.log(w * h)], axis=1)


def summarise(predicted: np.ndarray, wanted: np.ndarray) -> list:
    """Per quantity: 'slope / correlation / mae (the best constant's mae)'."""
    cells = []
    for j in range(predicted.shape[1]):
        p, t = predicted[:, j], wanted[:, j]
        slope = np.polyfit(t, p, 1)[0]
        cells.append(f"**{slope:.2f}** / {np.corrcoef(p, t)[0, 1]:.2f} / {np.abs(p - t).mean():.3f} ({np.abs(t - np.median(t)).mean():.3f})")
    return cells


def probe(tracker: SiamRPNTracker, dataset: PairDataset) -> list:
    net = tracker.net.module  # the torch module behind the numpy interface
    generator = torch.Generator().manual_seed(0)
    predicted, wanted = [], []
    for start in range(0, len(dataset) - BATCH + 1, BATCH):
        items = [dataset[i] for i in range(start, start + BATCH)]
        batch = {key: torch.stack([item[key] for item in items]) for key in items[0]}
        p, t, where = positive_boxes(tracker, net, batch, generator)
        predicted.append(quantities(p, where))
        wanted.append(quantities(t, where))
    predicted, wanted = np.concatenate(predicted), np.concatenate(wanted)
    return [len(wanted)] + summarise(predicted, wanted)


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
        name, _, weights = spec.partition("=")
        tracker = load_tracker(name, weights=weights or None, backend="torch")
        if not isinstance(tracker, SiamRPNTracker):
            raise SystemExit(f"{name}: no box regression to probe (a SiamFC tracker: its scale comes from the pyramid)")
        crops = tracker.config.tracking
        pairs = PairConfig(exemplar_size=crops.exemplar_size, instance_size=crops.instance_size, negative=0.0)
        for kind, share in (("supervised", 0.0), ("self", 1.0)):
            dataset = PairDataset(sources, replace(pairs, self_supervised=share), args.pairs, args.seed)
            rows.append([spec, kind] + probe(tracker, dataset))
    lines = ["# Box regression of the heads, on training-style pairs", "",
             f"`python benchmarks/regression_probe.py {' '.join(sys.argv[1:])}`", "",
             f"Pairs from {', '.join(roots)} at each model's crop sizes; cells: **slope of prediction on truth** /",
             "correlation / mean absolute error (that of the best constant), over the positive locations",
             "(anchors with IoU >= 0.6; for the box head, cells within a quarter of the box from its centre).", ""]
    lines += table(["model", "pairs", "locations"] + list(QUANTITIES), rows)
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
