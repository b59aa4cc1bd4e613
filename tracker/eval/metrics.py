"""Tracking metrics with the exact definitions of the got10k toolkit (OTB and GOT-10k)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..geometry import iou

IOU_THRESHOLDS = np.linspace(0, 1, 21)  # got10k ExperimentOTB
PRECISION_THRESHOLDS = np.arange(0, 51)
AO_THRESHOLDS = np.linspace(0, 1, 101)  # got10k ExperimentGOT10k


def center_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    pc = pred[:, :2] + (pred[:, 2:] - 1) / 2.0
    gc = gt[:, :2] + (gt[:, 2:] - 1) / 2.0
    return np.sqrt(((pc - gc) ** 2).sum(axis=1))


def normalized_center_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    pc = pred[:, :2] + (pred[:, 2:] - 1) / 2.0
    gc = gt[:, :2] + (gt[:, 2:] - 1) / 2.0
    return np.sqrt((((pc - gc) / np.maximum(gt[:, 2:], 1e-12)) ** 2).sum(axis=1))


@dataclass(frozen=True)
class SequenceScore:
    """Per-sequence figures on the scored frames."""

    auc: float
    precision: float  # fraction of frames with centre error <= 20 px
    norm_precision: float  # fraction with normalised centre error <= 0.2 (x100 scale: see note)
    ao: float
    sr50: float
    sr75: float
    frames: int


def scored_mask(gt: np.ndarray, absent: Optional[np.ndarray], skip_first: bool = True) -> np.ndarray:
    """Frames that count: target present with a valid box, the initial frame excluded."""
    mask = np.isfinite(gt).all(axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    if absent is not None:
        mask &= ~np.asarray(absent, dtype=bool)
    if skip_first:
        mask[0] = False
    return mask


def score_sequence(pred: np.ndarray, gt: np.ndarray, absent: Optional[np.ndarray] = None, skip_first: bool = True) -> SequenceScore:
    """OTB success AUC / precision and GOT-10k AO / SR over the scored frames.

    A predicted box that is NaN or empty (a tracker reporting failure) scores IoU 0.
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise ValueError(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes")
    mask = scored_mask(gt, absent, skip_first)
    p, g = np.nan_to_num(pred[mask], nan=0.0), gt[mask]
    if len(g) == 0:
        return SequenceScore(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), 0)
    ious = iou(p, g)
    errors = center_errors(p, g)
    errors[(p[:, 2] <= 0) | (p[:, 3] <= 0)] = np.inf
    norm = normalized_center_errors(p, g)
    norm[(p[:, 2] <= 0) | (p[:, 3] <= 0)] = np.inf
    success = (ious[:, None] > IOU_THRESHOLDS[None]).mean(axis=0)
    return SequenceScore(
        auc=float(success.mean()),
        precision=float((errors <= 20).mean()),
        norm_precision=float((norm <= 0.2).mean()),
        ao=float(ious.mean()),
        sr50=float((ious > 0.5).mean()),
        sr75=float((ious > 0.75).mean()),
        frames=int(len(g)),
    )


def clip_to_bound(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Clip ``xywh`` boxes into ``[0, width] x [0, height]`` as GOT-10k's evaluation does."""
    b = np.array(boxes, dtype=np.float64, copy=True)
    b[:, 0] = np.clip(b[:, 0], 0, width)
    b[:, 1] = np.clip(b[:, 1], 0, height)
    b[:, 2] = np.clip(b[:, 2], 0, width - b[:, 0])
    b[:, 3] = np.clip(b[:, 3], 0, height - b[:, 1])
    return b


def got10k_overall(runs) -> dict:
    """GOT-10k's overall AO / SR0.5 / SR0.75: IoUs of every visible frame after the first,
    boxes clipped to the image, pooled over all sequences (frame-weighted, unlike the OTB
    mean over sequences). ``runs``: iterable of ``(pred, gt, visible, (width, height))``."""
    pooled = []
    for pred, gt, visible, bound in runs:
        p, g = np.nan_to_num(np.asarray(pred, float)[1:]), np.asarray(gt, float)[1:]
        if bound is not None:
            p, g = clip_to_bound(p, *bound), clip_to_bound(g, *bound)
        pooled.append(iou(p, g)[np.asarray(visible, bool)[1:]])
    ious = np.concatenate(pooled) if pooled else np.zeros(0)
    return {"ao": float(ious.mean()), "sr50": float((ious > 0.5).mean()), "sr75": float((ious > 0.75).mean()), "frames": int(len(ious))}
