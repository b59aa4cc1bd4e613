"""Training: configs, targets, losses, schedule and the trainer."""
from .config import DataConfig, DistillConfig, OptimConfig, TrainConfig
from .trainer import Trainer

__all__ = ["TrainConfig", "DataConfig", "OptimConfig", "DistillConfig", "Trainer"]
