#!/usr/bin/env python3
"""The base install tracks without torch: run inside an environment made by
``python -m venv`` + ``pip install <wheel>`` (or ``pip install -e .``; no torch extra), as
scripts/check_wheel.py does for `.ci/run`.

Checks that ``import torch`` fails there, then: ``siamtrack --list-models`` (every model of the
manifest, with its description), ``siamtrack track`` (the demo), ``siamtrack track clip.mp4
--init ...``, ``siamtrack eval`` on a val subset, ``load_tracker(name)`` and a ``TrackerPool`` for
every shipped model, and a torch-only option failing with one line. ``--installed``: the
package and its weights must come from the environment, not from this checkout.

    python scripts/check_no_torch.py [--installed] [--val ../shared/data/sot/val]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def siamtrack(args, cwd, expect=0) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    proc = subprocess.run([shutil.which("siamtrack") or "siamtrack", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    if proc.returncode != expect:
        raise SystemExit(f"FAIL: siamtrack {' '.join(args)} exited {proc.returncode}, not {expect}:\n{proc.stderr[-2000:]}")
    print(f"ok ({time.perf_counter() - start:.1f} s): siamtrack {' '.join(args)}")
    return proc


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--installed", action="store_true", help="fail if tracker or its weights are read from this checkout")
    p.add_argument("--val", default=os.path.join(os.environ.get("SIAMTRACK_SHARED", str(ROOT.parent / "shared")), "data/sot/val"))
    args = p.parse_args()
    if importlib.util.find_spec("torch") is not None:
        raise SystemExit(f"FAIL: torch is importable in {sys.prefix}: this check needs an environment without it")
    print(f"ok: no torch in {sys.prefix}")

    import cv2

    import tracker
    from tracker import TrackerPool, list_models, load_tracker
    from tracker.video.demo import generate_clip
    from tracker.zoo import manifest, weights_dir

    print(f"tracker from {tracker.__file__}, weights from {weights_dir()}")
    if args.installed and ROOT in (Path(tracker.__file__).resolve().parents[1], weights_dir().resolve().parent):
        raise SystemExit(f"FAIL: --installed, but tracker or its weights come from the checkout {ROOT}")
    shipped = sorted(manifest()["models"])
    if list_models() != shipped:
        raise SystemExit(f"FAIL: list_models() is {list_models()}, the manifest lists {shipped}")
    with tempfile.TemporaryDirectory() as tmp:
        listing = siamtrack(["--list-models"], tmp).stdout.splitlines()
        for name in shipped:
            line = next((row for row in listing if row.split()[:1] == [name]), "")
            if manifest()["models"][name]["description"] not in line:
                raise SystemExit(f"FAIL: siamtrack --list-models has no line with {name}'s description: {listing}")
        siamtrack(["track"], tmp)
        clip = generate_clip(num_frames=30)
        path = str(Path(tmp) / "clip.mp4")
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 30, (clip.frames[0].shape[1], clip.frames[0].shape[0]))
        for frame in clip.frames:
            writer.write(frame)
        writer.release()
        box = ",".join(f"{v:.1f}" for v in clip.boxes[0])
        siamtrack(["track", path, "--init", box, "--init", "10,10,60,60", "--results", "r.txt", "--save", "out.mp4"], tmp)
        error = siamtrack(["track", path, "--init", box, "--backend", "torch"], tmp, expect=2)
        if "siamtrack[torch]" not in error.stderr or len(error.stderr.strip().splitlines()) != 1:
            raise SystemExit(f"FAIL: --backend torch without torch is not one line naming the extra: {error.stderr!r}")
        if Path(args.val).is_dir():
            names = sorted(p.name for p in Path(args.val).iterdir() if p.is_dir())[:2]
            siamtrack(["eval", args.val, "--model", "mobilenet_fc", "--model", "light", "--sequences", ",".join(names),
                       "--baselines", "none", "--results-dir", "eval", "--report", "report"], tmp)
        else:
            print(f"skipped: siamtrack eval ({args.val} not found)")
    for name in list_models():
        start = time.perf_counter()
        single = load_tracker(name)
        seconds = time.perf_counter() - start
        single.init(clip.frames[0], clip.boxes[0])
        pool = TrackerPool(load_tracker(name))
        first = pool.add(clip.frames[0], clip.boxes[0])
        pool.add(clip.frames[0], (10, 10, 60, 60))
        for frame in clip.frames[1:10]:
            alone, pooled = single.update(frame), pool.update(frame)
            if max(abs(a - b) for a, b in zip(alone.box, pooled[first].box)) > 1e-3:
                raise SystemExit(f"FAIL: {name}: the pool's box {pooled[first].box} is not the single tracker's {alone.box}")
        print(f"ok: {name}: load_tracker {seconds:.2f} s ({type(single.net).__name__}), pool == single tracker")
    if "torch" in sys.modules:
        raise SystemExit("FAIL: torch got imported")
    print("all no-torch checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
