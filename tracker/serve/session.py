"""One source tracked in a thread of its own, whether anyone watches or not.

A :class:`Session` runs :func:`~tracker.video.pipeline.track_video` on one source, from no
target at all. Targets are added and removed, and file sources paused, resumed and
restarted, by commands the thread applies between two frames, so the pool is only ever
touched by that thread and a command never waits for more than one frame. After every
frame and command the thread hands an :class:`Update` to its listeners (the web server)
and goes on: no viewer can make it wait, and it tracks with none. Files give every frame,
played at their frame rate times ``speed``; cameras and streams the newest one, as in
``siamtrack track``.
"""
from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import TrackerError
from ..trackers import SiameseTracker
from ..video.pipeline import TargetResult, TrackedVideo, track_video
from ..video.sources import FrameSource

log = logging.getLogger(__name__)

PLAYING, PAUSED, ENDED, FAILED = "playing", "paused", "ended", "failed"
FOLDER_FPS = 30.0  # the playback rate of image folders, which have none of their own (``track --save`` writes them at 30 too)


@dataclass(frozen=True)
class SessionConfig:
    speed: float = 1.0  # file sources play at their frame rate times this; 0: as fast as tracking goes
    paused: bool = False  # file sources start paused on their first frame, to draw targets on it
    kept_frames: int = 100_000  # frames of results kept for download (a camera never ends): the oldest go first


@dataclass(frozen=True)
class Update:
    """What a session hands its listeners after each frame and each command."""

    version: int  # counts the updates: a viewer asks for a picture newer than the one it has
    frame: int  # index in the source
    image: np.ndarray  # the frame as read (BGR); nobody writes to it
    targets: Tuple[TargetResult, ...]  # every current target's newest result
    lines: Tuple[TargetResult, ...]  # the results this update adds: a frame's, or a new target's start
    state: str  # playing | paused | ended | failed
    fps: Optional[float]  # the tracker's frames/s, smoothed


