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
    # a broadcast and a reshape: exports as Expand + Reshape with the batch sizes left free
    shape = kernel.shape[1:]
    return kernel.unsqueeze(1).expand(nk, ns // nk, *shape).reshape(ns, *shape)


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


def xcorr_depthwise_matmul(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """:func:`xcorr_depthwise` as window slices and one batched MatMul.

    Same result, but only Slice/Reshape/Concat/MatMul - operators that exporters and
    OpenCV's DNN engine handle when the kernel is a graph *input* (a convolution whose
    weights are an input does not load in OpenCV's classic engine). Shapes are static.
    """
    kernel = match_batch(kernel, search)
    b, c, h, w = search.shape
    kh, kw = kernel.shape[2], kernel.shape[3]
    oh, ow = h - kh + 1, w - kw + 1
    windows = [search[:, :, u : u + oh, v : v + ow].reshape(b * c, 1, oh * ow) for u in range(kh) for v in range(kw)]
    patches = torch.cat(windows, dim=1)  # (B*C, kh*kw, oh*ow)
    out = torch.matmul(kernel.reshape(b * c, 1, kh * kw), patches)  # (B*C, 1, oh*ow)
    return out.reshape(b, c, oh, ow)


def xcorr_matmul(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """:func:`xcorr` (full correlation, K outputs) as window slices and one MatMul."""
    kernel = match_batch(kernel, search)
    b, c, h, w = search.shape
    kh, kw = kernel.shape[2], kernel.shape[3]
    k = kernel.shape[1] // c
    oh, ow = h - kh + 1, w - kw + 1
    windows = [search[:, :, u : u + oh, v : v + ow].reshape(b, c, 1, oh * ow) for u in range(kh) for v in range(kw)]
    patches = torch.cat(windows, dim=2).reshape(b, c * kh * kw, oh * ow)  # (B, C*kh*kw, oh*ow)
    weights = kernel.reshape(b, k, c * kh * kw)
    return torch.matmul(weights, patches).reshape(b, k, oh, ow)


def xcorr_pixelwise(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Pixel-wise correlation (Alpha-Refine, NanoTrack): every template position against every
    search position. ``search`` (B, C, H, W) and ``kernel`` (B, Q, C) - Q template positions,
    pre-flattened once per target - give (B, Q, H, W). One MatMul, so it exports as is."""
    kernel = match_batch(kernel, search)
    b, c, h, w = search.shape
    return torch.matmul(kernel, search.reshape(b, c, h * w)).reshape(b, kernel.shape[1], h, w)
