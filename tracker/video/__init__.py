"""Video in and out for the CLI: sources, annotated output, the generated demo clip."""
from .demo import DemoClip, generate_clip
from .sources import FrameSource, open_source

__all__ = ["FrameSource", "open_source", "DemoClip", "generate_clip"]
