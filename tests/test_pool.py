import numpy as np
import pytest

from conftest import MatchingSiamFC
from tracker import InvalidFrameError, TrackerError
from tracker.trackers import SiamFCTracker, SiamRPNTracker
from tracker.trackers.pool import TrackerPool
from tracker.video.demo import generate_clip
from tracker.zoo import model_config


def make_clips():
    return [generate_clip(num_frames=25, seed=s, base_size=(60, 50)) for s in (11, 12, 13)]


def independent(make, clip, start=0):
    t = make()
    t.init(clip.frames[start], clip.boxes[start])
    return np.array([t.update(f).box for f in clip.frames[start + 1 :]])


@pytest.mark.parametrize("kind", ["siamfc", "light"])
def test_pool_matches_independent_trackers(kind):
    import torch
    from tracker.models import SiameseNet

    torch.manual_seed(0)
    if kind == "siamfc":
        make = lambda: SiamFCTracker(MatchingSiamFC(), model_config("siamfc"))  # noqa: E731
    else:
        net = SiameseNet(model_config("light")).eval()
        make = lambda: SiamRPNTracker(net, model_config("light"))  # noqa: E731
    clips = make_clips()
    pool = TrackerPool(make())
    ids = [pool.add(c.frames[0], c.boxes[0], stream=k) for k, c in enumerate(clips)]
    pooled = {i: [] for i in ids}
    for t in range(1, 25):
        for i, r in pool.update({k: c.frames[t] for k, c in enumerate(clips)}).items():
            pooled[i].append(r.box)
    for i, clip in zip(ids, clips):
        assert np.allclose(np.array(pooled[i]), independent(make, clip), atol=1e-3)


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
    assert np.allclose(boxes, independent(make, clip), atol=1e-3)
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
