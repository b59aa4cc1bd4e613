#!/usr/bin/env python3
"""Speed of every shipped model, with OpenCV's TrackerNano measured in the same process.

For each model: median ms and fps over >= 200 frames of the network alone and end to end
(decode excluded: frames already in memory; decode included: JPEG decoding per frame) at
640x480 and 1280x720, with 1 and 2 threads. Our fps is also printed as a ratio of
TrackerNano's fps measured in this run, since only ratios measured together are stable on
a noisy machine.

    python benchmarks/speed.py [--frames 200] [--models light,NAME=CHECKPOINT] [--backends auto,torch,onnxruntime,openvino]
                               [--threads 1,2] [--pool-targets 1,4,16,64] [--rounds 1] [--out benchmarks/results/speed.md]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from tracker import list_models, load_tracker
from tracker.eval.baselines import OpenCVTracker, nano_files
from tracker.video.demo import generate_clip


def clip_at(width: int, height: int, frames: int):
    clip = generate_clip(num_frames=frames, width=width, height=height, base_size=(int(width * 0.11), int(height * 0.16)))
    encoded = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1] for f in clip.frames]
    return clip, encoded


def time_tracker(tracker, clip, encoded, decode: bool):
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    times = []
    for i in range(1, len(clip.frames)):
        tic = time.perf_counter()
        frame = cv2.imdecode(encoded[i], cv2.IMREAD_COLOR) if decode else clip.frames[i]
        tracker.update(frame)
        times.append(time.perf_counter() - tic)
    return statistics.median(times) * 1000


def time_network(tracker, clip):
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    state = tracker.state
    x = tracker.batch(tracker.search_crops(clip.frames[1], state))
    times = []
    for _ in range(len(clip.frames) - 1):  # the network behind its numpy interface, conversions included
        tic = time.perf_counter()
        tracker.net.track(x, *state.kernels)
        times.append(time.perf_counter() - tic)
    return statistics.median(times) * 1000


def runtime_label(tracker, backend: str) -> str:
    """``backend`` as asked, and for ``auto`` the runtime it chose (the model's default)."""
    if backend != "auto":
        return backend
    chosen = getattr(tracker.net, "backend", None) or "torch"
    return f"auto ({chosen})"


def load(model: str, backend: str, threads: int):
    """``NAME`` (shipped weights) or ``NAME=CHECKPOINT``."""
    name, _, weights = model.partition("=")
    return load_tracker(name if not weights else None, weights=weights or None, backend=backend, threads=threads)


def time_pool(model: str, backend: str, threads: int, clip, targets: int, frames: int) -> dict:
    """Median ms per frame of a pool holding ``targets`` copies spread over the frame."""
    from tracker import TrackerPool

    pool = TrackerPool(load(model, backend, threads))
    h, w = clip.frames[0].shape[:2]
    rng = np.random.default_rng(0)
    for k in range(targets):
        box = (clip.boxes[0] if k == 0 else (rng.uniform(0, w - 60), rng.uniform(0, h - 60), 50, 50))
        pool.add(clip.frames[0], box)
    times = []
    for i in range(1, frames + 1):
        tic = time.perf_counter()
        pool.update(clip.frames[i])
        times.append(time.perf_counter() - tic)
    return {"ms": statistics.median(times) * 1000, "backend": runtime_label(pool.tracker, backend)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=201)
    parser.add_argument("--models", default=",".join(list_models()))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--backends", default="auto", help="comma list of auto (each model's default runtime), torch, onnxruntime, openvino")
    parser.add_argument("--pool-targets", default="1,4,16,64", help="pool sizes to time ('' skips the pool)")
    parser.add_argument("--rounds", type=int, default=1, help="timings alternating TrackerNano and the models; medians, "
                        "and vs nano the median of the rounds' ratios")
    parser.add_argument("--out", default="benchmarks/results/speed.md")
    args = parser.parse_args()

    rows = []
    models = [m for m in args.models.split(",") if m]
    backends = [b for b in args.backends.split(",") if b]
    sizes = [(640, 480), (1280, 720)]
    clips = {s: clip_at(*s, args.frames) for s in sizes}
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        cv2.setNumThreads(threads)
        for (w, h), (clip, encoded) in clips.items():
            nano = OpenCVTracker("nano") if nano_files() else None
            trackers = {(m, b): load(m, b, threads) for m in models for b in backends}
            for t in [nano, *trackers.values()]:
                if t is not None:
                    time_tracker(t, clip, encoded, decode=False)  # warm-up
            # rounds alternate TrackerNano and every model: the machine's drift hits both
            times: dict = {}
            for _ in range(args.rounds):
                if nano is not None:
                    times.setdefault("nano", []).append((None, time_tracker(nano, clip, encoded, decode=False),
                                                         time_tracker(nano, clip, encoded, decode=True)))
                for key, t in trackers.items():
                    times.setdefault(key, []).append((time_network(t, clip), time_tracker(t, clip, encoded, decode=False),
                                                      time_tracker(t, clip, encoded, decode=True)))
            nano_rounds = [e2e for _, e2e, _ in times.get("nano", [])]
            if nano is not None:
                rows.append({"model": "opencv_nano", "backend": "opencv", "threads": threads, "size": f"{w}x{h}", "net_ms": None,
                             "e2e_ms": statistics.median(nano_rounds),
                             "e2e_decode_ms": statistics.median(d for _, _, d in times["nano"]), "vs_nano": 1.0})
            for (model, backend) in trackers:
                net, e2e, dec = zip(*times[(model, backend)])
                ratio = statistics.median(n / e for n, e in zip(nano_rounds, e2e)) if nano_rounds else None
                rows.append({"model": model.partition("=")[0], "backend": runtime_label(trackers[(model, backend)], backend), "threads": threads, "size": f"{w}x{h}",
                             "net_ms": statistics.median(net), "e2e_ms": statistics.median(e2e),
                             "e2e_decode_ms": statistics.median(dec), "vs_nano": ratio})
    pool_rows = []
    threads = max(int(t) for t in args.threads.split(","))
    torch.set_num_threads(threads)
    clip, _ = clips[(640, 480)]
    for model, backend in [(m, b) for m in models for b in backends]:
        for n in [int(t) for t in args.pool_targets.split(",") if t]:
            pool_rows.append({"model": model.partition("=")[0], "targets": n,
                              **time_pool(model, backend, threads, clip, n, frames=min(60, args.frames - 1))})
    lines = [
        "# Speed", "",
        f"`python benchmarks/speed.py {' '.join(sys.argv[1:])}` on {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} max threads, torch {torch.__version__}, OpenCV {cv2.__version__}. "
        f"Median over the frames (and over {args.rounds} alternating round(s)); fps = 1000 / ms. `vs nano` = our end-to-end fps "
        "(decode excluded) / TrackerNano's, same run (median of the rounds' ratios).", "",
        "| model | backend | threads | frame | network ms | e2e ms (fps) | e2e + decode ms (fps) | vs nano |", "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        net = f"{r['net_ms']:.2f}" if r["net_ms"] is not None else "-"
        ratio = f"{r['vs_nano']:.2f}x" if r["vs_nano"] is not None else "-"
        lines.append(f"| {r['model']} | {r['backend']} | {r['threads']} | {r['size']} | {net} | {r['e2e_ms']:.2f} ({1000 / r['e2e_ms']:.0f}) | "
                     f"{r['e2e_decode_ms']:.2f} ({1000 / r['e2e_decode_ms']:.0f}) | {ratio} |")
    lines += ["", f"Batched pool (`TrackerPool`), one 640x480 stream, {torch.get_num_threads()} threads (on onnxruntime the targets run the one-target graph each, over one-thread workers).", "",
              "| model | backend | targets | ms per frame | frames/s | target-updates/s |", "|---|---|---|---|---|---|"]
    for r in pool_rows:
        lines.append(f"| {r['model']} | {r['backend']} | {r['targets']} | {r['ms']:.1f} | {1000 / r['ms']:.1f} | {r['targets'] * 1000 / r['ms']:.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"single": rows, "pool": pool_rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
