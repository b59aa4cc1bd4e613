"""siamtrack: real-time Siamese visual object tracking (SiamFC, SiamRPN, a light CPU model).

>>> from tracker import load_tracker
>>> t = load_tracker("light")
>>> t.init(frame, (x, y, w, h))
>>> r = t.update(next_frame)   # r.box, r.score, r.ok
>>> for frame_index, frame, results in track_video("clip.mp4", [box_a, box_b]):
...     pass                     # one TargetResult per target: r.id, r.box, r.score, r.ok
"""
import logging

from .errors import (
    CheckpointError,
    ConfigError,
    DatasetError,
    DeviceError,
    InvalidBoxError,
    InvalidFrameError,
    MissingDependencyError,
    NotInitializedError,
    OutputError,
    SourceError,
    TrackerError,
    UnknownModelError,
)
from .export.runtime import load_exported_tracker
from .trackers import SiameseTracker, TrackerPool, TrackResult
from .video.pipeline import TargetResult, TrackedVideo, track_video
from .zoo import architectures, list_models, load_tracker

__version__ = "0.1.0"
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "load_tracker",
    "load_exported_tracker",
    "track_video",
    "TrackedVideo",
    "TargetResult",
    "list_models",
    "architectures",
    "SiameseTracker",
    "TrackerPool",
    "TrackResult",
    "TrackerError",
    "InvalidFrameError",
    "InvalidBoxError",
    "NotInitializedError",
    "CheckpointError",
    "ConfigError",
    "UnknownModelError",
    "SourceError",
    "OutputError",
    "DatasetError",
    "DeviceError",
    "MissingDependencyError",
]
