#!/usr/bin/env python3
"""Training data at scale: peak memory against the number of sequences, and throughput.

``memory``: generated datasets in the GOT-10k, LaSOT, TrackingNet and COCO layouts (small
JPEGs, N sequences in all, a quarter in each layout), mixed by ``data.datasets`` and trained on
for a few dozen steps of the light model, each run in a fresh process whose peak RSS (VmHWM)
and that of its largest child (DataLoader worker, crop cutter) are read at its end; frames read
from files and from the crop cache, against today's path (a GOT-10k-layout ``train_roots``
decoded into memory) on the same number of sequences.

``train_roots``: one generated GOT-10k-layout root as ``data.train_roots`` of a shipped config
(``light.yaml``), N sequences of 30 frames, a few steps each: the peak RSS at each N, the trainer
decoding the frames into memory while they fit ``data.memory_budget_mb`` and reading them
through the frame index otherwise.

``throughput``: on ``sot/train``, pairs/s of the loader alone (0, 1, 2 workers, or
``--worker-counts``) and of training the light model on ``--device``, today's in-memory path
against files and crops read by workers, in one run. On a 2-core CPU the workers take their
CPU from the training's own threads; on a GPU host they feed an otherwise idle accelerator,
which is what the comparison is for (``scripts/gpu_session.sh`` runs it there).

    python benchmarks/data_scale.py memory [--sizes 200,5000] [--out benchmarks/results/data_scale.md]
    python benchmarks/data_scale.py throughput [--device cuda] [--worker-counts 0,4,8] [--out benchmarks/results/data_throughput.md]
    python benchmarks/data_scale.py train_roots [--sizes 200,3000] [--config configs/train/light.yaml] [--frames 30]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _markdown import publish, table

SHARED = Path(os.environ.get("SIAMTRACK_SHARED", "../shared"))
ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ("got10k", "lasot", "trackingnet", "coco")


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_config(data: dict, steps: int, batch: int, workers: int):
    from tracker.config import from_dict
    from tracker.train import TrainConfig

    optim = {"epochs": 1, "pairs_per_epoch": steps * batch, "batch_size": batch, "warmup_epochs": 0.1}
    return from_dict({"model": "light", "data": {"val_sequences": 0, **data}, "optim": optim, "workers": workers,
                      "checkpoint_every": 10**6}, TrainConfig)


def shipped_config(path: str, train_root: str, steps: int):
    """A shipped training config on ``train_root`` alone, cut to ``steps`` steps of its own batch."""
    from tracker.config import load_config_file, with_overrides
    from tracker.train import TrainConfig

    cfg = load_config_file(path, TrainConfig)
    return with_overrides(cfg, {"data.train_roots": [train_root], "data.clip_dirs": [], "data.val_sequences": 0, "optim.epochs": 1,
                                "optim.pairs_per_epoch": steps * cfg.optim.batch_size, "checkpoint_every": 10**6})


def child(spec: dict) -> None:
    """One training run (in its own process): its peak memory and pace as JSON on stdout."""
    from tracker.train import Trainer

    if "config" in spec:
        cfg = shipped_config(spec["config"], spec["train_root"], spec["steps"])
    else:
        cfg = train_config(spec["data"], spec["steps"], spec["batch"], spec["workers"])
    tic = time.perf_counter()
    trainer = Trainer(cfg, spec["out"], device="cpu")
    ready = time.perf_counter()
    indexed = bool(trainer.cfg.data.datasets)
    trainer.fit()
    del trainer
    gc.collect()
    print(json.dumps({"setup_s": ready - tic, "train_s": time.perf_counter() - ready, "rss_mb": vm_hwm_mb(),
                      "child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "indexed": indexed}))


def run_child(spec: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, __file__, "child", json.dumps(spec)], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory(args) -> list:
    from tracker.data.synthetic import write_dataset

    base = Path(tempfile.mkdtemp(prefix="data_scale_"))
    rows = []
    try:
        for n in args.sizes:
            roots = {k: write_dataset(k, base / str(n) / k, n // len(LAYOUTS), frames=3, seed=i) for i, k in enumerate(LAYOUTS)}
            modes = {
                "files": {"datasets": [{"kind": k, "root": str(r), "frames": "files"} for k, r in roots.items()]},
                "crops": {"datasets": [{"kind": k, "root": str(r), "frames": "crops"} for k, r in roots.items()],
                          "crop_dir": str(base / str(n) / "crops")},
                "memory (today)": {"train_roots": [str(write_dataset("got10k", base / str(n) / "all", n, frames=3))], "clip_dirs": []},
            }
            for mode, data in modes.items():
                spec = {"data": data, "steps": args.steps, "batch": args.batch, "workers": args.workers, "out": str(base / f"run_{n}_{len(rows)}")}
                result = run_child(spec)
                print(n, mode, result, flush=True)
                rows.append((mode, n, result))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lines = ["# Peak memory against the number of training sequences", "",
             f"`python benchmarks/data_scale.py memory {' '.join(sys.argv[2:])}`", "",
             f"Light model, {args.steps} steps of {args.batch} pairs, {args.workers} DataLoader workers, each run a fresh process "
             f"(CPU, load average {os.getloadavg()[0]:.1f} at the end: the machine is shared). Datasets generated "
             "(160x120 JPEGs, 3 frames a sequence); files and crops: a mix of GOT-10k, LaSOT, TrackingNet and "
             "COCO layouts (N/4 sequences each; COCO: N/4 objects, two an image) in `data.datasets`; memory (today): "
             "`train_roots` with N GOT-10k-layout sequences, decoded into memory. RSS: VmHWM of the training process; "
             "child: the largest peak of its children (DataLoader workers, crop cutters). Setup: indexing, cutting "
             "crops or decoding frames, building the model.", ""]
    sizes = args.sizes
    header = ["frames from"] + [f"RSS MB, N={n}" for n in sizes] + [f"{sizes[-1]} / {sizes[0]}"] + [f"child MB, N={n}" for n in sizes] + [f"setup s, N={n}" for n in sizes]
    out_rows = []
    for mode in ("files", "crops", "memory (today)"):
        r = {n: res for m, n, res in rows if m == mode}
        out_rows.append([mode] + [f"{r[n]['rss_mb']:.0f}" for n in sizes] + [f"{r[sizes[-1]]['rss_mb'] / r[sizes[0]]['rss_mb']:.2f}x"]
                        + [f"{r[n]['child_rss_mb']:.0f}" for n in sizes] + [f"{r[n]['setup_s']:.1f}" for n in sizes])
    return lines + table(header, out_rows)


def train_roots(args) -> list:
    """``data.train_roots`` as a user points it at a dataset, on a shipped config: peak RSS at
    each size, the frames decoded into memory or read through the index as the budget decides."""
    from tracker.data.synthetic import write_dataset

    base = Path(tempfile.mkdtemp(prefix="data_scale_roots_"))
    rows = []
    try:
        for n in args.sizes:
            root = write_dataset("got10k", base / str(n), n, frames=args.frames)
            result = run_child({"config": args.config, "train_root": str(root), "steps": args.steps, "out": str(base / f"run_{n}")})
            print(n, result, flush=True)
            rows.append((n, result))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    first = rows[0][1]["rss_mb"]
    lines = ["# Peak memory of `data.train_roots` against the number of sequences", "",
             f"`python benchmarks/data_scale.py train_roots {' '.join(sys.argv[2:])}`", "",
             f"`{args.config}` with `data.train_roots` = one generated GOT-10k-layout root (160x120 JPEGs, {args.frames} frames a "
             f"sequence), `clip_dirs: []`, no validation, {args.steps} steps of its batch, each size in a fresh process (CPU, load "
             f"average {os.getloadavg()[0]:.1f} at the end: the machine is shared). The trainer decodes the frames into memory "
             "while their estimated decoded size fits `data.memory_budget_mb` (4096 by default), and reads them through the "
             "frame index otherwise (tracker/train/budget.py). RSS: VmHWM of the training process.", ""]
    return lines + table(["sequences", "frames", "frames read", "peak RSS MB", "ratio to the first", "setup s", "train s"],
                         [[n, n * args.frames, "from files (index)" if r["indexed"] else "decoded into memory", f"{r['rss_mb']:.0f}",
                           f"{r['rss_mb'] / first:.2f}x", f"{r['setup_s']:.1f}", f"{r['train_s']:.1f}"] for n, r in rows])


def loader_rate(dataset, pairs: int, batch: int, workers: int) -> float:
    from torch.utils.data import DataLoader, Subset

    loader = DataLoader(Subset(dataset, range(pairs)), batch_size=batch, num_workers=workers)
    tic = time.perf_counter()
    for _ in loader:
        pass
    return pairs / (time.perf_counter() - tic)


def training_rate(cfg, out: str, steps: int, device: str, sources=None) -> tuple:
    """Mean pairs/s, the median step's pairs/s (robust to the stalls other jobs cause on a
    shared CPU), that of the fastest step and the mean data wait of ``steps`` steps (the first,
    which starts the workers, left out)."""
    from tracker.train import Trainer

    trainer = Trainer(cfg, out, device=device, sources=sources)
    trainer.fit(max_iterations=steps)
    steps = [r for r in map(json.loads, (Path(out) / "log.jsonl").read_text().splitlines()) if "iteration" in r]
    elapsed = steps[-1]["time"] - steps[0]["time"]
    rates = [r["pairs_per_s"] for r in steps[1:]]
    return ((len(steps) - 1) * cfg.optim.batch_size / elapsed, statistics.median(rates), max(rates),
            sum(r["data_wait_s"] for r in steps[1:]) / (len(steps) - 1))


def throughput(args) -> list:
    import torch

    from tracker.data.frames import FrameCache
    from tracker.data.pairs import PairDataset
    from tracker.threads import usable_cores
    from tracker.train.datasets import build_mix
    from tracker.train.trainer import build_sources

    root = str(SHARED / "data/sot/train")
    counts = sorted(set(args.worker_counts) | {0})
    base = Path(tempfile.mkdtemp(prefix="data_throughput_"))
    batch, steps = args.batch, args.steps
    today = train_config({"train_roots": [root], "clip_dirs": [], "preload": True}, steps, batch, 0)
    pairs = replace(today.pairs, instance_size=255)
    tic = time.perf_counter()
    sources = build_sources(today, FrameCache())
    decode_s = time.perf_counter() - tic
    modes = {"memory (today)": PairDataset(sources, pairs, 10**6, today.seed)}
    setup = {"memory (today)": decode_s}
    cut = not any(Path(args.crop_dir).glob("got10k-train-*/COMPLETE"))
    for frames in ("files", "crops"):
        data = {"datasets": [{"kind": "got10k", "root": root, "frames": frames}], "crop_dir": args.crop_dir}
        cfg = train_config(data, steps, batch, 0)
        tic = time.perf_counter()
        modes[frames] = build_mix(replace(cfg, optim=replace(cfg.optim, pairs_per_epoch=10**6)), pairs)
        setup[frames] = time.perf_counter() - tic
    loader_rows = []
    for mode, dataset in modes.items():
        dataset.set_epoch(1)
        loader_rows.append([mode, f"{setup[mode]:.1f}"] + [f"{loader_rate(dataset, args.loader_pairs, batch, w):.0f}" for w in counts])
        print(loader_rows[-1], flush=True)
    most = max(counts)
    with_workers = [w for w in counts if w > 0]
    settings = [("memory (today)", 0), ("memory (today)", most)] + [(frames, w) for frames in ("files", "crops") for w in with_workers]
    runs = {s: [] for s in settings}
    order = [s for r in range(args.rounds) for s in (settings if r % 2 == 0 else settings[::-1])]  # ABBA...: load drifts
    for n, (mode, workers) in enumerate(order):
        if mode == "memory (today)":
            cfg, src = replace(today, workers=workers), sources
        else:
            cfg, src = train_config({"datasets": [{"kind": "got10k", "root": root, "frames": mode}], "crop_dir": args.crop_dir}, steps, batch, workers), None
        runs[(mode, workers)].append(training_rate(cfg, str(base / f"run{n}"), steps, args.device, src))
        print(mode, workers, runs[(mode, workers)][-1], flush=True)
    base_median = statistics.median(r[1] for r in runs[settings[0]])
    train_rows = []
    for (mode, workers), rs in runs.items():
        median = statistics.median(r[1] for r in rs)
        train_rows.append([mode, workers, f"{sum(r[0] for r in rs) / len(rs):.1f}", " / ".join(f"{r[0]:.1f}" for r in rs),
                           f"{median:.1f}", f"{median / base_median:.2f}x", f"{max(r[2] for r in rs):.1f}", f"{sum(r[3] for r in rs) / len(rs):.3f}"])
    shutil.rmtree(base, ignore_errors=True)
    lines = ["# Training data throughput on sot/train", "",
             f"`python benchmarks/data_scale.py throughput {' '.join(sys.argv[2:])}`", "",
             f"{root} (42 sequences, 7,991 frames of at most 480 px), training on {device_name(args.device)}, "
             f"{usable_cores()} usable CPU cores (load average {os.getloadavg()[0]:.1f} at the end), torch threads "
             f"{torch.get_num_threads()}, batch {batch}. Setup: decoding every frame (memory), indexing (files), "
             f"indexing and {'cutting' if cut else 'checking'} the crop cache (crops; {'cut in this run' if cut else 'cut by an earlier run'}).", "",
             "## The loader alone", "", f"pairs/s over {args.loader_pairs} pairs, worker start-up included.", ""]
    lines += table(["frames from", "setup s"] + [f"{w} worker{'' if w == 1 else 's'}" for w in counts], loader_rows)
    lines += ["", "## Training the light model", "",
              f"{steps} steps a run, {args.rounds} rounds of the runs, in the order of the table and in reverse "
              "by turns; pairs/s and mean data-loader wait per step, the first step of a run left out; median step: "
              "the median over the runs of each run's median step (robust to the stalls other jobs cause), and "
              "its ratio to the first row's; best step: the pairs/s of the fastest step.", ""]
    return lines + table(["frames from", "workers", "pairs/s (mean)", "pairs/s of each run", "median step pairs/s", "ratio",
                          "best step pairs/s", "data wait s"], train_rows)


def device_name(device: str) -> str:
    import torch

    return f"{torch.cuda.get_device_name(torch.device(device))} (CUDA)" if device.startswith("cuda") else "the CPU"


def main() -> int:
    if sys.argv[1:2] == ["child"]:
        child(json.loads(sys.argv[2]))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=["memory", "throughput", "train_roots"])
    p.add_argument("--sizes", default="200,5000", help="memory: numbers of sequences")
    p.add_argument("--steps", type=int, default=None, help="training steps (memory 30, throughput 12)")
    p.add_argument("--batch", type=int, default=None, help="pairs a step (memory 8, throughput 32)")
    p.add_argument("--workers", type=int, default=2, help="memory: DataLoader workers")
    p.add_argument("--rounds", type=int, default=2, help="throughput: rounds of the training settings, every other one in reverse order")
    p.add_argument("--loader-pairs", type=int, default=384, help="throughput: pairs the loader makes per setting")
    p.add_argument("--device", default="cpu", help="throughput: where the light model trains (cpu, cuda)")
    p.add_argument("--worker-counts", default="0,1,2", help="throughput: DataLoader worker counts to compare (0 is always run)")
    p.add_argument("--crop-dir", default=os.path.join(tempfile.gettempdir(), "siamtrack_bench_crops"), help="throughput: crop cache (kept for re-runs)")
    p.add_argument("--config", default="configs/train/light.yaml", help="train_roots: the shipped training config")
    p.add_argument("--frames", type=int, default=30, help="train_roots: frames a generated sequence")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    try:
        args.worker_counts = [int(w) for w in args.worker_counts.split(",")]
    except ValueError:
        p.error(f"--worker-counts: comma list of integers expected, got {args.worker_counts!r}")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            p.error(f"--device {args.device}: no CUDA device visible to torch {torch.__version__}")
    if min(args.worker_counts) < 0 or max(args.worker_counts) == 0:
        p.error("--worker-counts: counts >= 0 with at least one above 0 (the runs with workers are what is compared)")
    if args.part == "train_roots":
        args.steps = args.steps or 5
        publish(train_roots(args), args.out or "benchmarks/results/data_scale_train_roots.md")
        return 0
    memory_part = args.part == "memory"
    args.steps = args.steps or (30 if memory_part else 12)
    args.batch = args.batch or (8 if memory_part else 32)
    out = args.out or f"benchmarks/results/data_{'scale' if memory_part else 'throughput'}.md"
    publish((memory if memory_part else throughput)(args), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
