#!/usr/bin/env python3
"""Frame rates when other work shares the CPU: every shipped model and TrackerNano, idle and
with N processes spinning on a core each, in one run.

Each tracker is loaded while the load is already running (as a user's tracker starts inside
a busy pipeline), with its defaults unless ``--threads`` forces a count, then timed end to
end on 640x480 frames in memory (median of the updates, after ``--settle`` untimed ones).
The ratio to the same tracker's idle fps is what a busy neighbour costs it; the neighbours'
CPU during the timed updates (cores' worth, from /proc) is what the tracker left them.

    python benchmarks/speed_under_load.py [--models a,b] [--loads 0,1,2] [--frames 200]
        [--settle 5] [--threads N] [--pool-targets 4] [--out benchmarks/results/speed_under_load.md]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import cv2
import numpy as np

from speed import clip_at
from tracker import TrackerPool, list_models, load_tracker
from tracker.eval.baselines import OpenCVTracker, nano_files
from tracker.threads import usable_cores

SPIN = "while True: pass"


@contextlib.contextmanager
def spinning(n: int) -> Iterator[List[int]]:
    """``n`` busy processes (one core each, at normal priority) for the duration; their pids."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(n)]
    try:
        time.sleep(0.5 if n else 0.0)  # let the scheduler see them before the tracker loads
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()


def cpu_seconds(pids: List[int]) -> Optional[float]:
    """CPU time (user + system) the processes ``pids`` have used so far (Linux /proc); None
    where a process's figures cannot be read (no /proc), rather than a share of 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def median_fps(step: Callable[[int], None], frames: int, budget_s: float, settle: int, neighbours: List[int]) -> Dict:
    """fps from the median of ``step(i)`` over up to ``frames`` calls or ``budget_s`` seconds
    (at least 20 calls), after ``settle`` untimed calls; and the cores' worth of CPU the
    ``neighbours`` got meanwhile."""
    for i in range(1, 1 + settle):
        step(i)
    times: List[float] = []
    start, cpu = time.perf_counter(), cpu_seconds(neighbours)
    for i in range(1 + settle, 1 + settle + frames):
        tic = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - tic)
        if len(times) >= 20 and time.perf_counter() - start > budget_s:
            break
    after = cpu_seconds(neighbours) if neighbours else None
    share = (after - cpu) / (time.perf_counter() - start) if after is not None and cpu is not None else None
    return {"fps": 1.0 / statistics.median(times), "neighbours_cores": share}


def chosen_threads(tracker) -> Optional[int]:
    policy = getattr(tracker, "thread_policy", None)
    return policy.threads if policy is not None else None


def measure(name: str, clip, frames: int, budget_s: float, threads: Optional[int], pool_targets: int, settle: int,
            neighbours: List[int]) -> Dict:
    n = len(clip.frames)
    timing = dict(frames=frames, budget_s=budget_s, settle=settle, neighbours=list(neighbours))
    if name == "opencv_nano":
        tracker = OpenCVTracker("nano")
        tracker.init(clip.frames[0], tuple(clip.boxes[0]))
        return {**median_fps(lambda i: tracker.update(clip.frames[i % n]), **timing), "threads": None}
    if name.startswith("pool:"):
        pool = TrackerPool(load_tracker(name[5:], threads=threads))
        h, w = clip.frames[0].shape[:2]
        rng = np.random.default_rng(0)
        for k in range(pool_targets):
            pool.add(clip.frames[0], clip.boxes[0] if k == 0 else (rng.uniform(0, w - 60), rng.uniform(0, h - 60), 50, 50))
        return {**median_fps(lambda i: pool.update(clip.frames[i % n]), **timing), "threads": chosen_threads(pool.tracker)}
    tracker = load_tracker(name, threads=threads)
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    return {**median_fps(lambda i: tracker.update(clip.frames[i % n]), **timing), "threads": chosen_threads(tracker)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(list_models()))
    parser.add_argument("--loads", default="0,1,2", help="numbers of spinning processes (0 = idle)")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--budget", type=float, default=12.0, help="seconds per measurement at most (>= 20 frames)")
    parser.add_argument("--settle", type=int, default=5, help="untimed warm-up updates first")
    parser.add_argument("--threads", type=int, default=None, help="force this thread count (default: the trackers' own choice)")
    parser.add_argument("--pool-targets", type=int, default=4, help="also time a pool of this many targets of the first model (0: no pool)")
    parser.add_argument("--out", default="benchmarks/results/speed_under_load.md")
    args = parser.parse_args()

    models = [m for m in args.models.split(",") if m]
    names = models + ([f"pool:{models[0]}"] if args.pool_targets else []) + (["opencv_nano"] if nano_files() else [])
    loads = [int(x) for x in args.loads.split(",")]
    clip, _ = clip_at(640, 480, 60)
    results: Dict[str, Dict[int, Dict]] = {name: {} for name in names}
    for load in loads:
        with spinning(load) as pids:
            for name in names:
                r = results[name][load] = measure(name, clip, args.frames, args.budget, args.threads, args.pool_targets, args.settle, pids)
                print(f"{load} busy  {name:22s} {r['fps']:7.1f} fps  threads {r['threads']}  neighbours {r['neighbours_cores']}", flush=True)

    head = " | ".join(f"{n} busy fps (ratio, threads, neighbours' cores)" if n else "idle fps (threads)" for n in loads)
    lines = [
        "# Speed under load", "",
        f"`python benchmarks/speed_under_load.py {' '.join(sys.argv[1:])}` on {platform.processor() or platform.machine()}, "
        f"{usable_cores()} cores, OpenCV {cv2.__version__}. 640x480 frames in memory, median fps of the updates; "
        f"`N busy`: N other processes spinning (`python -c \"{SPIN}\"`), started before the tracker is loaded; ratio = fps / idle fps "
        "of the same tracker in this run; threads = the count the tracker ran with at the end (`-`: not ours); "
        f"neighbours' cores = the CPU the spinning processes got while the tracker was timed. {args.settle} untimed updates first."
        + (f" Pool: {args.pool_targets} targets of {models[0]}, frames/s." if args.pool_targets else ""), "",
        f"| tracker | {head} |", "|---|" + "---|" * len(loads),
    ]
    for name in names:
        cells = []
        base = results[name][loads[0]]["fps"]
        for n in loads:
            r = results[name][n]
            t = "-" if r["threads"] is None else str(r["threads"])
            share = "-" if r["neighbours_cores"] is None else f"{r['neighbours_cores']:.2f}"
            cells.append(f"{r['fps']:.1f} ({r['fps'] / base:.2f}x, {t}, {share})" if n else f"{r['fps']:.1f} ({t})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
