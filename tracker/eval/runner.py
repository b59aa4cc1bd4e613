"""Run a tracker over a sequence: first-frame init, then ``update`` on every frame."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..data.sequence import Sequence
from ..trackers.base import TrackResult


@dataclass
class SequenceRun:
    """Per-frame results of one run (frame 0 holds the initial box, score 1)."""

    name: str
    boxes: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)
    ok: np.ndarray  # (N,) bool
    times: np.ndarray  # (N,) seconds of init/update alone
    decode_seconds: float = 0.0  # reading the frames, outside ``times``

    @property
    def fps(self) -> float:
        t = self.times[1:]
        return float(len(t) / t.sum()) if len(t) and t.sum() > 0 else float("nan")


def run_sequence(tracker, seq: Sequence, max_frames: Optional[int] = None, frame_reader: Optional[Callable[[int], np.ndarray]] = None) -> SequenceRun:
    """Track ``seq`` from its first box; ``tracker`` needs ``init(frame, box)``/``update(frame)``."""
    n = len(seq) if max_frames is None else min(len(seq), max_frames)
    read = frame_reader or seq.frame
    boxes = np.zeros((n, 4))
    scores = np.ones(n)
    ok = np.ones(n, dtype=bool)
    times = np.zeros(n)
    decode = 0.0
    for i in range(n):
        start = time.perf_counter()
        frame = read(i)
        decode += time.perf_counter() - start
        start = time.perf_counter()
        if i == 0:
            tracker.init(frame, tuple(seq.init_box))
            boxes[0] = seq.init_box
        else:
            result: TrackResult = tracker.update(frame)
            boxes[i], scores[i], ok[i] = result.box, result.score, result.ok
        times[i] = time.perf_counter() - start
    return SequenceRun(seq.name, boxes, scores, ok, times, decode)
