"""The Siamese network: a backbone shared by a template branch and a search branch.

The two branches are separate callables. ``template(z)`` runs once per target and
returns the kernels the head needs; ``track(x, *kernels)`` runs every frame. This is
what makes caching, batching many targets, and exporting two ONNX graphs trivial.
``forward(z, x)`` chains both, so training uses the very same code path.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from ..config import ModelConfig
from .backbones import build_backbone
from .heads import build_head
from .necks import build_neck
from .ops import center_crop


class SiameseNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config.backbone.name, config.backbone.width, config.backbone.blocks, config.backbone.deep_blocks)
        head = config.head
        in_channels = getattr(self.backbone, "out_channels", head.in_channels)
        self.neck = build_neck(in_channels, config.neck.out_channels)
        in_channels = config.neck.out_channels or in_channels
        self.head = build_head(head.kind, head.anchor_num, in_channels, head.hidden, head.out_scale, head.template_crop, head.tower_layers)

    @property
    def is_rpn(self) -> bool:
        return self.config.head.kind != "xcorr"

    def template(self, z: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Exemplar crops (B, 3, 127, 127) -> per-target kernels."""
        zf = center_crop(self.backbone(z), self.config.head.template_crop)
        return self.head.template(self.neck(zf))

    def track(self, x: torch.Tensor, *kernels: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Search crops (B*S, 3, H, W) and kernels (B, ...) -> ``(score,)`` or ``(cls, loc)``."""
        return self.head.search(self.features(x), *kernels)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Search-side features as the head sees them (backbone, then neck)."""
        return self.neck(self.backbone(x))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return self.track(x, *self.template(z))

    def score_size(self, exemplar_size: int, instance_size: int) -> int:
        """Side of the score map for these crop sizes (one dummy forward pass, in eval mode
        so BatchNorm statistics are untouched; the training mode is restored)."""
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        with torch.no_grad():
            z = torch.zeros(1, 3, exemplar_size, exemplar_size, device=device)
            x = torch.zeros(1, 3, instance_size, instance_size, device=device)
            size = self(z, x)[0].shape[-1]
        self.train(was_training)
        return int(size)


class TemplateBranch(nn.Module):
    """``template`` as a stand-alone module (for export and tracing)."""

    def __init__(self, net: SiameseNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return self.net.template(z)


class SearchBranch(nn.Module):
    """``track`` as a stand-alone module (for export and tracing)."""

    def __init__(self, net: SiameseNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, *kernels: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return self.net.track(x, *kernels)
