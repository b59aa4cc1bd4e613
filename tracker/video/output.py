"""What the CLI writes: an annotated video and results (got10k text, JSON, or JSON lines)."""
from __future__ import annotations

import errno
import json
import os
from collections import deque
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Sequence, TextIO

import cv2
import numpy as np

from ..errors import OutputError
from .pipeline import TargetResult

LOST = (0, 0, 255)  # red: the tracker believes it lost the target
# one colour per target id (BGR), none of them red; the first is the one-target green
PALETTE = ((0, 220, 0), (255, 0, 255), (255, 255, 0), (0, 255, 255), (255, 128, 0), (255, 255, 255), (128, 0, 255), (0, 128, 128))
FONT, FONT_SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.6


def target_color(result: TargetResult) -> tuple:
    return PALETTE[result.id % len(PALETTE)] if result.ok else LOST


def label(image: np.ndarray, text: str, origin: tuple, color: tuple = (255, 255, 255)) -> None:
    """``text`` on a filled dark box, its top-left corner at ``origin`` (kept inside the image).

    One thin stroke on a solid background: OpenCV 5 sizes a glyph by its stroke, so a thick
    outline under thin text (OpenCV 4's trick) comes out wider than the text and smears it.
    """
    (w, h), base = cv2.getTextSize(text, FONT, FONT_SCALE, 1)
    x = int(min(max(origin[0], 0), max(image.shape[1] - w - 6, 0)))
    y = int(min(max(origin[1], 0), max(image.shape[0] - h - base - 6, 0)))
    cv2.rectangle(image, (x, y), (x + w + 6, y + h + base + 6), (0, 0, 0), cv2.FILLED)
    cv2.putText(image, text, (x + 3, y + h + 3), FONT, FONT_SCALE, color, 1, cv2.LINE_AA)


def draw(frame: np.ndarray, results: Sequence[TargetResult], fps: Optional[float] = None,
         each: Optional[bool] = None) -> np.ndarray:
    """A copy of ``frame`` with each target's box (its colour when ok, red when lost) and,
    for several targets (or ``each``), its id, score and lost flag; the top-left corner says
    the score (one target) or the number of targets, and the tracker's fps."""
    out = frame.copy()
    head = f"score {results[0].score:.2f}" if len(results) == 1 else f"{len(results)} targets"
    label(out, head + (f"  {fps:.0f} fps" if fps else ""), (4, 4))
    for r in results:
        x0, y0, x1, y1 = (int(round(v)) for v in (r.box[0], r.box[1], r.box[0] + r.box[2], r.box[1] + r.box[3]))
        cv2.rectangle(out, (x0, y0), (x1, y1), target_color(r), 2)
        if len(results) > 1 if each is None else each:  # above the box, or below it at the top of the frame
            text = f"#{r.id} {r.score:.2f}" + ("" if r.ok else " lost")
            label(out, text, (x0, y0 - 24 if y0 >= 24 else y1 + 2), target_color(r))
    return out


class RateMeter:
    """The tracker's frames per second for the overlay: the mean over the last ``window`` updates,
    None until ``warmup`` of them are in. The first update is left out: it carries the runtime's
    one-off set-up (sessions, buffers) and alone would read "1 fps" for the first frames."""

    def __init__(self, window: int = 30, warmup: int = 5) -> None:
        self.seconds: Deque[float] = deque(maxlen=window)
        self.warmup, self.updates = warmup, 0

    def add(self, seconds: float) -> None:
        self.updates += 1
        if self.updates > 1:
            self.seconds.append(seconds)

    @property
    def fps(self) -> Optional[float]:
        if len(self.seconds) < self.warmup:
            return None
        return len(self.seconds) / max(sum(self.seconds), 1e-9)


class VideoOutput:
    """mp4 writer opened on the first frame (its size is known only then)."""

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        self.writer: Optional[cv2.VideoWriter] = None

    def write(self, frame: np.ndarray) -> None:
        if self.writer is None:
            codec = "mp4v" if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else "MJPG"
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                reason = os.strerror(errno.ENOTDIR) if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
                raise OutputError(f"cannot write {self.path}: {reason}") from None
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*codec), self.fps, (frame.shape[1], frame.shape[0]))
            if not self.writer.isOpened():
                what = self.path.suffix or "a file without extension"
                raise OutputError(f"cannot write {self.path}: OpenCV has no {codec} writer for {what}")
        self.writer.write(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None


RESULT_SUFFIXES = (".txt", ".json")


class ResultsFile:
    """Results kept in memory and written atomically at the end. ``.txt``: got10k lines
    (``x,y,w,h``), one file per target when there are several (``r.txt`` -> ``r_0.txt``,
    ``r_1.txt``, ...); ``.json``: metadata and, per frame, the list of targets (id, box, score,
    ok), one shape whatever the number of targets (docs/results.md)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.frames: List[List[TargetResult]] = []

    def add(self, results: List[TargetResult]) -> None:
        self.frames.append(results)

    def close(self, meta: Dict[str, Any]) -> List[Path]:
        """Write the files; returns their paths."""
        if not self.frames:
            return []
        ids = [r.id for r in self.frames[0]]
        if self.path.suffix.lower() == ".json":
            return [_write(self.path, results_json(self.frames, meta))]
        written = []
        for target in ids:
            path = self.path if len(ids) == 1 else self.path.with_name(f"{self.path.stem}_{target}{self.path.suffix}")
            written.append(_write(path, got10k_text(self.frames, target)))
        return written


def got10k_text(frames: Sequence[Sequence[TargetResult]], target: int) -> str:
    """One target's ``x,y,w,h`` lines (got10k), one per frame it has a result in."""
    return "".join(",".join(f"{v:.3f}" for v in r.box) + "\n" for f in frames for r in f if r.id == target)


def results_json(frames: Sequence[Sequence[TargetResult]], meta: Dict[str, Any]) -> str:
    """``meta`` and, per frame, the list of its targets' boxes, scores and ok flags (one shape
    whatever their number); frames without results are left out."""
    return json.dumps({**meta, "frames": [_json_frame(f) for f in frames if f]}, indent=1)


class JsonLines:
    """``--results -``: one JSON object per frame and target on ``stream``, flushed every
    frame so that a program reading the pipe gets each frame's boxes at once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def add(self, results: List[TargetResult]) -> None:
        self.stream.write("".join(json.dumps(r.to_json()) + "\n" for r in results))
        self.stream.flush()

    def close(self, meta: Dict[str, Any]) -> List[Path]:
        return []


def _json_frame(results: Sequence[TargetResult]) -> Dict[str, Any]:
    rows = [r.to_json() for r in results]
    return {"frame": rows[0]["frame"], "time": rows[0]["time"], "targets": [{k: row[k] for k in ("id", "box", "score", "ok")} for row in rows]}


def _write(target: Path, text: str) -> Path:
    """``text`` into ``target`` through a temporary file beside it; an error names ``target``."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        os.replace(tmp, target)
    except OSError as exc:  # mkdir says "File exists" where a file stands in the folder's place
        reason = os.strerror(errno.ENOTDIR) if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
        raise OutputError(f"cannot write {target}: {reason}") from None
    return target
