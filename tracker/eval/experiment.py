"""Run trackers over a dataset, in parallel worker processes, resumably.

Results are written in the got10k toolkit's layout - ``DIR/<tracker>/<seq>/<seq>_001.txt``
(one ``x,y,w,h`` line per frame, 0-based) and ``<seq>_time.txt`` (seconds per frame) -
each file written to a temporary name and renamed, so a killed run never leaves a torn
result; ``resume`` skips the sequences already complete.
"""
from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from ..data.sequence import Sequence
from ..digest import sha256_of, sha256_of_files
from ..threads import usable_cores
from .runner import run_sequence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerSpec:
    """What a worker needs to build a tracker: ``kind`` 'siamtrack' (model/weights) or 'opencv'."""

    name: str
    kind: str = "siamtrack"
    model: Optional[str] = None
    weights: Optional[str] = None
    device: str = "cpu"
    backend: str = "auto"  # auto | torch | onnxruntime (see load_tracker)
    overrides: Tuple[Tuple[str, Any], ...] = ()  # tracker hyper-parameters, ("siamrpn.lr", 0.2)
    fast: bool = True  # False: the network exactly as trained (see load_tracker)

    def build(self, max_threads: Optional[int] = None):
        """The tracker, its runtime on at most ``max_threads`` threads (a worker's share)."""
        if self.kind == "opencv":
            from .baselines import OpenCVTracker

            return OpenCVTracker(self.model)
        from ..zoo import load_tracker

        return load_tracker(self.model, weights=self.weights, device=self.device, backend=self.backend, overrides=dict(self.overrides),
                            fast=self.fast, max_threads=max_threads)


def fingerprint(spec: TrackerSpec) -> Dict[str, Any]:
    """What a tracker's results depend on: the spec and the bytes of its weights (a shipped
    model's manifest sha256, a ``weights=`` file's own) and of this package's tracking code
    (the post-processing and the crops), or OpenCV's version for a baseline."""
    data: Dict[str, Any] = {"spec": {k: list(map(list, v)) if k == "overrides" else v for k, v in vars(spec).items()}}
    if spec.kind == "opencv":
        import cv2

        data["opencv"] = cv2.__version__
        return data
    data["tracking_code_sha256"] = tracking_code_digest()
    if spec.weights is not None:
        data["weights_sha256"] = sha256_of(spec.weights) if Path(spec.weights).is_file() else None
    else:
        from ..zoo import DEFAULT_MODEL, shipped_entry

        data["weights_sha256"] = shipped_entry(spec.model or DEFAULT_MODEL).get("sha256")
    return data


def tracking_code_digest() -> str:
    """One sha256 of the modules that turn network outputs into boxes (``tracker/trackers``,
    ``tracker/geometry.py``): a change there changes every tracker's results."""
    package = Path(__file__).resolve().parents[1]
    return sha256_of_files([*sorted((package / "trackers").glob("*.py")), package / "geometry.py"])


def _resumable(results_dir: Path, spec: TrackerSpec) -> bool:
    """True when results already in ``results_dir`` were made by this very ``spec`` (its
    fingerprint is kept beside them); results of another model, weights, overrides or
    backend under the same name, or of other tracking code, are not resumed but re-run."""
    path = results_dir / spec.name / "tracker.json"
    current = json.loads(json.dumps(fingerprint(spec), default=str))
    try:
        previous = json.loads(path.read_text()) if path.is_file() else None
    except ValueError:
        previous = None
    if previous == current:
        return True
    if any((results_dir / spec.name).glob("*/*_001.txt")):
        log.warning("results of %s in %s were made by another model or settings%s: re-running every sequence",
                    spec.name, results_dir, "" if previous else " (or an older siamtrack)")
    _write_atomic(path, json.dumps(current, indent=1) + "\n")
    return False


def result_paths(results_dir: Path, tracker: str, seq: str):
    folder = results_dir / tracker / seq
    return folder / f"{seq}_001.txt", folder / f"{seq}_time.txt"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def is_done(results_dir: Path, tracker: str, seq: Sequence) -> bool:
    boxes, times = result_paths(results_dir, tracker, seq.name)
    if not (boxes.is_file() and times.is_file()):
        return False
    return len(boxes.read_text().splitlines()) == len(seq)


