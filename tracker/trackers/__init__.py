"""Tracking post-processing (numpy) on top of any network runtime (:mod:`tracker.network`)."""
from typing import Any, Optional

from ..config import ModelConfig
from ..threads import ThreadPolicy
from .base import SiameseTracker, TargetState, TrackResult
from .pool import TrackerPool
from .siamban import SiamBANTracker
from .siamfc import SiamFCTracker
from .siamrpn import SiamRPNTracker

TRACKERS = {"siamfc": SiamFCTracker, "siamrpn": SiamRPNTracker, "siamban": SiamBANTracker}


def build_tracker(net: Any, config: ModelConfig, device: Any = "cpu", thread_policy: Optional[ThreadPolicy] = None) -> SiameseTracker:
    """The tracker class named by ``config.tracker`` around ``net`` (a
    :class:`~tracker.network.Network`, or a torch module run on ``device``); on the CPU
    with ``thread_policy`` or a fresh :class:`~tracker.threads.ThreadPolicy`."""
    try:
        cls = TRACKERS[config.tracker]
    except KeyError:
        raise ValueError(f"unknown tracker {config.tracker!r} ({', '.join(TRACKERS)})") from None
    return cls(net, config, device, thread_policy)


__all__ = ["SiameseTracker", "SiamFCTracker", "SiamRPNTracker", "SiamBANTracker", "TargetState", "TrackResult", "TrackerPool", "build_tracker", "TRACKERS"]
