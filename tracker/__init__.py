"""siamtrack: real-time Siamese visual object tracking (SiamFC, SiamRPN, a light CPU model).

>>> from tracker import load_tracker
>>> t = load_tracker("light")
>>> t.init(frame, (x, y, w, h))
>>> r = t.update(next_frame)   # r.box, r.score, r.ok
"""
import logging

from .errors import (
    CheckpointError,
    ConfigError,
    DatasetError,
    DeviceError,
    InvalidBoxError,
    InvalidFrameError,
    NotInitializedError,
    SourceError,
    TrackerError,
    UnknownModelError,
)
from .trackers import SiameseTracker, TrackerPool, TrackResult
from .zoo import architectures, list_models, load_tracker

__version__ = "0.1.0"
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "load_tracker",
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
    "DatasetError",
    "DeviceError",
]
