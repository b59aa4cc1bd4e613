"""Frame sources: a video file, a webcam index, an RTSP/HTTP URL, an image folder or a
glob. Each opens eagerly, so a bad source fails at once with a clear
:class:`~tracker.errors.SourceError` instead of an empty run. Files and folders give
every frame; cameras and streams the newest one (:mod:`tracker.video.live`)."""
from __future__ import annotations

import contextlib
import glob
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Union

import cv2
import numpy as np

from ..data.sequence import read_image
from ..errors import SourceError
from .live import LatestFrameReader

log = logging.getLogger(__name__)
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass(frozen=True)
class SourceFrame:
    """A frame and where it stands in its source."""

    index: int  # in the source: a live source's dropped frames leave gaps
    time: Optional[float]  # live: time.time() when read; files: index / fps; None without a frame rate
    image: np.ndarray


class FrameSource:
    """Iterate BGR frames; ``fps`` and ``frame_count`` are ``None`` when unknown (live)."""

    name: str
    fps: Optional[float] = None
    frame_count: Optional[int] = None
    live: bool = False
    dropped_frames: int = 0  # only a live source drops frames (to stay current)

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def frames(self, stop: Optional[Callable[[], bool]] = None) -> Iterator[SourceFrame]:
        """Every frame with its index and time (``stop`` matters to live sources, which wait)."""
        for index, image in enumerate(self):
            yield SourceFrame(index, index / self.fps if self.fps else None, image)

    def close(self) -> None:
        pass

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def quiet_opencv_open() -> Iterator[None]:
    """Silence OpenCV's and FFmpeg's own lines while a source opens (``[ERROR:0@0.1] ... Camera
    index out of range``, ``[mov,mp4 @ 0x...] moov atom not found``): the library never prints,
    and its :class:`SourceError` says what failed. With this package's log at DEBUG (``siamtrack
    -v``) they are left on; ``OPENCV_FFMPEG_LOGLEVEL`` set by the user wins (FFmpeg reads it
    once, when OpenCV first uses it)."""
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


class CaptureSource(FrameSource):
    """``cv2.VideoCapture`` over a file, a camera or a network stream (the last two are
    read through a :class:`LiveSource`)."""

    def __init__(self, target: Union[str, int], name: str, live: bool) -> None:
        with quiet_opencv_open():
            self.capture = cv2.VideoCapture(target)
            opened = self.capture.isOpened()
            ok, first = self.capture.read() if opened else (False, None)
        if not opened:
            kind = "camera" if isinstance(target, int) else ("stream" if live else "video")
            raise SourceError(f"cannot open {kind} {target!r}" + (" (no such camera?)" if isinstance(target, int) else ""))
        if not ok or first is None:
            self.capture.release()
            raise SourceError(f"{target!r} opened but no frame could be read (unreadable or empty video)")
        self._first: Optional[np.ndarray] = first
        self.name, self.live = name, live
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 and np.isfinite(fps) else None
        count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 and not live else None

    def read(self) -> Optional[np.ndarray]:
        """The next frame, ``None`` at the end."""
        if self._first is not None:
            first, self._first = self._first, None
            return first
        ok, frame = self.capture.read()
        return frame if ok else None

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self.read()) is not None:
            yield frame

    def close(self) -> None:
        self.capture.release()


class LiveSource(FrameSource):
    """A camera or a stream: ``read()`` (blocking, paced by the source, ``None`` at its end)
    runs in a thread that keeps only the newest frame, so results stay current when
    tracking is slower than the source; ``dropped_frames`` counts the frames skipped."""

    live = True

    def __init__(self, read: Callable[[], Optional[np.ndarray]], name: str, fps: Optional[float] = None,
                 release: Optional[Callable[[], None]] = None) -> None:
        self.name, self.fps = name, fps
        self._read, self._release = read, release
        self._reader: Optional[LatestFrameReader] = None

    @property
    def dropped_frames(self) -> int:
        return self._reader.dropped if self._reader is not None else 0

    def frames(self, stop: Optional[Callable[[], bool]] = None) -> Iterator[SourceFrame]:
        if self._reader is None:  # reading starts with the first frame wanted: none is stale
            self._reader = LatestFrameReader(self._read, self.name)
        while (frame := self._reader.get(stop)) is not None:
            yield SourceFrame(*frame)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (frame.image for frame in self.frames())

    def close(self) -> None:
        stopped = self._reader is None or self._reader.close()
        if self._release is not None and stopped:  # never release a capture another thread is reading
            self._release()


class ImageListSource(FrameSource):
    def __init__(self, files: List[str], name: str) -> None:
        if not files:
            raise SourceError(f"no images found for {name!r}")
        self.files, self.name, self.frame_count = files, name, len(files)

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.files:
            yield read_image(path)


class ArraySource(FrameSource):
    """Frames from memory or any iterable (the generated demo clip, tests, a program's own frames)."""

    def __init__(self, frames: Iterable[np.ndarray], name: str = "frames", fps: Optional[float] = 30.0) -> None:
        self.images, self.name, self.fps = frames, name, fps
        self.frame_count = len(frames) if hasattr(frames, "__len__") else None

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.images)


def open_source(source: Union[str, int]) -> FrameSource:
    """Open ``source``: ``0`` / ``"0"`` (webcam), ``rtsp://...``, ``clip.mp4``, ``frames/``, ``"frames/*.jpg"``."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        index = int(source)
        return _live(CaptureSource(index, f"camera{index}", live=True))
    text = str(source)
    if text.lower().startswith(STREAM_PREFIXES):
        return _live(CaptureSource(text, Path(text.split("?")[0]).stem or "stream", live=True))
    if any(ch in text for ch in "*?["):
        files = sorted(f for f in glob.glob(text) if f.lower().endswith(IMAGE_EXTS))
        return ImageListSource(files, Path(text).parent.name or "images")
    path = Path(text)
    if path.is_dir():
        files = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS)
        return ImageListSource(files, path.name)
    if not path.exists():
        raise SourceError(f"source not found: {text}")
    if not os.access(path, os.R_OK):
        raise SourceError(f"source is not readable: {text}")
    return CaptureSource(str(path), path.stem, live=False)


def _live(capture: CaptureSource) -> LiveSource:
    return LiveSource(capture.read, capture.name, capture.fps, capture.close)
