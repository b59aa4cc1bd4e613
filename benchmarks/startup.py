#!/usr/bin/env python3
"""Start-up costs, each in a fresh process (median of --repeat): ``import tracker``,
``load_tracker()`` of the default model, whether torch got imported, and how long
``siamtrack track`` takes to report bad arguments (a malformed ``--init``, a box outside
the frame, a missing file). Printed and recorded; not a test (timings vary with load).

    python benchmarks/startup.py [--python /path/to/venv/bin/python] [--root CHECKOUT] [--repeat 5] [--out benchmarks/results/startup.md]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from _markdown import publish, table

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, time
start = time.perf_counter()
import tracker
imported = time.perf_counter()
t = tracker.load_tracker()
loaded = time.perf_counter()
print(json.dumps({"import": imported - start, "load": loaded - imported, "runtime": type(t.net).__name__,
                  "torch": "torch" in sys.modules, "file": tracker.__file__}))
"""


def timed(cmd, env, cwd) -> tuple:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    return time.perf_counter() - start, proc


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--python", default=sys.executable, help="the interpreter to measure (e.g. a venv without torch)")
    p.add_argument("--root", default=str(ROOT), help="the checkout whose tracker to measure (default: this one)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", default="benchmarks/results/startup.md")
    args = p.parse_args()
    env = dict(os.environ, PYTHONPATH=args.root)
    probes = []
    for _ in range(args.repeat):  # from a folder of no checkout: `python -c` puts the working folder first on sys.path
        proc = subprocess.run([args.python, "-c", PROBE], env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True,
                              timeout=300, check=True)
        probes.append(json.loads(proc.stdout))
    has_torch = subprocess.run([args.python, "-c", "import torch"], capture_output=True).returncode == 0
    with tempfile.TemporaryDirectory() as tmp:
        clip = str(Path(tmp) / "clip.mp4")
        writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
        for i in range(5):
            writer.write(np.full((48, 64, 3), i * 40, np.uint8))
        writer.release()
        cases = {"malformed --init (1,2,3)": [clip, "--init", "1,2,3"],
                 "box outside the frame (--init 5000,5000,10,10)": [clip, "--init", "5000,5000,10,10"],
                 "missing file": [str(Path(tmp) / "missing.mp4"), "--init", "1,1,5,5"]}
        errors = {}
        for what, cli_args in cases.items():
            runs = [timed([args.python, "-m", "tracker", "track", *cli_args], env, tmp) for _ in range(args.repeat)]
            errors[what] = (statistics.median(s for s, _ in runs), runs[0][1].returncode, runs[0][1].stderr.strip().splitlines()[-1])
    median = {k: statistics.median(p[k] for p in probes) for k in ("import", "load")}
    lines = [f"# Start-up ({'torch installed' if has_torch else 'no torch installed'})", "",
             f"`python benchmarks/startup.py {' '.join(sys.argv[1:])}`: median of {args.repeat} fresh processes of "
             f"`{args.python}` ({os.cpu_count()} cores, shared with other jobs), tracker from `{probes[0]['file']}`.", ""]
    lines += table(["step", "seconds"], [("`import tracker`", f"{median['import']:.3f}"),
                                          (f"`load_tracker()` (default model, on {probes[0]['runtime']})", f"{median['load']:.3f}"),
                                          ("torch imported by these", str(any(p["torch"] for p in probes)))])
    lines += ["", "`siamtrack track` with a bad argument, whole process (interpreter start included):", ""]
    lines += table(["argument", "seconds to the error", "exit code", "message"],
                   [(what, f"{s:.2f}", code, f"`{msg}`") for what, (s, code, msg) in errors.items()])
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