def track_one(spec: TrackerSpec, seq: Sequence, results_dir: str, max_threads: Optional[int] = None) -> Dict:
    """Track ``seq`` with a fresh tracker and write its result files (runs in a worker)."""
    run = run_sequence(spec.build(max_threads), seq)
    box_path, time_path = result_paths(Path(results_dir), spec.name, seq.name)
    _write_atomic(time_path, "".join(f"{t:.6f}\n" for t in run.times))
    _write_atomic(box_path, "".join(",".join(f"{v:.3f}" for v in b) + "\n" for b in run.boxes))  # last: marks done
    return {"tracker": spec.name, "sequence": seq.name, "frames": len(seq), "update_s": float(run.times[1:].sum()), "decode_s": run.decode_seconds}


def temporal_starts(sequences: List[Sequence], count: int) -> List[Sequence]:
    """OTB's temporal robustness evaluation (TRE): each sequence tracked from ``count`` start
    frames spread evenly over it, each run to its end. On a small set one track that flips
    between success and failure moves a sequence's AUC by 0.3; more runs a sequence average
    over more such events. A start on an absent frame moves to the next visible one. The
    first run is the sequence itself (one-pass evaluation's run, so its results are shared);
    the others are named ``<sequence>@<start frame>`` (0-based)."""
    runs: List[Sequence] = []
    for seq in sequences:
        starts: List[int] = []
        for k in range(count):
            start = k * len(seq) // count
            visible = np.flatnonzero(seq.visible[start:])
            if not len(visible):
                continue
            start += int(visible[0])
            if start < len(seq) - 1 and start not in starts:
                starts.append(start)
        runs += [seq if start == 0 else seq.starting_at(start, f"{seq.name}@{start}") for start in starts]
    return runs


def run_experiment(
    specs: List[TrackerSpec],
    sequences: List[Sequence],
    results_dir: str,
    workers: int = 1,
    resume: bool = True,
    on_done: Optional[Callable[[Dict], None]] = None,
    ray_address: Optional[str] = None,
) -> List[Dict]:
    """Every (tracker, sequence) not yet done, over ``workers`` processes (1: in-process),
    or as tasks on a Ray cluster when ``ray_address`` is given ("local" starts one here)."""
    results_path = Path(results_dir)
    resumable = {s.name: _resumable(results_path, s) and resume for s in specs}
    jobs = [(s, q) for s in specs for q in sequences if not (resumable[s.name] and is_done(results_path, s.name, q))]
    skipped = len(specs) * len(sequences) - len(jobs)
    if skipped:
        log.info("resume: %d finished sequence runs skipped", skipped)
    done: List[Dict] = []
    if ray_address is not None:
        return _run_on_ray(jobs, results_dir, ray_address, on_done)
    if workers <= 1:
        for spec, seq in jobs:
            done.append(track_one(spec, seq, results_dir))
            if on_done:
                on_done(done[-1])
        return done
    share = max(1, usable_cores() // workers)  # a worker's share of the cores; its policy may use fewer
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(track_one, spec, seq, results_dir, share) for spec, seq in jobs]
        for future in as_completed(futures):
            done.append(future.result())
            if on_done:
                on_done(done[-1])
    return done


def load_results(results_dir: str, tracker: str, seq: Sequence) -> tuple:
    box_path, time_path = result_paths(Path(results_dir), tracker, seq.name)
    boxes = np.loadtxt(box_path, delimiter=",", ndmin=2)
    times = np.loadtxt(time_path, ndmin=1)
    return boxes, times


def _run_on_ray(jobs, results_dir: str, address: str, on_done) -> List[Dict]:
    """One Ray task per (tracker, sequence); results land in the same files as local runs,
    so the results folder must be on storage every node sees."""
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("--ray needs the optional dependency: pip install 'siamtrack[ray]'") from exc
    started = not ray.is_initialized()
    if started:
        ray.init(address=None if address == "local" else address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(track_one)
    pending = [remote.remote(spec, seq, results_dir, 1) for spec, seq in jobs]
    done: List[Dict] = []
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            done.append(ray.get(ready[0]))
            if on_done:
                on_done(done[-1])
    finally:
        if started:
            ray.shutdown()
    return done
