"""The thread policy's decisions (tracker.threads): counts from free cores, corrections while
tracking, scoping of OpenCV's pool, and its wiring into trackers, pools and eval workers."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

from tracker import TrackerPool, load_tracker
from tracker.eval.experiment import TrackerSpec
from tracker.threads import LoadSampler, ThreadPolicy, threads_for, usable_cores


class FakeLoad(LoadSampler):
    """Free cores as a test says, not as the machine has them."""

    def __init__(self, free: float, cores: int = 2) -> None:
        self.cores, self.free = cores, free

    def free_cores(self, settle_s: float = 0.0) -> float:
        return self.free


def policy(free: float, check_every: int = 5, max_threads: int = 2):
    applied = []
    p = ThreadPolicy(max_threads=max_threads, check_every=check_every, sampler=FakeLoad(free))
    p.bind(applied.append)
    return p, applied


def frames(p: ThreadPolicy, seconds: float, n: int) -> None:
    for _ in range(n):
        p.record(seconds)


@pytest.mark.parametrize("free, expected", [(2.0, 2), (1.6, 2), (1.4, 1), (1.0, 1), (0.0, 1), (7.0, 2)])
def test_one_thread_per_free_core_at_least_one(free, expected):
    assert threads_for(free, max_threads=2) == expected
    assert policy(free)[0].threads == expected


def test_given_one_free_core_it_picks_one_thread_and_tells_the_runtime():
    p, applied = policy(1.0)
    assert p.threads == 1 and applied == [1]


def test_forced_count_never_changes():
    applied = []
    p = ThreadPolicy(forced=2, check_every=5, sampler=FakeLoad(0.0))
    p.bind(applied.append)
    frames(p, 1.0, 50)
    assert p.threads == 2 and applied == [2] and not p.adaptive


def test_load_rising_mid_tracking_drops_to_one_thread_at_the_next_check():
    p, applied = policy(2.0)
    frames(p, 0.010, 4)
    p._sampler.free = 1.0  # a neighbour takes a core
    assert p.threads == 2
    frames(p, 0.010, 1)  # the check
    assert p.threads == 1 and applied == [2, 1]


def test_more_threads_kept_only_while_faster_and_retried_after_a_backoff():
    p, applied = policy(1.0)
    frames(p, 0.010, 4)  # one thread: 10 ms
    p._sampler.free = 2.0  # cores look free: try two
    frames(p, 0.010, 1)
    assert p.threads == 2
    frames(p, 0.030, 5)  # ... but two are slower (a load the sampler cannot see)
    assert p.threads == 1
    frames(p, 0.010, 5 * 2)  # backs off for two checks although the load looks gone
    assert p.threads == 1
    frames(p, 0.010, 5)
    assert p.threads == 2
    frames(p, 0.005, 5)  # now two are faster: they stay
    frames(p, 0.005, 5 * 3)
    assert p.threads == 2 and applied == [1, 2, 1, 2]


def test_frame_scopes_opencv_pool_to_the_count_and_restores_it():
    p, _ = policy(1.0)
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        with p.frame():
            inside = cv2.getNumThreads()
        assert inside == 1 and cv2.getNumThreads() == 2
        cv2.setNumThreads(1)  # a caller who asked for fewer keeps them
        p.threads = 2
        with p.frame():
            assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)


def test_failed_frame_is_not_timed():
    p, _ = policy(2.0)
    with pytest.raises(ValueError):
        with p.frame():
            raise ValueError("bad frame")
    assert len(p._times) == 0


def test_sampler_counts_other_processes_not_this_one():
    sampler = LoadSampler()
    if sampler._last is None:
        pytest.skip("no /proc/stat here")

    def busy(seconds: float = 0.4) -> float:
        sampler.others_busy()
        time.sleep(seconds)
        return sampler.others_busy()

    baseline = busy()
    if baseline > 0.4:
        pytest.skip(f"other work keeps {baseline:.1f} cores busy: no room to measure a neighbour")
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    own = threading.Thread(target=spin)
    own.start()
    try:
        mine = busy()
    finally:
        stop.set()
        own.join()
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        theirs = busy()
    finally:
        neighbour.kill()
        neighbour.wait()
    assert mine < baseline + 0.4, (baseline, mine)  # this process's own busy thread is not "load"
    assert theirs > baseline + 0.6, (baseline, theirs)  # another process spinning on a core is


@pytest.mark.parametrize("backend", [pytest.param("torch", marks=pytest.mark.slow), "onnxruntime"])
def test_trackers_follow_their_policy_and_give_the_same_boxes_at_any_count(backend, clip):
    boxes = {}
    for threads in (1, 2):
        tracker = load_tracker("light_fc_fast", backend=backend, threads=threads)
        assert tracker.thread_policy.threads == threads and not tracker.thread_policy.adaptive
        tracker.init(clip.frames[0], tuple(clip.boxes[0]))
        boxes[threads] = np.array([tracker.update(f).box for f in clip.frames[1:15]])
    np.testing.assert_allclose(boxes[1], boxes[2], atol=1e-3)


def test_exported_net_switches_sessions_between_counts(clip):
    tracker = load_tracker("light_fc_fast", backend="onnxruntime", max_threads=2)
    net = tracker.net
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    net.set_threads(1)
    one = [tracker.update(f).box for f in clip.frames[1:6]]
    assert net.threads == 1
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    net.set_threads(2)
    two = [tracker.update(f).box for f in clip.frames[1:6]]
    assert sorted(net._by_threads) == [1, 2]
    np.testing.assert_allclose(one, two, atol=1e-3)


def test_pool_frames_feed_the_policy(clip):
    tracker = load_tracker("light_fc_fast", max_threads=2)
    pool = TrackerPool(tracker)
    pool.add(clip.frames[0], clip.boxes[0])
    pool.update(clip.frames[1])
    assert len(tracker.thread_policy._times) == (1 if tracker.thread_policy.adaptive else 0)


def test_eval_worker_share_caps_the_policy():
    tracker = TrackerSpec(name="t", model="light_fc_fast").build(max_threads=1)
    assert tracker.thread_policy.max_threads == 1 and tracker.thread_policy.threads == 1
    assert ThreadPolicy().max_threads == usable_cores()
