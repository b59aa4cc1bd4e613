"""OpenCV's trackers behind our ``init``/``update`` interface, so reports put ours beside
what users would otherwise pick. CSRT/KCF need opencv-contrib; Nano needs its ONNX files."""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence

import cv2

from ..errors import TrackerError
from ..inputs import as_bgr_frame, validate_box
from ..trackers.base import TrackResult

NANO_DIR_ENV = "SIAMTRACK_NANOTRACK_DIR"
BASELINES = ("csrt", "kcf", "mil", "nano")


def _factory(name: str):
    legacy = getattr(cv2, "legacy", None)
    candidates = {
        "csrt": ["TrackerCSRT_create", "TrackerCSRT.create"],
        "kcf": ["TrackerKCF_create", "TrackerKCF.create"],
        "mil": ["TrackerMIL_create", "TrackerMIL.create"],
    }[name]
    for dotted in candidates:
        for module in (cv2, legacy):
            obj = module
            for part in dotted.split("."):
                obj = getattr(obj, part, None) if obj is not None else None
            if obj is not None:
                return obj
    return None


def nano_files(folder: Optional[str] = None) -> Optional[tuple]:
    folder = folder or os.environ.get(NANO_DIR_ENV) or os.path.join("..", "shared", "reference", "nanotrack")
    backbone = os.path.join(folder, "nanotrack_backbone_sim.onnx")
    head = os.path.join(folder, "nanotrack_head_sim.onnx")
    return (backbone, head) if os.path.isfile(backbone) and os.path.isfile(head) else None


def available_baselines() -> list:
    names = [n for n in ("csrt", "kcf", "mil") if _factory(n) is not None]
    if hasattr(cv2, "TrackerNano") and nano_files():
        names.append("nano")
    return names


class OpenCVTracker:
    """An OpenCV tracker; a frame it reports as failed keeps the last box with ``ok=False``."""

    def __init__(self, name: str, nano_dir: Optional[str] = None) -> None:
        self.name = name
        if name not in BASELINES:
            raise TrackerError(f"unknown baseline {name!r} ({', '.join(BASELINES)})")
        if name == "nano":
            files = nano_files(nano_dir)
            if files is None or not hasattr(cv2, "TrackerNano"):
                raise TrackerError("TrackerNano needs OpenCV >= 4.7 and nanotrack_backbone_sim.onnx / nanotrack_head_sim.onnx "
                                   f"(set ${NANO_DIR_ENV})")
            params = cv2.TrackerNano_Params()
            params.backbone, params.neckhead = files
            self._create = lambda: cv2.TrackerNano_create(params)
        else:
            factory = _factory(name)
            if factory is None:
                raise TrackerError(f"OpenCV tracker {name!r} is not available (CSRT/KCF need opencv-contrib-python)")
            self._create = factory
        self._tracker: Any = None
        self._box = None

    def init(self, frame: Any, box: Sequence[float]) -> None:
        image = as_bgr_frame(frame)
        x, y, w, h = validate_box(box, image.shape)
        self._tracker = self._create()
        self._tracker.init(image, (int(round(x)), int(round(y)), int(round(w)), int(round(h))))
        self._box = (x, y, w, h)

    def update(self, frame: Any) -> TrackResult:
        ok, box = self._tracker.update(as_bgr_frame(frame))
        if ok:
            self._box = tuple(float(v) for v in box)
        score = float(self._tracker.getTrackingScore()) if ok and hasattr(self._tracker, "getTrackingScore") else float(ok)
        return TrackResult(self._box, score, bool(ok))
