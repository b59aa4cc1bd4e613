#!/usr/bin/env python3
"""The release tracks: build the sdist and the wheel (``python -m build``: the wheel is built
from the sdist, so both are checked), install the wheel in a fresh venv without torch, and run
scripts/check_no_torch.py there from a folder outside the checkout, as `.ci/run` does.

    python scripts/check_wheel.py [--keep DIR]
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def step(what: str, command: list, cwd: Path) -> None:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"FAIL: {what} exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    print(f"ok ({time.perf_counter() - start:.1f} s): {what}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keep", type=Path, help="build and install here and keep it (default: a temporary folder)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        venv, dist, work = base / "venv", base / "dist", base / "work"
        work.mkdir(parents=True, exist_ok=True)
        python = venv / "bin" / "python"
        step("python -m venv", [sys.executable, "-m", "venv", str(venv)], base)
        step("pip install build", [str(python), "-m", "pip", "install", "-q", "build"], base)
        step("python -m build (sdist, then the wheel from it)", [str(python), "-m", "build", "--outdir", str(dist), str(ROOT)], base)
        wheels, sdists = glob.glob(str(dist / "*.whl")), glob.glob(str(dist / "*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            raise SystemExit(f"FAIL: expected one wheel and one sdist in {dist}: {wheels + sdists}")
        names = zipfile.ZipFile(wheels[0]).namelist()
        for needed in ("tracker/weights/manifest.json", "LICENSE", "NOTICE"):
            if not any(n == needed or n.endswith("/licenses/" + needed) for n in names):
                raise SystemExit(f"FAIL: {needed} is not in {wheels[0]}")
        size = Path(wheels[0]).stat().st_size / 1e6
        print(f"ok: {Path(wheels[0]).name} ({size:.0f} MB, {len(names)} files), {Path(sdists[0]).name}")
        step("pip install the wheel", [str(python), "-m", "pip", "install", "-q", wheels[0]], base)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SIAMTRACK_WEIGHTS", "VIRTUAL_ENV")}
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.run([str(python), str(ROOT / "scripts" / "check_no_torch.py"), "--installed"], cwd=work, env=env)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
