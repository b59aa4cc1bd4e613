"""With a reference crop our tracker gives the reference library's boxes: siamfc-pytorch's and
pysot's tracker arithmetic, written out in benchmarks/reference_check.py, run on the same
network (a template-matching double here; the shipped weights on six val sequences there)."""
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import MatchingRPN, MatchingSiamFC
from tracker.config import with_overrides
from tracker.trackers import SiamFCTracker, SiamRPNTracker
from tracker.video.demo import generate_clip
from tracker.zoo import model_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference_check import PYSOT, SIAMFC_PYTORCH, compare  # noqa: E402


@pytest.fixture(scope="module")
def clip():
    return generate_clip(num_frames=16, width=320, height=240, seed=3, base_size=(46, 37))


def test_siamfc_pytorch_crop_tracks_as_siamfc_pytorch(clip):
    cfg = with_overrides(model_config("siamfc"), SIAMFC_PYTORCH)
    same = compare("siamfc", SiamFCTracker(MatchingSiamFC(), cfg), clip.frames, clip.boxes[0])
    assert same["iou"] == pytest.approx(1.0, abs=1e-6) and same["apart"] == 0, same
    # the check can tell: the exact crop (and the snapped centre) part from it at once
    exact = compare("siamfc", SiamFCTracker(MatchingSiamFC(), with_overrides(cfg, {"siamfc.crop": "exact"})), clip.frames, clip.boxes[0])
    assert exact["apart"] > 0 and exact["iou"] < 0.999, exact


def test_pysot_crop_tracks_as_pysot(clip):
    cfg = with_overrides(model_config("siamrpn"), PYSOT)
    net = MatchingRPN(cfg, clip.boxes[0][2:])
    same = compare("siamrpn", SiamRPNTracker(net, cfg), clip.frames, clip.boxes[0])
    assert same["iou"] == pytest.approx(1.0, abs=1e-6) and same["apart"] == 0, same
    exact = compare("siamrpn", SiamRPNTracker(net, with_overrides(cfg, {"siamrpn.crop": "exact"})), clip.frames, clip.boxes[0])
    assert exact["apart"] > 0, exact


def test_siamfc_pytorch_centre_leaves_the_frame_unclamped():
    """siamfc-pytorch never clamps its centre (pysot and the exact crop keep it in the frame)."""
    from tracker.trackers.base import TargetState

    for crop, expected in (("siamfc-pytorch", [-3.25, 5.0]), ("exact", [0.0, 5.0])):
        tracker = SiamFCTracker(MatchingSiamFC(), with_overrides(model_config("siamfc"), {"siamfc.crop": crop}))
        dtype = np.float32 if crop == "siamfc-pytorch" else np.float64
        state = TargetState(center=np.array([1.0, 5.0], dtype), size=np.array([10.0, 10.0]), avg_color=(0, 0, 0), frame_shape=(40, 60))
        tracker.move_center(state, np.array([-4.25, 0.0]))
        assert state.center.tolist() == expected and state.center.dtype == dtype
