"""The real SiamFC / SiamRPN post-processing, driven by deterministic matching nets."""
import threading

import numpy as np
import pytest

from conftest import MatchingRPN, MatchingSiamFC
from tracker import InvalidBoxError, InvalidFrameError, NotInitializedError, TrackerError
from tracker.eval.metrics import center_errors
from tracker.geometry import iou
from tracker.trackers import SiamFCTracker, SiamRPNTracker
from tracker.zoo import model_config


def siamfc_tracker():
    return SiamFCTracker(MatchingSiamFC(), model_config("siamfc"))


def siamrpn_tracker(init_box, instance_size=255):
    from dataclasses import replace
    cfg = model_config("siamrpn")
    cfg = replace(cfg, siamrpn=replace(cfg.siamrpn, instance_size=instance_size))
    return SiamRPNTracker(MatchingRPN(cfg, init_box[2:]), cfg)


def run(tracker, clip):
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    return np.array([tracker.update(f).box for f in clip.frames[1:]])


def test_siamfc_follows_moving_scaling_object(clip):
    boxes = run(siamfc_tracker(), clip)
    gt = clip.boxes[1:]
    assert np.median(center_errors(boxes, gt)) < 6
    assert iou(boxes, gt).mean() > 0.75
    # the scale pyramid follows the size change (object grows 0.8 -> 1.35 -> 0.8 of its base size)
    assert np.corrcoef(boxes[:, 2], gt[:, 2])[0, 1] > 0.8
    mid = len(gt) // 2
    assert boxes[mid, 2] > 1.25 * boxes[0, 2]


@pytest.mark.parametrize("instance_size", [255, 287])
def test_siamrpn_follows_moving_object(instance_size):
    # The matching head has no learned size regression (it predicts the initial size), so
    # this clip changes scale mildly; anchors, decoding, penalties and window are all real.
    from tracker.video.demo import generate_clip
    clip = generate_clip(num_frames=120, scale_range=(0.9, 1.1))
    boxes = run(siamrpn_tracker(clip.boxes[0], instance_size), clip)
    gt = clip.boxes[1:]
    assert np.median(center_errors(boxes, gt)) < 6
    assert iou(boxes, gt).mean() > 0.7


def test_result_fields(clip):
    t = siamfc_tracker()
    t.init(clip.frames[0], clip.boxes[0])
    r = t.update(clip.frames[1])
    assert len(r.box) == 4 and all(isinstance(v, float) for v in r.box)
    assert 0.0 <= r.score <= 1.0 and isinstance(r.ok, bool)


def test_update_before_init_raises(clip):
    with pytest.raises(NotInitializedError):
        siamfc_tracker().update(clip.frames[0])


@pytest.mark.parametrize("frame", [None, np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 2), np.uint8), "frame.jpg"])
def test_bad_frames_raise(frame):
    with pytest.raises(InvalidFrameError):
        siamfc_tracker().init(frame, (1, 1, 5, 5))


@pytest.mark.parametrize("box", [(10, 10, 0, 5), (10, 10, -3, 5), (np.nan, 1, 5, 5), (1, 1, np.inf, 5), (700, 10, 20, 20), (-50, -50, 20, 20), (1, 2, 3), "abc"])
def test_bad_boxes_raise(clip, box):
    with pytest.raises(InvalidBoxError):
        siamfc_tracker().init(clip.frames[0], box)


def test_errors_are_value_errors():
    assert issubclass(InvalidBoxError, ValueError) and issubclass(TrackerError, ValueError)


def test_grayscale_and_bgra_frames_are_converted(clip):
    import cv2
    t = siamfc_tracker()
    gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in clip.frames[:10]]
    t.init(gray[0], clip.boxes[0])
    for f in gray[1:]:
        r = t.update(f)
    assert iou(np.array(r.box), clip.boxes[9]) > 0.5
    t.init(cv2.cvtColor(clip.frames[0], cv2.COLOR_BGR2BGRA), clip.boxes[0])
    r = t.update(cv2.cvtColor(clip.frames[1], cv2.COLOR_BGR2BGRA))
    assert iou(np.array(r.box), clip.boxes[1]) > 0.5


def test_frame_size_change_mid_stream_raises(clip):
    t = siamfc_tracker()
    t.init(clip.frames[0], clip.boxes[0])
    with pytest.raises(InvalidFrameError, match="size changed"):
        t.update(clip.frames[1][:200])


def test_trackers_are_independent(clip):
    solo = run(siamfc_tracker(), clip)
    a, b = siamfc_tracker(), siamfc_tracker()
    a.init(clip.frames[0], clip.boxes[0])
    b.init(clip.frames[5], (5, 5, 40, 40))
    mixed = []
    for f in clip.frames[1:]:
        mixed.append(a.update(f).box)
        b.update(f)
    assert np.allclose(solo, mixed)


def test_threads_do_not_interfere(clip):
    solo = run(siamfc_tracker(), clip)
    outputs = {}

    def work(key):
        outputs[key] = run(siamfc_tracker(), clip)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for k in range(3):
        assert np.allclose(outputs[k], solo)
