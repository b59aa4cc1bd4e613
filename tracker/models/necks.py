"""Necks: what sits between a backbone and a Siamese head."""
from __future__ import annotations

import torch
from torch import nn


def build_neck(in_channels: int, out_channels: int) -> nn.Module:
    """pysot's ``AdjustLayer`` (1x1 convolution + BatchNorm) to ``out_channels``, or nothing.

    At the same width it starts as the identity, so training starts from the tracker the
    pretrained features make on their own. A 1x1 convolution commutes with the template's
    centre crop, so the template branch crops first and adjusts only the cells it keeps.
    """
    if out_channels <= 0:
        return nn.Identity()
    conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    if out_channels == in_channels:
        with torch.no_grad():
            conv.weight.copy_(torch.eye(in_channels).view(in_channels, in_channels, 1, 1))
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels))
