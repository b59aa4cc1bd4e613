"""The real SiamFC / SiamRPN post-processing, driven by deterministic matching nets."""
import threading

import numpy as np
import pytest

from conftest import MatchingRPN, MatchingSiamFC, siamfc_config
from tracker import InvalidBoxError, InvalidFrameError, NotInitializedError, TrackerError
from tracker.eval.metrics import center_errors
from tracker.geometry import iou
from tracker.trackers import SiamFCTracker, SiamRPNTracker
from tracker.trackers.siamfc import penalised, upsampled_peaks
from tracker.trackers.siamrpn import blend_peak
from tracker.zoo import model_config


def siamfc_tracker(scale_search="crops"):
    return SiamFCTracker(MatchingSiamFC(), siamfc_config(scale_search))


def siamrpn_tracker(init_box, instance_size=255, peak_blend=0.0):
    from dataclasses import replace
    cfg = model_config("siamrpn")
    cfg = replace(cfg, siamrpn=replace(cfg.siamrpn, instance_size=instance_size, peak_blend=peak_blend))
    return SiamRPNTracker(MatchingRPN(cfg, init_box[2:]), cfg)


def run(tracker, clip):
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    return np.array([tracker.update(f).box for f in clip.frames[1:]])


@pytest.mark.parametrize("scale_search", ["crops", "templates"])
@pytest.mark.slow
def test_siamfc_follows_moving_scaling_object(scale_search):
    # medians over five clips: one clip's track can hinge on a single close call
    from tracker.video.demo import generate_clip
    errors, ious, size_corr, growth = [], [], [], []
    for seed in range(5):
        clip = generate_clip(num_frames=120, seed=seed)
        boxes = run(siamfc_tracker(scale_search), clip)
        gt = clip.boxes[1:]
        errors.append(np.median(center_errors(boxes, gt)))
        ious.append(iou(boxes, gt).mean())
        # the scale pyramid follows the size change (object grows 0.8 -> 1.35 -> 0.8 of its base size)
        size_corr.append(np.corrcoef(boxes[:, 2], gt[:, 2])[0, 1])
        growth.append(boxes[len(gt) // 2, 2] / boxes[0, 2])
    assert np.median(errors) < 6
    assert np.median(ious) > 0.75
    assert np.median(size_corr) > 0.75
    assert np.median(growth) > 1.25


@pytest.mark.parametrize("instance_size,peak_blend", [(255, 0.0), (287, 0.0), (255, 0.05)])
def test_siamrpn_follows_moving_object(instance_size, peak_blend):
    # The matching head has no learned size regression (it predicts the initial size), so
    # this clip changes scale mildly; anchors, decoding, penalties and window are all real.
    from tracker.video.demo import generate_clip
    clip = generate_clip(num_frames=120, scale_range=(0.9, 1.1))
    boxes = run(siamrpn_tracker(clip.boxes[0], instance_size, peak_blend), clip)
    gt = clip.boxes[1:]
    assert np.median(center_errors(boxes, gt)) < 6
    assert iou(boxes, gt).mean() > 0.7


def peak_grid(size=5, k=2):
    """Boxes (dx = column * 8, dy = row * 8, w = 10 + anchor, h = 20) over a size x size map
    with k anchors, and scores that are -inf (weight 0) except where a test sets them."""
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    boxes = np.zeros((4, k, size, size))
    boxes[0], boxes[1] = cols * 8.0, rows * 8.0
    boxes[2] = (10.0 + np.arange(k))[:, None, None]
    boxes[3] = 20.0
    return boxes.reshape(4, -1), np.full((k, size, size), -np.inf)


def test_blend_peak_averages_the_neighbourhood_by_score():
    boxes, pscore = peak_grid()
    pscore[0, 2, 2] = 1.0                        # best: anchor 0 at row 2, col 2
    pscore[1, 2, 3] = 1.0 - 0.1 * np.log(3)      # anchor 1 one cell right: weight 1/3 at T = 0.1
    pscore[0, 0, 0] = 1.0                        # a tied peak two cells away is not blended
    flat = pscore.ravel()
    best = 12  # anchor 0, cell (2, 2)
    assert np.allclose(blend_peak(boxes, flat, best, 5, 0.0), [16, 16, 10, 20])
    # (1 * (16, 16, 10, 20) + 1/3 * (24, 16, 11, 20)) / (4/3)
    assert np.allclose(blend_peak(boxes, flat, best, 5, 0.1), [18, 16, 10.25, 20])


def test_blend_peak_moves_continuously_where_argmax_jumps():
    boxes, pscore = peak_grid(k=1)
    pscore[0, 2, 2], pscore[0, 2, 3] = 0.9, 0.9 - 1e-7
    before = pscore.ravel().copy()
    pscore[0, 2, 3] += 2e-7                      # a rounding-sized change flips the argmax
    after = pscore.ravel()
    assert np.argmax(before) != np.argmax(after)
    jump = blend_peak(boxes, after, int(np.argmax(after)), 5, 0.0) - blend_peak(boxes, before, int(np.argmax(before)), 5, 0.0)
    assert abs(jump[0]) == 8.0
    blended = blend_peak(boxes, after, int(np.argmax(after)), 5, 0.05) - blend_peak(boxes, before, int(np.argmax(before)), 5, 0.05)
    assert np.abs(blended).max() < 1e-4


@pytest.mark.parametrize("factor", [4, 16])
def test_upsampled_peaks_equal_the_full_resize_near_each_peak(factor):
    import cv2

    rng = np.random.default_rng(factor)
    for trial in range(200):
        height, width = rng.integers(2, 18, size=2)
        maps = rng.normal(size=(3, height, width)).astype(np.float32)
        if trial == 0:  # peaks in corners and on edges
            maps[0, 0, 0] = maps[1, -1, -1] = maps[2, 0, -1] = 10.0
        peaks = upsampled_peaks(maps, factor)
        for score, peak in zip(maps, peaks):
            full = cv2.resize(score, (width * factor, height * factor), interpolation=cv2.INTER_CUBIC)
            row, col = np.unravel_index(score.argmax(), score.shape)
            near = full[max(row - 1, 0) * factor:(row + 2) * factor, max(col - 1, 0) * factor:(col + 2) * factor]
            assert abs(peak - near.max()) < 1e-5


def test_scale_penalty_lowers_a_peak_of_either_sign():
    """SiamFC's penalty multiplies the off-centre scales' peaks, which raises a negative logit;
    lowered instead, a small margin goes to the middle scale whatever the sign."""
    penalties = np.array([0.97, 1.0, 0.97], dtype=np.float32)
    assert penalised(np.array([-1.0, -1.01, -1.0]), penalties).argmax() == 1  # multiplied: a side scale
    assert penalised(np.array([1.0, 0.98, 1.0]), penalties).argmax() == 1
    assert penalised(np.array([1.0, 0.96, 1.0]), penalties).argmax() == 0  # a clear margin still wins
    assert np.allclose(penalised(np.array([2.0, -2.0]), np.array([0.5, 0.5])), [1.0, -4.0])


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


@pytest.mark.slow
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


@pytest.mark.slow
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
