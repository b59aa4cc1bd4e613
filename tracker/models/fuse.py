"""Inference-only network rewrites that keep the outputs: BatchNorm folded into the
preceding convolution, and channels-last memory layout on the CPU."""
from __future__ import annotations

import copy

import torch
from torch import nn


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution equal to ``bn(conv(x))`` in eval mode."""
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode)
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused.weight.data = conv.weight.data * scale.reshape(-1, 1, 1, 1)
    bias = conv.bias.data if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.data = (bias - bn.running_mean) * scale + bn.bias
    return fused.to(conv.weight.device)


def fuse_batchnorm(net: nn.Module) -> nn.Module:
    """A copy of ``net`` (eval mode) where every Conv2d directly followed by a BatchNorm2d
    inside an ``nn.Sequential`` is replaced by one folded convolution."""
    net = copy.deepcopy(net).eval()
    for module in net.modules():
        if not isinstance(module, nn.Sequential):
            continue
        names = list(module._modules)
        for first, second in zip(names, names[1:]):
            conv, bn = module._modules[first], module._modules[second]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                module._modules[first] = fold_bn(conv, bn)
                module._modules[second] = nn.Identity()
    return net


def optimize_for_inference(net: nn.Module, device: torch.device) -> nn.Module:
    """Folded BatchNorm everywhere; channels-last weights on the CPU (faster convolutions)."""
    fused = fuse_batchnorm(net)
    if device.type == "cpu":
        fused = fused.to(memory_format=torch.channels_last)
    return fused
