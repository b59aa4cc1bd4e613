"""Drive the VOT adapter the way the toolkit's traxpython protocol does."""
from collections import namedtuple

import cv2
import numpy as np
import pytest

from conftest import MatchingSiamFC
from tracker.eval.vot_adapter import region_to_box, run
from tracker.geometry import iou
from tracker.trackers import SiamFCTracker
from tracker.video.demo import generate_clip
from tracker.zoo import model_config

Rectangle = namedtuple("Rectangle", "x y width height")
Point = namedtuple("Point", "x y")
Polygon = namedtuple("Polygon", "points")


class FakeHandle:
    """The ``vot.VOT`` calls the toolkit makes: region once, frame until None, report per frame."""

    def __init__(self, files, region):
        self.files, self.initial, self.reports = list(files), region, []

    def region(self):
        return self.initial

    def frame(self):
        return self.files.pop(0) if self.files else None

    def report(self, region, confidence):
        self.reports.append((region, confidence))


@pytest.mark.slow
def test_vot_protocol_round_trip(tmp_path):
    clip = generate_clip(num_frames=120)
    files = []
    for i, f in enumerate(clip.frames):
        files.append(str(tmp_path / f"{i:08d}.jpg"))
        cv2.imwrite(files[-1], f)
    x, y, w, h = clip.boxes[0]
    handle = FakeHandle(files, Rectangle(x, y, w, h))
    n = run(handle, SiamFCTracker(MatchingSiamFC(), model_config("siamfc")), Rectangle)
    assert n == 120 and len(handle.reports) == 119
    boxes = np.array([[r.x, r.y, r.width, r.height] for r, _ in handle.reports])
    assert iou(boxes, clip.boxes[1:]).mean() > 0.7
    assert all(0 <= c <= 1 for _, c in handle.reports)


def test_polygon_regions():
    poly = Polygon([Point(10, 10), Point(30, 12), Point(28, 40), Point(9, 38)])
    assert region_to_box(poly) == (9.0, 10.0, 21.0, 30.0)
