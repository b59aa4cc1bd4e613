"""One training objective per head family: each owns its targets and its loss, so the
training loop stays generic and a new head adds a class here, not a branch in the trainer
(pytracking's actor). An objective maps the network's outputs on a batch of pairs to named
losses, ``"loss"`` being the one that is minimised."""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import torch

from ..config import ModelConfig
from .config import TrainConfig
from .losses import (balanced_logistic_loss, balanced_logistic_loss_ignoring, iou_loss, rpn_cls_loss, rpn_loc_loss,
                     score_distillation_loss)
from .targets import AnchorTargets, box_targets, siamfc_labels

Batch = Dict[str, torch.Tensor]  # z, x (B, 3, H, W) crops; box (B, 4) x1, y1, x2, y2 in the search crop; negative (B,)
Outputs = Tuple[torch.Tensor, ...]


class SiamFCObjective:
    """SiamFC: a balanced logistic loss on the score map, positives within 16 crop pixels of
    the centre; with a teacher, also its score maps (distillation)."""

    def __init__(self, config: ModelConfig, teacher: Optional[Callable[[torch.Tensor, torch.Tensor], Outputs]] = None,
                 distill_weight: float = 1.0) -> None:
        self.stride = config.siamfc.total_stride
        self.teacher, self.distill_weight = teacher, distill_weight

    def __call__(self, outputs: Outputs, batch: Batch) -> Dict[str, torch.Tensor]:
        score = outputs[0]
        labels = siamfc_labels(batch["box"], batch["negative"], score.shape[-1], self.stride, batch["x"].shape[-1])
        cls = balanced_logistic_loss(score.float(), labels)
        if self.teacher is None:
            return {"loss": cls, "cls": cls}
        with torch.no_grad():
            teacher_scores = self.teacher(batch["z"], batch["x"])[0]
        distill = score_distillation_loss(score, teacher_scores)
        return {"loss": cls + self.distill_weight * distill, "cls": cls, "distill": distill}


class AnchorObjective:
    """SiamRPN: pysot's anchor labels, cross-entropy on sampled anchors, smooth-L1 deltas."""

    def __init__(self, config: ModelConfig, score_size: int, instance_size: int, cfg: TrainConfig, generator: torch.Generator) -> None:
        self.targets = AnchorTargets(config.anchors, score_size, instance_size)
        self.anchor_num = config.head.anchor_num
        self.cls_weight, self.loc_weight = cfg.optim.cls_weight, cfg.optim.loc_weight
        self.generator = generator

    def __call__(self, outputs: Outputs, batch: Batch) -> Dict[str, torch.Tensor]:
        labels, deltas, weights = self.targets(batch["box"], batch["negative"], self.generator)
        cls = rpn_cls_loss(outputs[0], labels, self.anchor_num)
        loc = rpn_loc_loss(outputs[1], deltas, weights)
        return {"loss": self.cls_weight * cls + self.loc_weight * loc, "cls": cls, "loc": loc}


class BoxObjective:
    """The anchor-free box head: ellipse labels under a balanced logistic loss, and the
    ``-ln IoU`` of each cell's box inside the target (SiamBAN, NanoTrack)."""

    def __init__(self, config: ModelConfig, cfg: TrainConfig) -> None:
        self.stride = config.siamban.total_stride
        self.cls_weight, self.loc_weight = cfg.optim.cls_weight, cfg.optim.loc_weight

    def __call__(self, outputs: Outputs, batch: Batch) -> Dict[str, torch.Tensor]:
        cls_map, loc_map = outputs
        labels, distances, inside = box_targets(batch["box"], batch["negative"], cls_map.shape[-1], self.stride, batch["x"].shape[-1])
        cls = balanced_logistic_loss_ignoring(cls_map, labels)
        loc = iou_loss(loc_map, distances, inside, self.stride)
        return {"loss": self.cls_weight * cls + self.loc_weight * loc, "cls": cls, "loc": loc}


def build_objective(config: ModelConfig, cfg: TrainConfig, score_size: int, instance_size: int, generator: torch.Generator,
                    teacher: Optional[Callable[[torch.Tensor, torch.Tensor], Outputs]] = None):
    """The objective of ``config``'s head family."""
    if config.head.kind == "xcorr":
        return SiamFCObjective(config, teacher, cfg.distill.weight)
    if teacher is not None:
        raise ValueError("distillation needs SiamFC score-map heads in teacher and student")
    if config.head.kind == "box":
        return BoxObjective(config, cfg)
    return AnchorObjective(config, score_size, instance_size, cfg, generator)
