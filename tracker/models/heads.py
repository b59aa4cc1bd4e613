"""Siamese heads, each split into a template side (run once per target) and a search
side (run every frame on the cached template kernels)."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np
import torch
from torch import nn

from .ops import xcorr, xcorr_depthwise, xcorr_depthwise_matmul, xcorr_matmul, xcorr_pixelwise

Kernels = Tuple[torch.Tensor, ...]


class Correlation(nn.Module):
    """The correlation operator of a head; :func:`use_matmul_correlation` swaps in the
    export-friendly (Slice + MatMul) formulation, which computes the same values."""

    def __init__(self, depthwise: bool) -> None:
        super().__init__()
        self.depthwise = depthwise
        self.matmul = False

    def forward(self, search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        if self.depthwise:
            return (xcorr_depthwise_matmul if self.matmul else xcorr_depthwise)(search, kernel)
        return (xcorr_matmul if self.matmul else xcorr)(search, kernel)


def use_matmul_correlation(net: nn.Module, enabled: bool = True) -> nn.Module:
    for module in net.modules():
        if isinstance(module, Correlation):
            module.matmul = enabled
    return net


class XCorrHead(nn.Module):
    """SiamFC: the response is the cross-correlation of template and search features, scaled."""

    def __init__(self, out_scale: float = 0.001) -> None:
        super().__init__()
        self.out_scale = out_scale
        self.corr = Correlation(depthwise=False)

    def template(self, zf: torch.Tensor) -> Kernels:
        return (zf,)

    def search(self, xf: torch.Tensor, zf: torch.Tensor) -> Tuple[torch.Tensor]:
        return (self.corr(xf, zf) * self.out_scale,)


class UpChannelRPN(nn.Module):
    """Original SiamRPN head (pysot ``UPChannelRPN``): the template is lifted to 2k / 4k
    correlation kernels of the search features' depth."""

    def __init__(self, anchor_num: int = 5, in_channels: int = 256) -> None:
        super().__init__()
        cls_out, loc_out = 2 * anchor_num, 4 * anchor_num
        self.template_cls_conv = nn.Conv2d(in_channels, in_channels * cls_out, kernel_size=3)
        self.template_loc_conv = nn.Conv2d(in_channels, in_channels * loc_out, kernel_size=3)
        self.search_cls_conv = nn.Conv2d(in_channels, in_channels, kernel_size=3)
        self.search_loc_conv = nn.Conv2d(in_channels, in_channels, kernel_size=3)
        self.loc_adjust = nn.Conv2d(loc_out, loc_out, kernel_size=1)
        self.corr = Correlation(depthwise=False)

    def template(self, zf: torch.Tensor) -> Kernels:
        return self.template_cls_conv(zf), self.template_loc_conv(zf)

    def search(self, xf: torch.Tensor, cls_kernel: torch.Tensor, loc_kernel: torch.Tensor) -> Kernels:
        cls = self.corr(self.search_cls_conv(xf), cls_kernel)
        loc = self.loc_adjust(self.corr(self.search_loc_conv(xf), loc_kernel))
        return cls, loc


class DepthwiseXCorr(nn.Module):
    """pysot ``DepthwiseXCorr``: adjust both sides, correlate channel-wise, then a 1x1 head."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv_kernel = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)
        )
        self.conv_search = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)
        )
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, out_channels, 1),
        )
        self.corr = Correlation(depthwise=True)

    def search(self, xf: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        return self.head(self.corr(self.conv_search(xf), kernel))


class DepthwiseRPN(nn.Module):
    """SiamRPN with depthwise correlation (pysot ``DepthwiseRPN``, ``siamrpn_alex_dwxcorr``)."""

    def __init__(self, anchor_num: int = 5, in_channels: int = 256, hidden: int = 256) -> None:
        super().__init__()
        self.cls = DepthwiseXCorr(in_channels, hidden, 2 * anchor_num)
        self.loc = DepthwiseXCorr(in_channels, hidden, 4 * anchor_num)

    def template(self, zf: torch.Tensor) -> Kernels:
        return self.cls.conv_kernel(zf), self.loc.conv_kernel(zf)

    def search(self, xf: torch.Tensor, cls_kernel: torch.Tensor, loc_kernel: torch.Tensor) -> Kernels:
        return self.cls.search(xf, cls_kernel), self.loc.search(xf, loc_kernel)


def _tower(channels: int, out_channels: int) -> nn.Sequential:
    """Depthwise-separable 3x3 block then a 1x1 predictor: cheap on a CPU."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
        nn.Conv2d(channels, out_channels, 1),
    )


