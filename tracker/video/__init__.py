"""Video in and out: sources, the tracking pipeline, annotated output, the generated demo clip."""
from .demo import DemoClip, generate_clip
from .pipeline import TargetResult, TrackedVideo, track_video
from .sources import FrameSource, LiveSource, SourceFrame, open_source

__all__ = ["FrameSource", "LiveSource", "SourceFrame", "open_source", "track_video", "TrackedVideo", "TargetResult",
           "DemoClip", "generate_clip"]
