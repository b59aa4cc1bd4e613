"""What the CLI writes: an annotated video and per-frame results (got10k text or JSON)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from ..trackers.base import TrackResult


def draw(frame: np.ndarray, result: TrackResult, fps: Optional[float] = None) -> np.ndarray:
    """Box (green when ok, red when lost), score and fps drawn on a copy of ``frame``."""
    out = frame.copy()
    x, y, w, h = result.box
    color = (0, 220, 0) if result.ok else (0, 0, 255)
    cv2.rectangle(out, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), color, 2)
    label = f"score {result.score:.2f}" + (f"  {fps:.0f} fps" if fps else "")
    cv2.putText(out, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return out


class VideoOutput:
    """mp4 writer opened on the first frame (its size is known only then)."""

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        self.writer: Optional[cv2.VideoWriter] = None

    def write(self, frame: np.ndarray) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*("mp4v" if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else "MJPG"))
            self.writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (frame.shape[1], frame.shape[0]))
            if not self.writer.isOpened():
                raise OSError(f"cannot open video writer for {self.path}")
        self.writer.write(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None


def write_results(path: str, boxes: List[tuple], scores: List[float], oks: List[bool], meta: dict) -> None:
    """``.json``: boxes, scores, ok flags and metadata; anything else: got10k text (``x,y,w,h``)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    if target.suffix.lower() == ".json":
        frames = [{"frame": i, "box": [round(v, 3) for v in b], "score": round(s, 5), "ok": bool(o)} for i, (b, s, o) in enumerate(zip(boxes, scores, oks))]
        tmp.write_text(json.dumps({**meta, "frames": frames}, indent=1))
    else:
        tmp.write_text("".join(",".join(f"{v:.3f}" for v in b) + "\n" for b in boxes))
    os.replace(tmp, target)