class Session:
    """``source`` (a path, camera index or URL as on the command line, or a
    :class:`~tracker.video.sources.FrameSource`) tracked with ``tracker``. The source is
    opened and its first frame read here, so a bad source fails at construction; a restart
    opens it again. :meth:`start` starts the thread. The methods that change something
    return a :class:`~concurrent.futures.Future` the thread resolves (a
    :class:`~tracker.errors.TrackerError` for a command that cannot be done)."""

    def __init__(self, source: Union[str, FrameSource], tracker: SiameseTracker, config: SessionConfig = SessionConfig(),
                 model: str = "") -> None:
        self.source, self.tracker, self.config, self.model = source, tracker, config, model
        self.error: Optional[str] = None  # why the session failed
        self._listeners: List[Callable[[Update], None]] = []
        self._commands: "queue.Queue[Optional[Tuple[Callable[[], Any], Future]]]" = queue.Queue()
        self._closing = threading.Event()
        self._results: Deque[List[TargetResult]] = deque(maxlen=config.kept_frames)
        self._results_lock = threading.Lock()
        self._version = 0
        self._fps: Optional[float] = None
        self._open(paused=config.paused)
        self.name, self.live = self._tracked.source.name, self._tracked.source.live
        self.fps, self.frame_count = self._tracked.source.fps, self._tracked.source.frame_count
        self.height, self.width = self._latest.image.shape[:2]
        self._thread = threading.Thread(target=self._run, name=f"siamtrack-serve-{self.name}", daemon=True)

    # -- from any thread -------------------------------------------------------------------
    @property
    def latest(self) -> Update:
        return self._latest  # replaced whole by the thread, never changed in place

    def add_listener(self, listener: Callable[[Update], None]) -> None:
        """``listener(update)`` is called in the tracking thread after each update: it must
        hand the update on and return at once."""
        self._listeners.append(listener)

    def start(self) -> None:
        self._thread.start()

    def add(self, box: Sequence[float]) -> "Future[TargetResult]":
        """Start tracking ``box`` (x, y, w, h) on the newest frame."""
        return self._submit(lambda: self._add(box))

    def remove(self, target: int) -> "Future[None]":
        return self._submit(lambda: self._remove(target))

    def pause(self) -> "Future[str]":
        return self._submit(lambda: self._set_state(PAUSED))

    def resume(self) -> "Future[str]":
        return self._submit(lambda: self._set_state(PLAYING))

    def restart(self) -> "Future[str]":
        """Back to the first frame, paused, with no target: the results so far are dropped."""
        return self._submit(self._restart)

    def results(self) -> List[List[TargetResult]]:
        """Every kept frame's results (frames without targets left out), oldest first."""
        with self._results_lock:
            return [list(frame) for frame in self._results]

    def meta(self) -> Dict[str, Any]:
        """What ``siamtrack track`` writes at the head of a ``.json`` results file."""
        tracked = self._tracked
        fps = tracked.tracker_fps
        return {"source": self.source if isinstance(self.source, str) else self.name, "model": self.model,
                "frames": tracked.frames, "targets": len(tracked.pool), "dropped_frames": tracked.dropped_frames,
                "tracker_fps": round(fps, 2) if math.isfinite(fps) else None}

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the source; commands not yet applied fail."""
        self._closing.set()
        self._commands.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._tracked.close()
        while not self._commands.empty():
            item = self._commands.get_nowait()
            if item is not None:
                item[1].set_exception(TrackerError(f"{self.name} is closed"))

    # -- the tracking thread -----------------------------------------------------------------
    def _submit(self, command: Callable[[], Any]) -> Future:
        done: Future = Future()
        if self._closing.is_set():
            done.set_exception(TrackerError(f"{self.name} is closed"))
        else:
            self._commands.put((command, done))
        return done

    def _open(self, paused: bool) -> None:
        """Open the source and read its first frame (no target yet); files may wait there, paused."""
        self._tracked: TrackedVideo = track_video(self.source, [], self.tracker, stop=self._closing.is_set)
        self._frames = iter(self._tracked)
        index, image, _ = next(self._frames)
        self._state = PAUSED if paused and not self._tracked.source.live else PLAYING
        self._targets: Dict[int, TargetResult] = {}
        with self._results_lock:
            self._results.clear()
        self._latest = self._update(index, image, ())
        self._pace()

    def _run(self) -> None:
        while not self._closing.is_set():
            wait = self._wait()
            try:
                item = self._commands.get(block=wait != 0.0, timeout=wait)
            except queue.Empty:
                item = None
                if self._state == PLAYING:
                    self._guarded(self._step)
                continue
            if item is None:  # close() woke the thread
                continue
            command, done = item
            try:
                done.set_result(command())
            except TrackerError as exc:
                done.set_exception(exc)
            except Exception as exc:  # noqa: BLE001 - a bug must not end the thread: logged, answered, and the session goes on
                log.exception("%s: command failed", self.name)
                done.set_exception(exc)

    def _wait(self) -> Optional[float]:
        """Seconds until the next frame is due (0: now; None: not playing, wait for a command)."""
        if self._state != PLAYING:
            return None
        rate = (self.fps or FOLDER_FPS) * self.config.speed
        if self.live or rate <= 0:
            return 0.0
        start, first = self._clock
        late = time.monotonic() - (start + (self._latest.frame - first + 1) / rate)
        if late > 1.0 / rate:  # tracking was slower than the video: play on from here, never faster to catch up
            self._pace()
            late = 0.0
        return max(0.0, -late)

    def _pace(self) -> None:
        self._clock = (time.monotonic(), self._latest.frame)

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a frame that cannot be read or tracked ends this session only
            if not isinstance(exc, TrackerError):
                log.exception("%s: tracking failed", self.name)
            self.error = " ".join(str(exc).split()) or type(exc).__name__
            log.error("%s: %s", self.name, self.error)
            self._set_state(FAILED)

    def _step(self) -> None:
        item = next(self._frames, None)
        if item is None:
            self._set_state(ENDED)
            return
        index, image, results = item
        if self._tracked.frames > 1:
            rate = 1.0 / max(self._tracked.last_update_seconds, 1e-9)
            self._fps = rate if self._fps is None else 0.9 * self._fps + 0.1 * rate
        self._targets = {r.id: r for r in results}
        if results:
            with self._results_lock:
                self._results.append(list(results))
        self._publish(self._update(index, image, tuple(results)))

    def _add(self, box: Sequence[float]) -> TargetResult:
        if self._state in (ENDED, FAILED):
            raise TrackerError(f"{self.name} has {self._state}: restart it to add targets")
        start = self._tracked.add(box)
        self._targets[start.id] = start
        with self._results_lock:
            if self._results and self._results[-1][0].frame == start.frame:
                self._results[-1].append(start)
            else:
                self._results.append([start])
        self._publish(self._update(start.frame, self._latest.image, (start,)))
        return start

    def _remove(self, target: int) -> None:
        if target not in self._targets:
            raise TrackerError(f"{self.name} has no target {target}")
        self._tracked.remove(target)
        del self._targets[target]
        self._publish(self._update(self._latest.frame, self._latest.image, ()))

    def _set_state(self, state: str) -> str:
        if state in (PLAYING, PAUSED):
            if self.live:
                raise TrackerError(f"{self.name} is live: only file sources pause and resume")
            if self._state in (ENDED, FAILED):
                raise TrackerError(f"{self.name} has {self._state}: restart it")
        if state == PLAYING and self._state != PLAYING:
            self._pace()
        self._state = state
        self._publish(self._update(self._latest.frame, self._latest.image, ()))
        return state

    def _restart(self) -> str:
        self._tracked.close()
        self.error = None
        try:
            self._open(paused=True)
        except TrackerError as exc:
            self.error = " ".join(str(exc).split())
            self._state = FAILED
            self._publish(self._update(self._latest.frame, self._latest.image, ()))
            raise
        self._publish(self._latest)
        return self._state

    def _update(self, frame: int, image: np.ndarray, lines: Tuple[TargetResult, ...]) -> Update:
        self._version += 1
        return Update(self._version, frame, image, tuple(self._targets.values()), lines, self._state, self._fps)

    def _publish(self, update: Update) -> None:
        self._latest = update
        for listener in self._listeners:
            listener(update)