class LightRPN(nn.Module):
    """Light depthwise-correlation RPN head: one 1x1 adjust per side, one shared
    correlation, separable cls/loc towers (a few MMAC instead of pysot's ~150)."""

    def __init__(self, anchor_num: int = 5, in_channels: int = 96, hidden: int = 96) -> None:
        super().__init__()
        self.adjust_kernel = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.adjust_search = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.cls = _tower(hidden, 2 * anchor_num)
        self.loc = _tower(hidden, 4 * anchor_num)
        self.corr = Correlation(depthwise=True)

    def template(self, zf: torch.Tensor) -> Kernels:
        return (self.adjust_kernel(zf),)

    def search(self, xf: torch.Tensor, kernel: torch.Tensor) -> Kernels:
        feature = self.corr(self.adjust_search(xf), kernel)
        return self.cls(feature), self.loc(feature)


class PixelwiseRPN(nn.Module):
    """RPN head on pixel-wise correlation: one channel per template position (Q of them),
    fused with the search features, then separable cls/loc towers. The template side
    returns its kernel already flattened to (B, Q, C), so a frame costs one MatMul."""

    def __init__(self, anchor_num: int, in_channels: int, hidden: int, template_positions: int) -> None:
        super().__init__()
        self.adjust_kernel = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.adjust_search = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.fuse = nn.Sequential(nn.Conv2d(template_positions + hidden, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True))
        self.cls = _tower(hidden, 2 * anchor_num)
        self.loc = _tower(hidden, 4 * anchor_num)
        self.scale = hidden ** -0.5

    def template(self, zf: torch.Tensor) -> Kernels:
        kernel = self.adjust_kernel(zf) * self.scale
        return (kernel.flatten(2).transpose(1, 2).contiguous(),)

    def search(self, xf: torch.Tensor, kernel: torch.Tensor) -> Kernels:
        search = self.adjust_search(xf)
        feature = self.fuse(torch.cat([xcorr_pixelwise(search, kernel), search], dim=1))
        return self.cls(feature), self.loc(feature)


def _separable_tower(channels: int, layers: int) -> nn.Sequential:
    """``layers`` depthwise-separable 3x3 convolutions (padded: the map keeps its size)."""
    blocks: List[nn.Module] = []
    for _ in range(layers):
        blocks += [
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*blocks)


class BoxHead(nn.Module):
    """Anchor-free box head (SiamBAN / NanoTrack): depthwise correlation, then a spatial tower
    per branch, a foreground logit and four distances (left, top, right, bottom) per cell.

    Why towers: with only 1x1 layers after the correlation (``DepthwiseXCorr``) a cell's box
    sees the correlation at that cell alone, never where the peak lies among its neighbours,
    and the centre barely learns (benchmarks/results/regression_probe.md); ``tower_layers``
    3x3 layers let each cell read the peak's shape around it (NanoTrack uses four).
    ``loc`` is the log of each distance in strides: ``distance = stride * exp(loc)``, decoded
    by the tracker, so the graph stays free of any geometry.
    """

    def __init__(self, in_channels: int, hidden: int, tower_layers: int) -> None:
        super().__init__()
        self.adjust_kernel = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.adjust_search = nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden))
        self.corr = Correlation(depthwise=True)
        self.cls_tower = _separable_tower(hidden, tower_layers)
        self.box_tower = _separable_tower(hidden, tower_layers)
        self.cls = nn.Conv2d(hidden, 1, 3, padding=1)
        self.loc = nn.Conv2d(hidden, 4, 3, padding=1)
        with torch.no_grad():  # start at a rare foreground (focal-loss prior) and a half-size of 3 strides
            self.cls.bias.fill_(-2.0)
            self.loc.weight.mul_(0.1)
            self.loc.bias.fill_(float(np.log(3.0)))

    def template(self, zf: torch.Tensor) -> Kernels:
        return (self.adjust_kernel(zf),)

    def search(self, xf: torch.Tensor, kernel: torch.Tensor) -> Kernels:
        feature = self.corr(self.adjust_search(xf), kernel)
        return self.cls(self.cls_tower(feature)), self.loc(self.box_tower(feature))


def build_head(kind: str, anchor_num: int, in_channels: int, hidden: int, out_scale: float, template_size: int = 0,
               tower_layers: int = 4) -> nn.Module:
    if kind == "xcorr":
        return XCorrHead(out_scale)
    if kind == "rpn_upchannel":
        return UpChannelRPN(anchor_num, in_channels)
    if kind == "rpn_dw":
        return DepthwiseRPN(anchor_num, in_channels, hidden)
    if kind == "rpn_light":
        return LightRPN(anchor_num, in_channels, hidden)
    if kind == "rpn_pixelwise":
        if template_size <= 0:
            raise ValueError("the rpn_pixelwise head needs head.template_crop (template feature size)")
        return PixelwiseRPN(anchor_num, in_channels, hidden, template_size * template_size)
    if kind == "box":
        return BoxHead(in_channels, hidden, tower_layers)
    raise ValueError(f"unknown head {kind!r} (xcorr, rpn_upchannel, rpn_dw, rpn_light, rpn_pixelwise, box)")
