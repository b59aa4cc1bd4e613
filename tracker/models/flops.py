"""Multiply-accumulate count of the per-frame (search branch) work, by forward hooks."""
from __future__ import annotations

import torch
from torch import nn

from .siamese import SiameseNet


def count_macs(net: SiameseNet, search_size: int, exemplar_size: int = 127) -> int:
    """MACs of ``track`` on one search crop (conv and linear layers; correlations included)."""
    total = 0

    def conv_hook(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    with torch.no_grad():
        kernels = net.template(torch.zeros(1, 3, exemplar_size, exemplar_size))
        handles = [m.register_forward_hook(conv_hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
        try:
            net.track(torch.zeros(1, 3, search_size, search_size), *kernels)
        finally:
            for h in handles:
                h.remove()
    return total + _correlation_macs(net, search_size, kernels)


def _correlation_macs(net: SiameseNet, search_size: int, kernels) -> int:
    kind = net.config.head.kind
    with torch.no_grad():
        xf = net.features(torch.zeros(1, 3, search_size, search_size))
    if kind in ("xcorr", "rpn_light"):
        k = kernels[0]
        out = (xf.shape[-1] - k.shape[-1] + 1) ** 2
        return out * k.numel() * net.config.kernels_per_target  # SiamFC's pyramid of templates: one map each
    total = 0
    for k in kernels:  # rpn_dw / rpn_upchannel: search side adjusted by a 3x3 conv first
        side = xf.shape[-1] - 2
        out = (side - k.shape[-1] + 1) ** 2
        total += out * k[0].numel() if kind == "rpn_dw" else out * k.numel()
    return total
