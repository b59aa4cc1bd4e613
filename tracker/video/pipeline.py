"""``track_video``: one generator over any source, for any number of targets.

>>> for frame_index, frame, results in track_video("clip.mp4", [(10, 20, 30, 40), (200, 80, 50, 60)]):
...     for r in results:      # one TargetResult per target: r.id, r.box, r.score, r.ok
...         ...

All targets share one :class:`~tracker.trackers.TrackerPool`: one batched network call a
frame, the same boxes as independent trackers. Targets can also be added and removed between
frames (:meth:`TrackedVideo.add`, :meth:`TrackedVideo.remove`), starting from none (``boxes=[]``):
what ``siamtrack serve`` does when a user draws a box in the browser. Files and image folders give every frame;
cameras and streams the newest one, so results stay current when tracking is slower than
the source (``dropped_frames`` counts what was skipped). The ``siamtrack track`` command
is this loop plus drawing and writing.
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import InvalidBoxError, SourceError, TrackerError
from ..geometry import Box
from ..inputs import validate_box
from ..trackers import SiameseTracker, TrackerPool
from .sources import ArraySource, FrameSource, SourceFrame, open_source

Source = Union[str, int, Path, FrameSource, Iterable[np.ndarray]]
BoxSelector = Callable[[np.ndarray], Sequence[Sequence[float]]]


@dataclass(frozen=True)
class TargetResult:
    """One target in one frame (the first frame: its initial box, score 1, ok)."""

    frame: int  # index in the source: a live source's dropped frames leave gaps
    time: Optional[float]  # live: time.time() when read; files: index / fps; None without a frame rate
    id: int  # the target's place in ``boxes``
    box: Box  # x, y, w, h: 0-based float pixels
    score: float
    ok: bool

    def to_json(self) -> Dict[str, Any]:
        """What ``--results -`` writes, a line per frame and target."""
        return {"frame": self.frame, "time": None if self.time is None else round(self.time, 6), "id": self.id,
                "box": [round(float(v), 3) for v in self.box], "score": round(float(self.score), 5), "ok": bool(self.ok)}


def as_source(source: Source) -> FrameSource:
    """A :class:`FrameSource` as is, a path/URL/camera index opened, any other iterable of frames wrapped."""
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, (str, int, Path)):
        return open_source(str(source) if isinstance(source, Path) else source)
    return ArraySource(source, fps=None)  # frames from a program: no frame rate known


def as_boxes(boxes: Union[Sequence[float], Sequence[Sequence[float]]]) -> List[Sequence[float]]:
    """One box (four numbers) or a sequence of boxes (perhaps empty) -> a list of boxes."""
    items = list(boxes)
    if len(items) == 4 and all(isinstance(v, numbers.Real) for v in items):
        return [items]
    return items


class TrackedVideo:
    """What :func:`track_video` returns: iterate it for ``(frame_index, frame, results)``;
    it also counts frames and times, and closes its source when done (or on ``close()``).

    The first frame is read and the targets started at construction, so a source without
    frames or a box outside the frame fails there, before any output is opened; the boxes
    are checked against that frame before ``tracker`` (a tracker, or a function making
    one) loads its model.
    """

    def __init__(self, tracker: Union[SiameseTracker, Callable[[], SiameseTracker]], source: FrameSource,
                 boxes: Optional[List[Sequence[float]]], select: Optional[BoxSelector], stop: Optional[Callable[[], bool]]) -> None:
        self.source = source
        self.frames = 0  # frames yielded so far
        self.update_seconds = 0.0  # in the pool's update (all targets), first frame excluded
        self.last_update_seconds = 0.0
        self._end: Optional[float] = None
        self._current: Optional[SourceFrame] = None  # the newest frame yielded: where add() starts a target
        items = source.frames(stop)
        try:
            first = next(items, None)
            if first is None:
                raise SourceError(f"no frames were read from {source.name}")
            chosen = as_boxes(boxes if boxes is not None else select(first.image))
            for box in chosen:
                validate_box(box, first.image.shape)
            self.pool = TrackerPool(tracker if isinstance(tracker, SiameseTracker) else tracker())
            self._start = time.perf_counter()
            ids = [self.pool.add(first.image, box) for box in chosen]
        except BaseException:
            source.close()
            raise
        started = [TargetResult(first.index, first.time, i, tuple(float(v) for v in box), 1.0, True) for i, box in zip(ids, chosen)]
        self._iterator = self._run(first, started, items, stop)

    def __iter__(self) -> Iterator[Tuple[int, np.ndarray, List[TargetResult]]]:
        return self._iterator

    def __enter__(self) -> "TrackedVideo":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def add(self, box: Sequence[float]) -> TargetResult:
        """Start tracking ``box`` on the newest frame yielded; from the thread iterating, between
        frames. Its result there (score 1, ok) is returned: the next frames' results include it."""
        if self._current is None:
            raise TrackerError("no frame yet: add targets once the first frame has been yielded")
        start = validate_box(box, self._current.image.shape)
        target = self.pool.add(self._current.image, start)
        return TargetResult(self._current.index, self._current.time, target, start, 1.0, True)

    def remove(self, target_id: int) -> None:
        """Stop tracking a target (between frames, like :meth:`add`)."""
        self.pool.remove(target_id)

    def close(self) -> None:
        self._iterator.close()
        self.source.close()

    @property
    def dropped_frames(self) -> int:
        """Frames a live source skipped to stay current (0 for files and folders)."""
        return self.source.dropped_frames

    @property
    def wall_seconds(self) -> float:
        return (self._end or time.perf_counter()) - self._start

    @property
    def tracker_fps(self) -> float:
        """Frames per second of the pool's update alone."""
        return (self.frames - 1) / self.update_seconds if self.update_seconds > 0 else float("nan")

    @property
    def fps(self) -> float:
        """End to end: reading, tracking and whatever the caller does with each frame."""
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else float("nan")

    def _run(self, first: SourceFrame, started: List[TargetResult], items: Iterator[SourceFrame],
             stop: Optional[Callable[[], bool]]) -> Iterator[Tuple[int, np.ndarray, List[TargetResult]]]:
        try:
            self.frames = 1
            self._current = first
            yield first.index, first.image, started
            for item in items:
                if stop is not None and stop():
                    break
                tic = time.perf_counter()
                tracked = self.pool.update(item.image)
                self.last_update_seconds = time.perf_counter() - tic
                self.update_seconds += self.last_update_seconds
                self.frames += 1
                self._current = item
                yield item.index, item.image, [TargetResult(item.index, item.time, i, r.box, r.score, r.ok) for i, r in tracked.items()]
        finally:
            self._end = time.perf_counter()
            self.source.close()


