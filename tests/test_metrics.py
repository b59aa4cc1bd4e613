import numpy as np
import pytest

from tracker.eval.metrics import score_sequence


def test_hand_computed_scores():
    gt = np.array([[0, 0, 10, 10]] * 5, dtype=float)
    pred = np.array([
        [0, 0, 10, 10],   # init frame, not scored
        [0, 0, 10, 10],   # IoU 1
        [5, 0, 10, 10],   # IoU 50/150 = 1/3, centre error 5
        [30, 30, 10, 10], # IoU 0, centre error 42.4
        [np.nan] * 4,     # failure -> IoU 0
    ])
    s = score_sequence(pred, gt)
    ious = np.array([1, 1 / 3, 0, 0])
    thresholds = np.linspace(0, 1, 21)
    expected_auc = np.mean([(ious > t).mean() for t in thresholds])
    assert s.auc == pytest.approx(expected_auc)
    assert s.ao == pytest.approx(ious.mean())
    assert s.sr50 == pytest.approx(0.25)
    assert s.precision == pytest.approx(0.5)
    assert s.frames == 4


def test_absent_frames_are_not_scored():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10]])
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 5, 5], [0, 0, 10, 10]])
    s = score_sequence(pred, gt, absent=np.array([0, 0, 1, 0]))
    assert s.frames == 2 and s.auc == pytest.approx(1.0 - 1 / 21)
