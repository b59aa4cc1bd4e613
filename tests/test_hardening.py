"""Edge cases beyond the basic error tests: extreme target sizes, truncated files,
odd frames - each a clear error or a documented, sensible behaviour."""
import numpy as np
import pytest

from conftest import MatchingSiamFC
from tracker import DatasetError, InvalidBoxError, InvalidFrameError
from tracker.data.sequence import read_image
from tracker.models import SiameseNet
from tracker.trackers import SiamFCTracker, build_tracker
from tracker.video.demo import generate_clip
from tracker.zoo import model_config


@pytest.fixture(scope="module")
def light():
    import torch

    torch.manual_seed(0)
    return build_tracker(SiameseNet(model_config("light")).eval(), model_config("light"))


@pytest.fixture(scope="module")
def frames():
    return generate_clip(num_frames=6, width=320, height=240).frames


@pytest.mark.parametrize("box", [(100, 100, 1, 1), (100, 100, 2, 1.5), (0, 0, 320, 240), (-100, -100, 600, 500), (310, 230, 40, 40), (0.2, 0.3, 0.5, 0.5)])
@pytest.mark.parametrize("kind", ["siamfc", "light"])
def test_extreme_boxes_track_to_finite_boxes(light, frames, box, kind):
    tracker = SiamFCTracker(MatchingSiamFC(), model_config("siamfc")) if kind == "siamfc" else light
    tracker.init(frames[0], box)
    for f in frames[1:]:
        r = tracker.update(f)
        assert np.isfinite(r.box).all() and r.box[2] > 0 and r.box[3] > 0
        assert np.isfinite(r.score)


@pytest.mark.parametrize("box", [(1e12, 1, 5, 5), (1, 1, 1e-300 * 0, 5), (1, 1, -1e9, 5), (None, 1, 2, 3), [[1, 2], [3, 4]]])
def test_malformed_boxes(light, frames, box):
    with pytest.raises(InvalidBoxError):
        light.init(frames[0], box)


@pytest.mark.parametrize("frame", [np.zeros((240, 320, 3), np.int64), np.zeros((240, 320, 3, 1), np.uint8), np.zeros((240,), np.uint8), [[0, 1], [2, 3]]])
def test_malformed_frames(light, frame):
    with pytest.raises(InvalidFrameError):
        light.init(frame, (1, 1, 5, 5))


def test_one_pixel_frames_are_accepted(light):
    light.init(np.zeros((1, 1, 3), np.uint8), (0, 0, 1, 1))
    assert np.isfinite(light.update(np.zeros((1, 1, 3), np.uint8)).box).all()


def test_truncated_jpeg_is_an_error_not_a_grey_frame(tmp_path):
    import cv2

    path = tmp_path / "f.jpg"
    cv2.imwrite(str(path), (np.random.default_rng(0).random((100, 100, 3)) * 255).astype(np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="truncated"):
        read_image(str(path))


@pytest.mark.parametrize("device, message", [("foo", "unknown device 'foo'"), ("cuda", "no CUDA device"), ("cuda:0", "no CUDA device")])
def test_device_errors_are_tracker_errors(random_light_weights, monkeypatch, device, message):
    import torch

    from tracker import DeviceError, TrackerError, load_tracker

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match=message) as info:
        load_tracker(weights=random_light_weights, device=device)
    assert isinstance(info.value, TrackerError) and isinstance(info.value, ValueError)
    with pytest.raises(DeviceError, match="half"):
        load_tracker(weights=random_light_weights, half=True)


@pytest.mark.parametrize("overrides, message", [
    ({"siamfc.scale_lr": "abc"}, "siamfc.scale_lr must be of type float, got 'abc'"),
    ({"siamfc.scale_num": 2.5}, "siamfc.scale_num must be of type int"),
    ({"lost.longterm": 1}, "lost.longterm must be of type bool"),
    ({"siamrpn.lr": True}, "siamrpn.lr must be of type float"),
    ({"anchors.ratios": [1.0, "x"]}, r"anchors.ratios\[1\] must be of type float"),
    ({"siamfc": 3}, "siamfc must be a mapping"),
])
def test_config_values_of_the_wrong_type_fail_when_the_config_is_built(overrides, message):
    from tracker import ConfigError
    from tracker.config import with_overrides

    with pytest.raises(ConfigError, match=message):
        with_overrides(model_config("light_fc_fast"), overrides)


def test_ints_pass_as_floats():
    from tracker.config import with_overrides

    cfg = with_overrides(model_config("light_fc_fast"), {"siamfc.scale_lr": 1, "anchors.ratios": [1, 2], "siamfc.scale_num": 5})
    assert cfg.siamfc.scale_lr == 1.0 and isinstance(cfg.siamfc.scale_lr, float)
    assert cfg.anchors.ratios == (1.0, 2.0) and cfg.siamfc.scale_num == 5
