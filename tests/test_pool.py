import numpy as np
import pytest

from conftest import MatchingSiamFC, boxes_of, siamfc_config, track_alone, track_in_pool
from tracker import InvalidFrameError, TrackerError
from tracker.trackers import SiamFCTracker, SiamRPNTracker
from tracker.trackers.pool import TrackerPool
from tracker.video.demo import generate_clip
from tracker.zoo import model_config


def make_clips():
    return [generate_clip(num_frames=25, seed=s, base_size=(60, 50)) for s in (11, 12, 13)]


@pytest.mark.parametrize("kind", ["siamfc", "siamfc_templates", "light"])
@pytest.mark.slow
def test_pool_matches_independent_trackers(kind):
    import torch
    from tracker.models import SiameseNet

    torch.manual_seed(0)
    if kind.startswith("siamfc"):
        cfg = siamfc_config("templates" if kind.endswith("templates") else "crops")
        make = lambda: SiamFCTracker(MatchingSiamFC(), cfg)  # noqa: E731
    else:
        net = SiameseNet(model_config("light")).eval()
        make = lambda: SiamRPNTracker(net, model_config("light"))  # noqa: E731
    clips = make_clips()
    for pooled, clip in zip(track_in_pool(TrackerPool(make()), clips), clips):
        assert np.allclose(boxes_of(pooled), boxes_of(track_alone(make(), clip)), atol=1e-3)


def test_add_and_remove_at_any_time():
    make = lambda: SiamFCTracker(MatchingSiamFC(), model_config("siamfc"))  # noqa: E731
    clip = generate_clip(num_frames=25)
    pool = TrackerPool(make())
    first = pool.add(clip.frames[0], clip.boxes[0])
    boxes = []
    for t in range(1, 25):
        if t == 10:
            second = pool.add(clip.frames[t], clip.boxes[t])
        if t == 18:
            pool.remove(second)
        out = pool.update(clip.frames[t])
        boxes.append(out[first].box)
        assert set(out) == ({first, second} if 10 <= t < 18 else {first})
    assert np.allclose(boxes, boxes_of(track_alone(make(), clip)), atol=1e-3)
    with pytest.raises(TrackerError):
        pool.remove(second)


def test_several_streams_need_a_mapping():
    make = lambda: SiamFCTracker(MatchingSiamFC(), model_config("siamfc"))  # noqa: E731
    clip = generate_clip(num_frames=3)
    pool = TrackerPool(make())
    pool.add(clip.frames[0], clip.boxes[0], stream="a")
    pool.add(clip.frames[0], clip.boxes[0], stream="b")
    with pytest.raises(InvalidFrameError):
        pool.update(clip.frames[1])
    assert len(pool.update({"a": clip.frames[1]})) == 1


@pytest.mark.slow
def test_pool_batches_re_detecting_targets_apart():
    """A long-term target that lost its object searches a larger crop: the pool runs it in its
    own forward and still gives the boxes of independent trackers."""
    from dataclasses import replace

    from conftest import MatchingRPN
    from tracker.trackers import SiamRPNTracker

    cfg = model_config("siamrpn")
    cfg = replace(cfg, siamrpn=replace(cfg.siamrpn, instance_size=255), lost=replace(cfg.lost, longterm=True))
    clips = [generate_clip(num_frames=80, scale_range=(0.9, 1.1), hidden=(40, 70)),
             generate_clip(num_frames=80, scale_range=(0.9, 1.1))]
    size = clips[0].boxes[0][2:]
    make = lambda: SiamRPNTracker(MatchingRPN(cfg, size, absolute=True), cfg)  # noqa: E731
    boxes = [(*c.boxes[0][:2], *size) for c in clips]
    pooled = track_in_pool(TrackerPool(make()), clips, boxes)
    assert not all(r.ok for r in pooled[0]) and all(r.ok for r in pooled[1])  # the first one re-detected on wider crops
    for results, clip, box in zip(pooled, clips, boxes):
        assert np.allclose(boxes_of(results), boxes_of(track_alone(make(), clip, box)), atol=1e-3)


@pytest.mark.parametrize("threads", [1, 2])
def test_pool_on_shipped_graphs_in_parallel_workers_matches_independent_trackers(threads):
    """On onnxruntime with two threads the pool splits its targets over two one-thread
    workers (with one, in series): each target's boxes are still its independent tracker's."""
    from tracker import load_tracker

    clips = make_clips()
    pool = TrackerPool(load_tracker("mobilenet_fc", backend="onnxruntime", threads=threads))
    pooled = track_in_pool(pool, clips)
    assert (pool._workers is not None) == (threads == 2)
    for boxes, clip in zip(pooled, clips):
        alone = boxes_of(track_alone(load_tracker("mobilenet_fc", backend="onnxruntime", threads=threads), clip))
        assert np.abs(boxes_of(boxes) - alone).max() < 1e-3
