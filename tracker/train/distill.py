"""Knowledge distillation from a trained SiamFC-head teacher (e.g. the AlexNet SiamFC
teaching light_fc): its score maps, and optionally its backbone features.

The feature hint goes through a trained 1x1 projection from the student's channels to the
teacher's (FitNets); the projection lives here, beside the loss that needs it, never in the
student network that ships.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Dict, Iterator, List

import torch
import torch.distributed as dist
from torch import nn

from ..config import ModelConfig
from ..models import SiameseNet
from ..models.checkpoint import load_checkpoint
from .config import DistillConfig
from .losses import feature_hint_loss, score_distillation_loss


def load_teacher(path: str, student: ModelConfig, device: torch.device) -> SiameseNet:
    """A frozen SiamFC-head network whose score maps line up with the student's."""
    teacher = load_checkpoint(path).build()
    if teacher.is_rpn or student.tracker != "siamfc":
        raise ValueError(f"distillation needs SiamFC score-map heads in teacher ({path}) and student; RPN heads have no common map")
    t, s = teacher.config.siamfc, student.siamfc
    if (t.total_stride, t.exemplar_size, t.instance_size) != (s.total_stride, s.exemplar_size, s.instance_size):
        raise ValueError(f"teacher {path} has stride/crop sizes {(t.total_stride, t.exemplar_size, t.instance_size)}, the student {(s.total_stride, s.exemplar_size, s.instance_size)}")
    teacher.requires_grad_(False)
    return teacher.to(device, memory_format=torch.channels_last).eval()


@contextmanager
def backbone_outputs(net: SiameseNet) -> Iterator[List[torch.Tensor]]:
    """Collect what ``net``'s backbone returns while the block runs (template, then search),
    without a second pass and whatever wraps ``net`` (DistributedDataParallel)."""
    outputs: List[torch.Tensor] = []
    handle = net.backbone.register_forward_hook(lambda _module, _inputs, output: outputs.append(output))
    try:
        yield outputs
    finally:
        handle.remove()


class Distiller:
    """The teacher's knowledge as extra losses for one student network."""

    def __init__(self, cfg: DistillConfig, student: SiameseNet, device: torch.device) -> None:
        self.cfg = cfg
        self.teacher = load_teacher(cfg.teacher, student.config, device)
        self.projection = None
        if cfg.feature_weight > 0:
            self.projection = nn.Conv2d(student.backbone.out_channels, self.teacher.backbone.out_channels, 1).to(device)

    @property
    def uses_features(self) -> bool:
        return self.projection is not None

    def parameters(self) -> List[nn.Parameter]:
        """What the optimiser trains besides the student: the feature projection, if any."""
        return list(self.projection.parameters()) if self.projection is not None else []

    def state_dict(self) -> Dict[str, torch.Tensor]:
        return self.projection.state_dict() if self.projection is not None else {}

    def load_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        if self.projection is not None:
            self.projection.load_state_dict(state)

    def average_gradients(self, world: int) -> None:
        """The projection is outside DistributedDataParallel: average its gradients by hand."""
        for p in self.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad /= world

    def losses(self, z: torch.Tensor, x: torch.Tensor, scores: torch.Tensor, features: List[torch.Tensor], amp: bool) -> Dict[str, torch.Tensor]:
        """``scores``: the student's score maps for ``(z, x)``; ``features``: its backbone
        outputs for ``z`` and ``x`` (needed only with a feature weight)."""
        with torch.no_grad(), torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            with backbone_outputs(self.teacher) as teacher_features:
                teacher_scores = self.teacher(z, x)[0]
        out = {"distill": score_distillation_loss(scores, teacher_scores)}
        if self.projection is not None:
            out["hint"] = sum(feature_hint_loss(self.projection(s.float()), t) for s, t in zip(features, teacher_features)) / len(features)
        return out

    def total(self, losses: Dict[str, torch.Tensor]) -> torch.Tensor:
        hint = self.cfg.feature_weight * losses["hint"] if "hint" in losses else 0.0
        return self.cfg.weight * losses["distill"] + hint
