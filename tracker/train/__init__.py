"""Training: configs, targets, losses, schedule and the trainer (PyTorch).

The names below import torch on first use, so that ``siamtrack`` (whose ``train``
command lives here) starts without it.
"""
from typing import Any

__all__ = ["TrainConfig", "DataConfig", "OptimConfig", "DistillConfig", "Trainer"]


def __getattr__(name: str) -> Any:
    if name == "Trainer":
        from .trainer import Trainer

        return Trainer
    if name in __all__:
        from . import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
