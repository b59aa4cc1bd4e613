"""Live sources that never fall behind: a reader thread that keeps only the newest frame.

A camera or a stream delivers frames at its own rate whether anyone takes them or not.
Read in the tracking loop, they queue up (in the driver, in FFmpeg's buffer) whenever
tracking is slower than the source, and every box then describes an older past. Read
in a thread that keeps only the newest frame, the delay stays bounded: at most one frame
waiting plus one tracking step. The frames overwritten before anyone took them are
counted, so a run can say how many it skipped.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional, Tuple

import numpy as np

from ..errors import SourceError

log = logging.getLogger(__name__)

# (index in the stream, time.time() when it was read, BGR image)
StampedFrame = Tuple[int, float, np.ndarray]


class LatestFrameReader:
    """Calls ``read()`` (blocking, paced by the source; ``None`` at the end of the stream) in
    a thread from construction on; :meth:`get` hands out the newest frame not taken yet."""

    def __init__(self, read: Callable[[], Optional[np.ndarray]], name: str = "live") -> None:
        self.name = name
        self.dropped = 0  # frames read and overwritten by a newer one before anyone took them
        self._read = read
        self._count = 0
        self._latest: Optional[StampedFrame] = None
        self._ended = False
        self._error: Optional[BaseException] = None
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"siamtrack-reader-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                image = self._read()
                if image is None:
                    break
                with self._changed:
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = (self._count, time.time(), image)
                    self._count += 1
                    self._changed.notify()
        except Exception as exc:  # noqa: BLE001 - handed to the consumer's thread by get()
            self._error = exc
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify()

    def get(self, stop: Optional[Callable[[], bool]] = None) -> Optional[StampedFrame]:
        """The newest frame not taken yet, waiting for one; ``None`` once the stream has
        ended and its last frame was taken, or when ``stop()`` turns true while waiting."""
        with self._changed:
            while self._latest is None and not self._ended:
                if stop is not None and stop():
                    return None
                self._changed.wait(0.1)  # wakes up for stop(), e.g. Ctrl-C on a stalled stream
            frame, self._latest = self._latest, None
        if frame is None and self._error is not None:
            raise SourceError(f"reading {self.name} failed: {self._error}")
        return frame

    def close(self, timeout: float = 1.0) -> bool:
        """Stop the thread; False if it is still blocked in ``read()`` after ``timeout`` s."""
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the reader of %s is still blocked in read() after %.0f s", self.name, timeout)
        return not self._thread.is_alive()
