#!/usr/bin/env python3
"""A pool of targets on the CPU, for every shipped model that ships a one-target graph.

The network call for ``--targets`` targets: one call of the free-batch search graph against
the static one-target graph once per target (what ``ExportedNet.track`` does with several
targets since this was measured); then a whole ``TrackerPool.update`` (crops, network,
post-processing, 640x480 frame) with the targets in series on every thread against split over
worker threads of one thread each (the pool's default with onnxruntime). Each pair is timed in
the same process, alternating, on the same crops and kernels.

    python benchmarks/pool_one_target.py [--targets 16] [--threads 2] [--out benchmarks/results/pool_one_target.md]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _markdown import publish
from tracker import TrackerPool, load_tracker
from tracker.zoo import list_models, manifest


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return float(np.median(times) * 1e3)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--out", default="benchmarks/results/pool_one_target.md")
    args = p.parse_args()

    frame = (np.random.default_rng(0).random((480, 640, 3)) * 255).astype(np.uint8)
    boxes = [(20 + (i % 8) * 76, 30 + (i // 8 % 6) * 75, 40, 50) for i in range(args.targets)]
    lines = ["# A pool's network call: free-batch graph vs the one-target graph per target", "",
             f"`python benchmarks/pool_one_target.py --targets {args.targets} --threads {args.threads}`: {args.targets} targets, {args.threads} threads, "
             f"onnxruntime, median of {args.repeats} calls each, alternating in one process.", "",
             "| model | free-batch graph, one call (ms) | one-target graph per target (ms) | speed-up | pool update in series ms | pool update in parallel ms (frames/s) | speed-up |",
             "|---|---|---|---|---|---|---|"]
    for name in list_models():
        if "search_one_target" not in manifest()["models"][name].get("graphs", {}).get("files", {}):
            continue
        tracker = load_tracker(name, threads=args.threads)
        pool = TrackerPool(tracker)
        for box in boxes:
            pool.add(frame, box)
        states = [s for _, s in pool._targets.values()]
        crops = tracker.batch([c for s in states for c in tracker.search_crops(frame, s)])
        _, kernels = pool._kernels()
        net = tracker.net
        inputs = {"x": net._pixels(crops), **dict(zip(net.kernel_names, kernels))}
        batched = looped = float("inf")
        for _ in range(2):  # alternate, keep each one's best median
            batched = min(batched, median_ms(lambda: net._run(net._general_search(), inputs, net.output_names), args.repeats))
            looped = min(looped, median_ms(lambda: net.track(crops, *kernels), args.repeats))
        parallel_lanes = pool._lanes
        series = parallel = float("inf")
        for _ in range(2):
            pool._lanes = lambda: None  # the targets in series, the network on every thread
            series = min(series, median_ms(lambda: pool.update(frame), args.repeats))
            pool._lanes = parallel_lanes
            parallel = min(parallel, median_ms(lambda: pool.update(frame), args.repeats))
        lines.append(f"| {name} | {batched:.1f} | {looped:.1f} | {batched / looped:.2f}x | {series:.1f} | "
                     f"{parallel:.1f} ({1e3 / parallel:.1f}) | {series / parallel:.2f}x |")
        print(lines[-1], file=sys.stderr)
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
