"""The OpenCV video loop: init on the first frame, update on the rest, draw, write, show.

Ctrl-C (or 'q'/Esc in the window) ends the loop early; what was tracked so far is
returned, so callers still close their output files properly.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Sequence

import numpy as np

from ..trackers.base import SiameseTracker, TrackResult
from .output import VideoOutput, draw

log = logging.getLogger(__name__)


@dataclass
class LoopSummary:
    boxes: List[tuple] = field(default_factory=list)
    scores: List[float] = field(default_factory=list)
    oks: List[bool] = field(default_factory=list)
    update_seconds: float = 0.0
    wall_seconds: float = 0.0
    interrupted: bool = False

    @property
    def frames(self) -> int:
        return len(self.boxes)

    @property
    def tracker_fps(self) -> float:
        """Frames per second of ``update`` alone."""
        return (self.frames - 1) / self.update_seconds if self.update_seconds > 0 else float("nan")

    @property
    def fps(self) -> float:
        """End to end: decoding, tracking, drawing and writing."""
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else float("nan")


def track_frames(
    tracker: SiameseTracker,
    frames: Iterable[np.ndarray],
    init_box: Optional[Sequence[float]] = None,
    select_box: Optional[Callable[[np.ndarray], Sequence[float]]] = None,
    video: Optional[VideoOutput] = None,
    show: Optional[Callable[[np.ndarray], bool]] = None,
    on_frame: Optional[Callable[[int], None]] = None,
    stop: Optional[Callable[[], bool]] = None,
) -> LoopSummary:
    """Track through ``frames``; ``show(image) -> False`` or ``stop() -> True`` ends the loop."""
    summary = LoopSummary()
    start = time.perf_counter()
    fps_smooth: Optional[float] = None
    try:
        for index, frame in enumerate(frames):
            if stop is not None and stop():
                summary.interrupted = True
                break
            if index == 0:
                box = init_box if init_box is not None else select_box(frame)
                tracker.init(frame, box)
                result = TrackResult(tuple(float(v) for v in box), 1.0, True)
            else:
                tic = time.perf_counter()
                result = tracker.update(frame)
                dt = time.perf_counter() - tic
                summary.update_seconds += dt
                fps_smooth = 1.0 / dt if fps_smooth is None else 0.9 * fps_smooth + 0.1 / max(dt, 1e-9)
            summary.boxes.append(result.box)
            summary.scores.append(result.score)
            summary.oks.append(result.ok)
            if video is not None or show is not None:
                annotated = draw(frame, result, fps_smooth)
                if video is not None:
                    video.write(annotated)
                if show is not None and not show(annotated):
                    summary.interrupted = True
                    break
            if on_frame is not None:
                on_frame(index)
    except KeyboardInterrupt:
        log.warning("interrupted after %d frames", summary.frames)
        summary.interrupted = True
    summary.wall_seconds = time.perf_counter() - start
    return summary
