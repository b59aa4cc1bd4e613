#!/usr/bin/env python3
"""GPU speed of the trackers: one target end to end and the batched pool, for each runtime
mode, on one device; plus (``--val N``) the val AUC of each mode on N sequences, to show the
fast modes keep the plain path's boxes.

Modes: ``plain`` (eager fp32, the network as trained), ``graphs`` (BatchNorm folded, search
branch replayed from CUDA graphs, crops uploaded from pinned memory), ``graphs-fp16`` (the
same under fp16 autocast). Models: shipped names, ``NAME=CHECKPOINT``, or ``NAME=random``
(randomly initialised: timing only, the work per frame does not depend on the weights).

    python benchmarks/speed_gpu.py [--device cuda] [--models light,siamfc=random,siamrpn=random]
        [--modes plain,graphs,graphs-fp16] [--frames 201] [--pool-targets 1,16,64,256] [--val 0]
        [--out benchmarks/results/speed_gpu.md]

``--device cpu --modes plain`` runs the same measurements on the CPU (a dry run of the script).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _markdown import publish, table
from speed import clip_at
from tracker import TrackerPool, load_tracker
from tracker.data.readers import read_got10k
from tracker.eval.runner import run_sequence
from tracker.eval.metrics import score_sequence
from tracker.models import SiameseNet
from tracker.models.checkpoint import save_checkpoint
from tracker.zoo import model_config

SHARED = Path(os.environ.get("SIAMTRACK_SHARED", "../shared"))
MODES = {"plain": dict(fast=False), "graphs": dict(fast=True), "graphs-fp16": dict(fast=True, half=True)}


def checkpoints(models: str, folder: str) -> dict:
    """``{label: (name, weights)}``; ``NAME=random`` writes a seeded random checkpoint."""
    out = {}
    for item in filter(None, models.split(",")):
        name, _, weights = item.partition("=")
        if weights == "random":
            torch.manual_seed(0)
            weights = str(Path(folder) / f"{name}_random.pt")
            save_checkpoint(weights, SiameseNet(model_config(name)))
            out[f"{name} (random)"] = (None, weights)
        else:
            out[name] = (None if weights else name, weights or None)
    return out


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(step, count: int, device: torch.device) -> float:
    times = []
    for i in range(count):
        synchronize(device)
        tic = time.perf_counter()
        step(i)
        synchronize(device)
        times.append(time.perf_counter() - tic)
    return statistics.median(times) * 1000


def time_single(tracker, clip, device) -> dict:
    frames = clip.frames
    tracker.init(frames[0], tuple(clip.boxes[0]))
    for f in frames[1:11]:  # warm-up: cuDNN autotuning, graph capture
        tracker.update(f)
    tracker.init(frames[0], tuple(clip.boxes[0]))
    e2e = median_ms(lambda i: tracker.update(frames[1 + i]), len(frames) - 1, device)
    state = tracker.state
    x = tracker.batch(tracker.search_crops(frames[1], state))  # host crops in, host outputs out
    net = median_ms(lambda i: tracker.net.track(x, *state.kernels), len(frames) - 1, device)
    return {"net_ms": net, "e2e_ms": e2e}


def time_pool(tracker, clip, targets: int, frames: int, device) -> float:
    pool = TrackerPool(tracker)
    h, w = clip.frames[0].shape[:2]
    rng = np.random.default_rng(0)
    for k in range(targets):
        pool.add(clip.frames[0], clip.boxes[0] if k == 0 else (rng.uniform(0, w - 60), rng.uniform(0, h - 60), 50, 50))
    for f in clip.frames[1:6]:
        pool.update(f)
    return median_ms(lambda i: pool.update(clip.frames[1 + i % (len(clip.frames) - 1)]), frames, device)


def val_auc(name, weights, device, mode, sequences) -> float:
    aucs = []
    for seq in sequences:
        run = run_sequence(load_tracker(name, weights=weights, device=device, **MODES[mode]), seq)
        aucs.append(score_sequence(run.boxes, seq.boxes, seq.absent).auc)
    return float(np.nanmean(aucs))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda")
    p.add_argument("--models", default="light,light16,siamfc=random,siamrpn=random")
    p.add_argument("--modes", default="plain,graphs,graphs-fp16")
    p.add_argument("--frames", type=int, default=201)
    p.add_argument("--pool-targets", default="1,16,64,256")
    p.add_argument("--val", type=int, default=0, help="sequences of sot/val for the AUC of each mode (shipped models only)")
    p.add_argument("--out", default="benchmarks/results/speed_gpu.md")
    args = p.parse_args()
    device = torch.device(args.device)
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        p.error(f"unknown modes {sorted(unknown)} ({', '.join(MODES)})")
    clip, _ = clip_at(640, 480, args.frames)
    targets = [int(n) for n in args.pool_targets.split(",") if n]
    sequences = []
    if args.val:
        sequences = read_got10k(SHARED / "data/sot/val")
        sequences = [sequences[i] for i in np.linspace(0, len(sequences) - 1, args.val).round().astype(int)]
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    single, pools, vals = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for label, (name, weights) in checkpoints(args.models, folder).items():
            for mode in modes:
                make = lambda: load_tracker(name, weights=weights, device=device, **MODES[mode])  # noqa: E731
                single.append({"model": label, "mode": mode, **time_single(make(), clip, device)})
                for n in targets:
                    ms = time_pool(make(), clip, n, min(60, args.frames - 1), device)
                    pools.append({"model": label, "mode": mode, "targets": n, "ms": ms})
                if sequences and name is not None:
                    vals.append({"model": label, "mode": mode, "auc": val_auc(name, weights, device, mode, sequences)})
                print(f"{label} {mode} done", file=sys.stderr, flush=True)
    lines = ["# GPU speed", "",
             f"`python benchmarks/speed_gpu.py {' '.join(sys.argv[1:])}` on {gpu}, torch {torch.__version__}. "
             "One 640x480 stream, frames in memory (decode excluded); median over the frames, synchronised.", ""]
    lines += table(["model", "mode", "network ms", "end to end ms", "fps"],
                   [(r["model"], r["mode"], f"{r['net_ms']:.3f}", f"{r['e2e_ms']:.3f}", f"{1000 / r['e2e_ms']:.0f}") for r in single])
    lines += ["", "Batched pool (one forward per frame for all targets):", ""]
    lines += table(["model", "mode", "targets", "ms per frame", "target-updates/s"],
                   [(r["model"], r["mode"], r["targets"], f"{r['ms']:.2f}", f"{r['targets'] * 1000 / r['ms']:.0f}") for r in pools])
    if vals:
        lines += ["", f"sot/val AUC over {len(sequences)} sequences (first-frame init, frames after the first):", ""]
        lines += table(["model", "mode", "AUC"], [(r["model"], r["mode"], f"{r['auc']:.4f}") for r in vals])
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
