"""Cross-correlation operators shared by every Siamese head."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def match_batch(kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """Repeat per-target ``kernel`` rows so they line up with ``search`` rows.

    A search batch may hold several crops per target (SiamFC's scale pyramid), stored
    target-major: rows ``[t*S, (t+1)*S)`` belong to target ``t``.
    """
    nk, ns = kernel.shape[0], search.shape[0]
    if nk == ns:
        return kernel
    if ns % nk != 0:
        raise ValueError(f"search batch {ns} is not a multiple of template batch {nk}")
    return kernel.repeat_interleave(ns // nk, dim=0)


def xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Full cross-correlation: one output channel per kernel, summed over channels.

    ``search`` (B, C, H, W) and ``kernel`` (B, K*C, h, w) give (B, K, H-h+1, W-w+1);
    K = 1 for SiamFC, 2k or 4k for SiamRPN's up-channel head. Implemented as one
    grouped convolution over the whole batch.
    """
    kernel = match_batch(kernel, search)
    b, c, h, w = search.shape
    k = kernel.shape[1] // c
    weight = kernel.reshape(b * k, c, kernel.shape[2], kernel.shape[3])
    out = F.conv2d(search.reshape(1, b * c, h, w), weight, groups=b)
    return out.reshape(b, k, out.shape[2], out.shape[3])


def xcorr_depthwise(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Channel-by-channel correlation (SiamRPN++): (B, C, H, W) * (B, C, h, w) -> (B, C, H', W')."""
    kernel = match_batch(kernel, search)
    b, c, h, w = search.shape
    weight = kernel.reshape(b * c, 1, kernel.shape[2], kernel.shape[3])
    out = F.conv2d(search.reshape(1, b * c, h, w), weight, groups=b * c)
    return out.reshape(b, c, out.shape[2], out.shape[3])


def center_crop(features: torch.Tensor, size: int) -> torch.Tensor:
    """Central ``size`` x ``size`` window of a feature map (template features of padded backbones)."""
    if size <= 0 or size >= features.shape[-1]:
        return features
    start = (features.shape[-1] - size) // 2
    return features[..., start : start + size, start : start + size]
