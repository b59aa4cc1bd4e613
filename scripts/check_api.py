#!/usr/bin/env python3
"""Check the public API contract from outside the test suite, for every shipped model:
``load_tracker(name)``, ``init``/``update``, result fields, ``track_video``, and the documented errors."""
from __future__ import annotations

import sys

import numpy as np

import tracker
from tracker import load_tracker
from tracker.video.demo import generate_clip


def expect(error: type, func, *args) -> None:
    try:
        func(*args)
    except error as exc:
        print(f"  ok: {error.__name__}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - report any other type as a failure
        raise SystemExit(f"FAIL: expected {error.__name__}, got {type(exc).__name__}: {exc}")
    raise SystemExit(f"FAIL: expected {error.__name__}, nothing was raised")


def main() -> int:
    models = tracker.list_models()
    if not models:
        raise SystemExit("FAIL: no shipped models")
    clip = generate_clip(num_frames=20)
    for name in models:
        t = load_tracker(name, device="cpu")
        t.init(clip.frames[0], tuple(clip.boxes[0]))
        r = t.update(clip.frames[1])
        assert len(r.box) == 4 and isinstance(r.score, float) and isinstance(r.ok, bool), r
        print(f"{name}: box={tuple(round(v, 1) for v in r.box)} score={r.score:.3f} ok={r.ok}")
        fresh = load_tracker(name)
        expect(tracker.NotInitializedError, fresh.update, clip.frames[0])
        expect(tracker.InvalidFrameError, fresh.init, None, (1, 1, 5, 5))
        expect(tracker.InvalidFrameError, fresh.init, np.zeros((0, 0, 3), np.uint8), (1, 1, 5, 5))
        expect(tracker.InvalidBoxError, fresh.init, clip.frames[0], (10, 10, 0, 10))
        expect(tracker.InvalidBoxError, fresh.init, clip.frames[0], (10, 10, -5, 10))
        expect(tracker.InvalidBoxError, fresh.init, clip.frames[0], (float("nan"), 10, 5, 10))
        expect(tracker.InvalidBoxError, fresh.init, clip.frames[0], (5000, 5000, 10, 10))
        expect(ValueError, fresh.init, clip.frames[0], (10, 10, 0, 10))
    expect(tracker.UnknownModelError, load_tracker, "no-such-model")
    expect(tracker.CheckpointError, load_tracker, None, "/no/such/file.pt")
    expect(tracker.DeviceError, load_tracker, None, None, "no-such-device")
    expect(tracker.InvalidBoxError, tracker.track_video, clip.frames, [(10, 10, 0, 10)], models[0])
    frames = [(i, [(r.id, r.frame, len(r.box)) for r in results]) for i, _, results in
              tracker.track_video(clip.frames[:3], [clip.boxes[0], (10, 10, 30, 30)], models[0])]
    assert frames == [(i, [(0, i, 4), (1, i, 4)]) for i in range(3)], frames
    print(f"track_video: two targets over 3 frames with {models[0]}")
    print("all checks passed for:", ", ".join(models))
    return 0


if __name__ == "__main__":
    sys.exit(main())
