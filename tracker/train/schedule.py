"""Learning rate: linear warm-up, then log-linear decay to ``end_lr`` (pysot's schedule)."""
from __future__ import annotations

import math

from .config import OptimConfig


def learning_rate(optim: OptimConfig, progress: float) -> float:
    """LR at ``progress`` epochs (fractional) into training."""
    if progress < optim.warmup_epochs:
        return optim.warmup_lr + (optim.lr - optim.warmup_lr) * progress / max(optim.warmup_epochs, 1e-9)
    span = max(optim.epochs - optim.warmup_epochs, 1e-9)
    t = min(max((progress - optim.warmup_epochs) / span, 0.0), 1.0)
    return math.exp(math.log(optim.lr) + t * (math.log(optim.end_lr) - math.log(optim.lr)))
