"""Frame sources for the CLI: a video file, a webcam index, an RTSP/HTTP URL, an image
folder or a glob. Each opens eagerly, so a bad source fails at once with a clear
:class:`~tracker.errors.SourceError` instead of an empty run."""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Iterator, List, Optional, Union

import cv2
import numpy as np

from ..data.sequence import read_image
from ..errors import SourceError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


class FrameSource:
    """Iterate BGR frames; ``fps`` and ``frame_count`` are ``None`` when unknown (live)."""

    name: str
    fps: Optional[float] = None
    frame_count: Optional[int] = None
    live: bool = False

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CaptureSource(FrameSource):
    """``cv2.VideoCapture`` over a file, a camera or a network stream."""

    def __init__(self, target: Union[str, int], name: str, live: bool) -> None:
        self.capture = cv2.VideoCapture(target)
        if not self.capture.isOpened():
            kind = "camera" if isinstance(target, int) else ("stream" if live else "video")
            raise SourceError(f"cannot open {kind} {target!r}" + (" (no such camera?)" if isinstance(target, int) else ""))
        ok, first = self.capture.read()
        if not ok or first is None:
            self.capture.release()
            raise SourceError(f"{target!r} opened but no frame could be read (unreadable or empty video)")
        self._first: Optional[np.ndarray] = first
        self.name, self.live = name, live
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 and np.isfinite(fps) else None
        count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 and not live else None

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        while True:
            ok, frame = self.capture.read()
            if not ok or frame is None:
                return
            yield frame

    def close(self) -> None:
        self.capture.release()


class ImageListSource(FrameSource):
    def __init__(self, files: List[str], name: str) -> None:
        if not files:
            raise SourceError(f"no images found for {name!r}")
        self.files, self.name, self.frame_count = files, name, len(files)

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.files:
            yield read_image(path)


class ArraySource(FrameSource):
    """Frames already in memory (the generated demo clip, tests)."""

    def __init__(self, frames: List[np.ndarray], name: str, fps: float = 30.0) -> None:
        self.frames, self.name, self.fps, self.frame_count = frames, name, fps, len(frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.frames)


def open_source(source: Union[str, int]) -> FrameSource:
    """Open ``source``: ``0`` / ``"0"`` (webcam), ``rtsp://...``, ``clip.mp4``, ``frames/``, ``"frames/*.jpg"``."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        index = int(source)
        return CaptureSource(index, f"camera{index}", live=True)
    text = str(source)
    if text.lower().startswith(STREAM_PREFIXES):
        return CaptureSource(text, Path(text.split("?")[0]).stem or "stream", live=True)
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
