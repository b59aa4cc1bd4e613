"""track_video: any source, several targets through one pool; live sources keep only the
newest frame (bounded latency, dropped frames counted); files never drop one."""
import threading
import time

import numpy as np
import pytest

from conftest import MatchingSiamFC, boxes_of, siamfc_config, track_alone, write_clip
from tracker import SourceError, TargetResult, track_video
from tracker.trackers import SiamFCTracker
from tracker.video.demo import generate_clip, generate_targets_clip
from tracker.video.live import LatestFrameReader
from tracker.video.sources import LiveSource
from tracker.zoo import model_config


def matching_tracker():
    return SiamFCTracker(MatchingSiamFC(), model_config("siamfc"))


class SlowMatching(MatchingSiamFC):
    """A search branch that takes ``seconds`` a call: a tracker slower than the camera."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def track(self, x, kernel):
        time.sleep(self.seconds)
        return super().track(x, kernel)


class FakeCamera:
    """Frames of ``clip`` at ``fps``, paced like a camera whether or not anyone reads them;
    remembers when it produced each one."""

    def __init__(self, clip, fps):
        self.frames, self.period = clip.frames, 1.0 / fps
        self.produced = []  # (index, time.monotonic()) of each frame handed out
        self.lock = threading.Lock()

    def read(self):
        n = len(self.produced)
        if n == len(self.frames):
            return None
        if n:
            time.sleep(max(0.0, self.produced[0][1] + n * self.period - time.monotonic()))
        with self.lock:
            self.produced.append((n, time.monotonic()))
        return self.frames[n]

    def newest(self):
        with self.lock:
            return self.produced[-1][0]


@pytest.mark.slow
def test_several_targets_in_one_pool_match_independent_trackers():
    clip = generate_targets_clip(num_targets=3, num_frames=20)
    got = {k: [] for k in range(3)}
    frames = []
    for index, frame, results in track_video(iter(clip.frames), [b[0] for b in clip.boxes], matching_tracker()):
        frames.append(index)
        assert [r.id for r in results] == [0, 1, 2] and all(isinstance(r, TargetResult) for r in results)
        assert all(r.frame == index and r.time is None for r in results)  # an iterable has no frame rate
        if index:
            for r in results:
                got[r.id].append(r)
    assert frames == list(range(20))
    for k in range(3):
        alone = track_alone(matching_tracker(), clip, clip.boxes[k][0])
        assert np.allclose(boxes_of(got[k]), boxes_of(alone), atol=1e-3)


def test_one_box_and_the_first_frame_result():
    clip = generate_clip(num_frames=3)
    video = track_video(clip.frames, clip.boxes[0], matching_tracker())
    (i, frame, first), *rest = list(video)
    assert i == 0 and frame is clip.frames[0] and len(first) == 1
    assert first[0].box == tuple(clip.boxes[0]) and first[0].score == 1.0 and first[0].ok
    assert video.frames == 3 and video.dropped_frames == 0 and len(rest) == 2


@pytest.mark.slow
def test_live_source_slower_tracker_stays_current_and_counts_drops():
    """Camera at 10 fps, tracking at ~8 fps: each result is for a frame at most two frames
    behind the camera's newest when it comes out (not a queue that grows), and the frames
    skipped to get there are counted."""
    clip = generate_clip(num_frames=25)
    camera = FakeCamera(clip, fps=10)
    tracker = SiamFCTracker(SlowMatching(0.1), siamfc_config("templates"))  # one search crop a frame: mostly the sleep
    video = track_video(LiveSource(camera.read, "fake camera", fps=10), clip.boxes[0], tracker)
    lags, indices = [], []
    for index, _, results in video:
        lags.append(camera.newest() - index)
        indices.append(index)
        assert results[0].frame == index and results[0].time is not None
    assert max(lags) <= 2, lags
    assert video.dropped_frames > 0
    assert video.dropped_frames == len(clip.frames) - len(indices)  # each frame read was tracked or counted
    assert indices[0] == 0 and indices[-1] == len(clip.frames) - 1 and indices == sorted(set(indices))


def test_a_file_source_drops_no_frame(tmp_path):
    clip = generate_clip(num_frames=15, width=320, height=240, base_size=(48, 40))
    path = write_clip(tmp_path / "clip.mp4", clip.frames)
    video = track_video(path, clip.boxes[0], SiamFCTracker(SlowMatching(0.02), model_config("siamfc")))
    assert [index for index, _, _ in video] == list(range(15))
    assert video.dropped_frames == 0 and video.frames == 15


def test_stop_ends_a_stalled_live_source():
    released = threading.Event()
    frames = iter([generate_clip(num_frames=1).frames[0]])

    def read():  # one frame, then a stream that stalls
        frame = next(frames, None)
        if frame is None:
            released.wait(10)
        return frame

    stopped = []
    video = track_video(LiveSource(read, "stalled"), (100, 100, 40, 40), matching_tracker(), stop=lambda: bool(stopped))
    tic = time.monotonic()
    for index, _, _ in video:
        stopped.append(index)
    assert stopped == [0] and time.monotonic() - tic < 3.0  # left the wait for a frame that never came (1 s to join the reader)
    released.set()
    video.close()


def test_reader_ends_with_the_last_frame_and_reports_errors():
    frames = iter([np.zeros((4, 4, 3), np.uint8)] * 2)
    reader = LatestFrameReader(lambda: next(frames, None))
    got = []
    while (item := reader.get()) is not None:
        got.append(item[0])
    assert got[-1] == 1 and reader.dropped + len(got) == 2

    def broken():
        raise OSError("device unplugged")

    with pytest.raises(SourceError, match="device unplugged"):
        LatestFrameReader(broken, "cam").get()


def test_needs_boxes_or_a_selector():
    from tracker import InvalidBoxError

    with pytest.raises(InvalidBoxError):
        track_video([], None, matching_tracker())
