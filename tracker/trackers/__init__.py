"""Tracking post-processing on top of a :class:`~tracker.models.SiameseNet`."""
from typing import Union

import torch

from ..config import ModelConfig
from ..models import SiameseNet
from .base import SiameseTracker, TargetState, TrackResult
from .pool import TrackerPool
from .siamfc import SiamFCTracker
from .siamrpn import SiamRPNTracker

TRACKERS = {"siamfc": SiamFCTracker, "siamrpn": SiamRPNTracker}


def build_tracker(net: SiameseNet, config: ModelConfig, device: Union[str, torch.device, None] = "cpu") -> SiameseTracker:
    """The tracker class named by ``config.tracker`` around ``net``."""
    try:
        cls = TRACKERS[config.tracker]
    except KeyError:
        raise ValueError(f"unknown tracker {config.tracker!r} ({', '.join(TRACKERS)})") from None
    return cls(net, config, device)


__all__ = ["SiameseTracker", "SiamFCTracker", "SiamRPNTracker", "TargetState", "TrackResult", "TrackerPool", "build_tracker", "TRACKERS"]
