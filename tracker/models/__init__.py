"""Networks: backbones, heads, the Siamese net and its checkpoints (PyTorch).

The names below import torch on first use, so that ``siamtrack`` (whose ``convert``
command lives here) starts without it.
"""
from typing import Any

__all__ = ["SiameseNet", "TemplateBranch", "SearchBranch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import siamese

        return getattr(siamese, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
