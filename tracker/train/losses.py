"""Losses: SiamFC's balanced logistic loss and SiamRPN's classification + regression."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def balanced_logistic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy where positives and negatives each weigh half (siamfc-pytorch)."""
    pos = labels == 1
    neg = labels == 0
    weights = torch.zeros_like(labels)
    n_pos, n_neg = pos.sum().clamp(min=1), neg.sum().clamp(min=1)
    weights[pos] = 0.5 / n_pos
    weights[neg] = 0.5 / n_neg
    return F.binary_cross_entropy_with_logits(logits, labels, weights, reduction="sum")


def score_distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of the student's logits against the teacher's probabilities.

    Score maps of one stride share their centre cell, so the larger map is cropped to the
    smaller one (a 25x25 light_fc map against AlexNet SiamFC's 17x17)."""
    margin = student.shape[-1] - teacher.shape[-1]
    if margin % 2:
        raise ValueError(f"score maps of {student.shape[-1]} and {teacher.shape[-1]} cells have no common centre")
    half = abs(margin) // 2
    if margin > 0:
        student = student[..., half : half + teacher.shape[-2], half : half + teacher.shape[-1]]
    elif margin < 0:
        teacher = teacher[..., half : half + student.shape[-2], half : half + student.shape[-1]]
    return F.binary_cross_entropy_with_logits(student.float(), torch.sigmoid(teacher.float()))


def rpn_cls_loss(cls: torch.Tensor, labels: torch.Tensor, anchor_num: int) -> torch.Tensor:
    """(B, 2k, H, W) logits vs (B, A) labels: mean NLL over positives and negatives, averaged."""
    b = cls.shape[0]
    logits = cls.reshape(b, 2, anchor_num, -1).reshape(b, 2, -1)
    logp = F.log_softmax(logits.float(), dim=1)  # (B, 2, A)
    losses = []
    for value in (1, 0):
        mask = labels == value
        if mask.any():
            losses.append(-logp[:, value][mask].mean())
    return sum(losses) / max(len(losses), 1) if losses else cls.sum() * 0


def rpn_loc_loss(loc: torch.Tensor, deltas: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 on positive anchors, each sample's positives weighing 1 in total (pysot)."""
    b = loc.shape[0]
    pred = loc.reshape(b, 4, -1).float()
    diff = F.smooth_l1_loss(pred, deltas, reduction="none", beta=1.0 / 9.0).sum(dim=1)
    return (diff * weights).sum() / b


def balanced_logistic_loss_ignoring(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """:func:`balanced_logistic_loss` of (B, 1, S, S) logits against (B, S, S) labels in {-1, 0, 1}; -1 cells are ignored."""
    cared = labels >= 0
    return balanced_logistic_loss(logits[:, 0].float()[cared], labels[cared])


def iou_loss(loc: torch.Tensor, distances: torch.Tensor, mask: torch.Tensor, stride: float) -> torch.Tensor:
    """UnitBox's ``-ln IoU`` between predicted and true boxes around the same cell, over the
    cells of ``mask``: its gradient grows as the overlap shrinks, and it weighs a box's four
    sides together, whatever the target's size. ``loc`` (B, 4, S, S) are log distances in
    strides, ``distances`` (B, 4, S, S) the true ones in crop pixels."""
    if not mask.any():
        return loc.sum() * 0
    pred = stride * torch.exp(loc.float().clamp(max=10)).permute(0, 2, 3, 1)[mask]  # (N, 4) l, t, r, b
    true = distances.permute(0, 2, 3, 1)[mask]
    inter = (torch.minimum(pred[:, 0], true[:, 0]) + torch.minimum(pred[:, 2], true[:, 2])) * (
        torch.minimum(pred[:, 1], true[:, 1]) + torch.minimum(pred[:, 3], true[:, 3]))
    union = (pred[:, 0] + pred[:, 2]) * (pred[:, 1] + pred[:, 3]) + (true[:, 0] + true[:, 2]) * (true[:, 1] + true[:, 3]) - inter
    return -torch.log((inter + 1.0) / (union + 1.0)).mean()