def track_video(
    source: Source,
    boxes: Union[Sequence[float], Sequence[Sequence[float]], None] = None,
    model: Union[str, SiameseTracker, None] = None,
    *,
    select: Optional[BoxSelector] = None,
    stop: Optional[Callable[[], bool]] = None,
    **load_options: Any,
) -> TrackedVideo:
    """Track ``boxes`` (one ``(x, y, w, h)`` or several) from the first frame of ``source``.

    ``source``: a video file, a camera index, an RTSP/HTTP URL, an image folder or glob, a
    :class:`FrameSource`, or any iterable of BGR frames. ``model``: a shipped model name
    (default: the shipped default), or a ready tracker; ``load_options`` go to
    :func:`tracker.load_tracker` (``weights=``, ``device=``, ``backend=``, ``overrides=``, ...).
    Without ``boxes``, ``select(first_frame)`` picks them; ``boxes=[]`` starts with no target
    (add them later with :meth:`TrackedVideo.add`). ``stop()`` returning True ends the
    iteration (checked between frames and while waiting for a live frame). The source is
    opened, the model loaded and the targets started on the first frame here, so their
    errors come from this call (source, then boxes, then model).
    """
    from ..zoo import load_tracker

    if boxes is None and select is None:
        raise InvalidBoxError("give the targets' boxes (or select=, a function of the first frame)")
    chosen = None if boxes is None else as_boxes(boxes)
    if isinstance(model, SiameseTracker) and load_options:
        raise TrackerError(f"{', '.join(load_options)}: loading options, but model is a ready tracker")
    frames = as_source(source)  # first: a bad source or box fails before the model loads
    tracker = model if isinstance(model, SiameseTracker) else lambda: load_tracker(model, **load_options)
    return TrackedVideo(tracker, frames, chosen, select, stop)
