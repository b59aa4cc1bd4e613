"""Training targets computed on the device from the target boxes of a batch."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ..config import AnchorConfig
from ..trackers.anchors import anchor_grid


def cell_positions(score_size: int, stride: int, instance_size: int, device: torch.device) -> torch.Tensor:
    """(S,) crop coordinates of the score map's cells along one axis: centred on the crop,
    ``stride`` apart (SiamFC's geometry; :func:`tracker.trackers.anchors.cell_offsets`)."""
    offsets = torch.arange(score_size, device=device, dtype=torch.float32) - (score_size - 1) / 2.0
    return offsets * stride + (instance_size - 1) / 2.0


def siamfc_labels(boxes: torch.Tensor, negative: torch.Tensor, score_size: int, stride: int, instance_size: int, radius: float = 16.0) -> torch.Tensor:
    """(B, 1, S, S) labels: 1 within ``radius`` crop pixels of the target centre, else 0.

    Cell ``i`` of the response looks at crop position ``centre + (i - (S-1)/2) * stride``
    (SiamFC's geometry); negative pairs are all background.
    """
    offsets = cell_positions(score_size, stride, instance_size, boxes.device)
    tx = (boxes[:, 0] + boxes[:, 2]) / 2.0 - 0.5
    ty = (boxes[:, 1] + boxes[:, 3]) / 2.0 - 0.5
    dx = offsets[None, None, :] - tx[:, None, None]
    dy = offsets[None, :, None] - ty[:, None, None]
    labels = ((dx**2 + dy**2) <= radius**2).float()
    labels[negative] = 0.0
    return labels[:, None]


class AnchorTargets:
    """pysot's ``AnchorTarget``: IoU >= 0.6 positive, <= 0.3 negative, at most 16 positives
    in 64 sampled anchors; box deltas ``(dx/w, dy/h, log tw/w, log th/h)``."""

    def __init__(self, anchors: AnchorConfig, score_size: int, instance_size: int, pos_iou: float = 0.6, neg_iou: float = 0.3, total: int = 64, max_pos: int = 16) -> None:
        grid = anchor_grid(anchors.stride, anchors.ratios, anchors.scales, score_size)
        grid[:2] += (instance_size - 1) / 2.0
        self.grid = torch.from_numpy(grid.astype(np.float32))  # (4, A) cx, cy, w, h
        self.k = len(anchors.ratios) * len(anchors.scales)
        self.score_size = score_size
        self.pos_iou, self.neg_iou, self.total, self.max_pos = pos_iou, neg_iou, total, max_pos

    def __call__(self, boxes: torch.Tensor, negative: torch.Tensor, generator: Optional[torch.Generator] = None):
        """-> labels (B, A) in {-1 ignore, 0 neg, 1 pos}, deltas (B, 4, A), positive weights (B, A)."""
        grid = self.grid.to(boxes.device)
        acx, acy, aw, ah = grid
        ax1, ay1, ax2, ay2 = acx - (aw - 1) / 2 - 0.5, acy - (ah - 1) / 2 - 0.5, acx + (aw - 1) / 2 + 0.5, acy + (ah - 1) / 2 + 0.5
        bx1, by1, bx2, by2 = (boxes[:, i : i + 1] for i in range(4))
        iw = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
        ih = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0)
        inter = iw * ih
        union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
        overlap = inter / union.clamp(min=1e-6)

        tw, th = (bx2 - bx1).clamp(min=1.0), (by2 - by1).clamp(min=1.0)
        tcx, tcy = (bx1 + bx2) / 2 - 0.5, (by1 + by2) / 2 - 0.5
        deltas = torch.stack([(tcx - acx) / aw, (tcy - acy) / ah, torch.log(tw / aw), torch.log(th / ah)], dim=1)

        pos = (overlap >= self.pos_iou) & ~negative[:, None]
        neg = overlap <= self.neg_iou
        if negative.any():
            # negative pairs: background near the centre, where a distractor would be picked
            s = self.score_size
            centre = torch.zeros(self.k, s, s, dtype=torch.bool, device=boxes.device)
            lo, hi = s // 2 - 3, s // 2 + 4
            centre[:, lo:hi, lo:hi] = True
            neg = torch.where(negative[:, None], centre.reshape(1, -1).expand_as(neg), neg)
        pos = self._keep_random(pos, self.max_pos, generator)
        n_pos = pos.sum(dim=1, keepdim=True)
        neg = self._keep_random(neg & ~pos, self.total - n_pos, generator)
        labels = torch.full_like(overlap, -1.0)
        labels[neg] = 0.0
        labels[pos] = 1.0
        weights = pos.float() / n_pos.clamp(min=1).float()
        return labels, deltas, weights

    @staticmethod
    def _keep_random(mask: torch.Tensor, limit, generator) -> torch.Tensor:
        """Keep at most ``limit`` (per row) randomly chosen True entries of ``mask``."""
        noise = torch.rand(mask.shape, generator=generator, device=mask.device)
        ranks = torch.where(mask, noise, torch.full_like(noise, 2.0)).argsort(dim=1).argsort(dim=1)
        limit = torch.as_tensor(limit, device=mask.device).reshape(-1, 1) if not isinstance(limit, int) else limit
        return mask & (ranks < limit)


def box_targets(boxes: torch.Tensor, negative: torch.Tensor, score_size: int, stride: int, instance_size: int):
    """Anchor-free targets (SiamBAN's ellipse labels) for boxes ``(x1, y1, x2, y2)`` in the search crop.

    -> labels (B, S, S): 1 inside the ellipse of semi-axes (w/4, h/4) around the target's
    centre (and always the cell nearest it), 0 outside the ellipse inscribed in the box
    (w/2, h/2), -1 (ignored) between; negative pairs are all 0.
    -> distances (B, 4, S, S): each cell's left, top, right, bottom distance to the box edges
    in crop pixels; regressed where ``inside`` (B, S, S): within the inscribed ellipse.
    """
    cells = cell_positions(score_size, stride, instance_size, boxes.device)
    x1, y1, x2, y2 = (boxes[:, i, None, None] - 0.5 for i in range(4))  # edges in pixel-centre coordinates
    px, py = cells[None, None, :], cells[None, :, None]
    w, h = (x2 - x1).clamp(min=1.0), (y2 - y1).clamp(min=1.0)
    nx, ny = (px - (x1 + x2) / 2) / w, (py - (y1 + y2) / 2) / h  # offsets in box sizes
    ellipse = nx**2 + ny**2
    labels = torch.full(ellipse.shape, -1.0, device=boxes.device)
    labels[ellipse > 0.25] = 0.0
    labels[ellipse <= 0.0625] = 1.0
    nearest = ellipse.flatten(1).argmin(dim=1)
    labels.view(len(boxes), -1)[torch.arange(len(boxes), device=boxes.device), nearest] = 1.0
    labels[negative] = 0.0
    distances = torch.stack([(px - x1).expand_as(ellipse), (py - y1).expand_as(ellipse), (x2 - px).expand_as(ellipse), (y2 - py).expand_as(ellipse)], dim=1)
    inside = (labels == 1) | (ellipse <= 0.25)
    inside &= (distances > 0).all(dim=1) & ~negative[:, None, None]
    return labels, distances, inside
