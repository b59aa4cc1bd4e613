"""Feature extractors. Module and parameter names follow the public projects so that
their checkpoints map onto ours key for key (see :mod:`tracker.models.convert`)."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np
import torch
from torch import nn


class AlexNetSiamFC(nn.Module):
    """AlexNet of the SiamFC paper (siamfc-pytorch ``AlexNetV1``): 96-256-384-384-256 channels,
    BatchNorm, groups of 2, total stride 8, no padding (127 -> 6x6, 255 -> 22x22)."""

    out_channels = 256
    stride = 8

    def __init__(self) -> None:
        super().__init__()

        def bn(c: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(c, eps=1e-6, momentum=0.05)

        self.conv1 = nn.Sequential(nn.Conv2d(3, 96, 11, 2), bn(96), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.conv2 = nn.Sequential(nn.Conv2d(96, 256, 5, 1, groups=2), bn(256), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.conv3 = nn.Sequential(nn.Conv2d(256, 384, 3, 1), bn(384), nn.ReLU(inplace=True))
        self.conv4 = nn.Sequential(nn.Conv2d(384, 384, 3, 1, groups=2), bn(384), nn.ReLU(inplace=True))
        self.conv5 = nn.Sequential(nn.Conv2d(384, 256, 3, 1, groups=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))


class AlexNetLegacy(nn.Module):
    """AlexNet of SiamRPN as in pysot's ``AlexNetLegacy`` (no groups, BN after every conv;
    127 -> 6x6, 287 -> 26x26)."""

    out_channels = 256
    stride = 8

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        c = [3] + [int(v * width) for v in (96, 256, 384, 384, 256)]
        self.out_channels = c[5]
        self.features = nn.Sequential(
            nn.Conv2d(c[0], c[1], kernel_size=11, stride=2), nn.BatchNorm2d(c[1]), nn.MaxPool2d(3, 2), nn.ReLU(inplace=True),
            nn.Conv2d(c[1], c[2], kernel_size=5), nn.BatchNorm2d(c[2]), nn.MaxPool2d(3, 2), nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], kernel_size=3), nn.BatchNorm2d(c[3]), nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], kernel_size=3), nn.BatchNorm2d(c[4]), nn.ReLU(inplace=True),
            nn.Conv2d(c[4], c[5], kernel_size=3), nn.BatchNorm2d(c[5]),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: List[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, kxk depthwise, 1x1 linear projection, residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: float, kernel: int = 3) -> None:
        super().__init__()
        hidden = int(round(cin * expand))
        layers: List[nn.Module] = []
        if hidden != cin:
            layers.append(_conv_bn(cin, hidden, 1))
        layers += [_conv_bn(hidden, hidden, kernel, stride, groups=hidden), _conv_bn(hidden, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class _StagedMobileNet(nn.Module):
    """A stride-2 stem, then inverted-residual stages, then a linear 1x1 to ``out_channels``."""

    # (expansion, output channels, repeats, first stride, depthwise kernel)
    STAGES: Tuple[Tuple[float, int, int, int, int], ...] = ()

    def __init__(self, width: float = 1.0, out_channels: int = 96) -> None:
        super().__init__()
        cin = max(8, int(16 * width))
        layers: List[nn.Module] = [_conv_bn(3, cin, 3, 2)]
        for expand, channels, repeats, stride, kernel in self.STAGES:
            cout = max(8, int(channels * width))
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand, kernel))
                cin = cout
        layers.append(_conv_bn(cin, out_channels, 1, act=False))
        self.features = nn.Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class LightBackbone(_StagedMobileNet):
    """A MobileNetV2-style net cut at stride 8 for CPU real time (about 0.14 GMAC on a 255 crop).

    Convolutions are padded, so template features are centre-cropped by the head
    (127 -> 16x16 -> central 8x8), as SiamRPN++ does for its padded ResNet.
    """

    stride = 8
    STAGES = ((1, 16, 1, 1, 3), (4, 24, 2, 2, 3), (4, 32, 3, 2, 3), (3, 64, 2, 1, 3))


class MobileNetS16(_StagedMobileNet):
    """A MobileNetV3-small-style net cut at stride 16 (255 -> 16x16, 127 -> 8x8).

    It leaves full resolution after two cheap layers and puts its depth and width at
    stride 16, where feature maps fit in cache: with the pixel-wise head, 0.13 GMAC a frame
    (the stride-8 :class:`LightBackbone` model: 0.165) and 2.3 times the parameters, yet
    1.5 times as fast in onnxruntime (369 vs 242 fps end to end, benchmarks/results/speed.md).
    """

    stride = 16
    STAGES = ((1, 16, 1, 2, 3), (4.5, 24, 1, 2, 3), (3.5, 24, 1, 1, 3), (4, 40, 1, 2, 5),
              (6, 40, 2, 1, 5), (3, 48, 2, 1, 5), (4, 96, 2, 1, 5))


# MobileNetV2's inverted-residual stages (Sandler et al. 2018): expansion, channels, repeats, first stride
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class MobileNetV2Block(nn.Module):
    """MobileNetV2's inverted residual with its parameters under ``conv.N`` as in the common
    PyTorch re-implementation, so ImageNet checkpoints in that layout load key for key."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: List[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 (width 1.0) cut after its first ``blocks`` feature blocks (``features.0`` is
    the stem): 7 ends at stride 8 with 32 channels, 14 at stride 16 with 96. Padded, so
    template features are centre-cropped by the head. With ``deep_blocks`` the blocks after the
    cut run on to that one at half the resolution and their output, upsampled, joins the
    cut's: deeper features for the box at the cut's stride, at a fraction of dilation's cost.

    ``pixel_mean`` (BGR, 0-255) is subtracted before the stem: with the ImageNet weights the
    rest of the input normalisation (1/std, BGR -> RGB) is folded into the stem's weights
    (:mod:`tracker.models.pretrained`), and subtracting the mean itself, rather than folding
    it into a bias, keeps the zero padding of the stem exactly that of a normalised image.
    """

    def __init__(self, blocks: int = 7, deep_blocks: int = 0) -> None:
        super().__init__()
        specs = [(cin, cout, stride, expand) for cin, cout, stride, expand in _mobilenet_v2_blocks()]
        last = max(blocks, deep_blocks)
        if not 1 <= blocks <= len(specs) + 1 or last > len(specs) + 1:
            raise ValueError(f"mobilenetv2 has {len(specs) + 1} feature blocks; backbone.blocks={blocks}, deep_blocks={deep_blocks}")
        if deep_blocks and (deep_blocks <= blocks or specs[blocks - 1][2] != 2):
            raise ValueError(f"backbone.deep_blocks={deep_blocks} must go past blocks={blocks} and start with a stride-2 block")
        layers: List[nn.Module] = [nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True))]
        layers += [MobileNetV2Block(*spec) for spec in specs[: last - 1]]
        self.features = nn.Sequential(*layers)
        self.blocks = blocks
        self.register_buffer("pixel_mean", torch.zeros(1, 3, 1, 1))
        self.out_channels = specs[blocks - 2][1] if blocks > 1 else 32
        if deep_blocks:
            self.out_channels += specs[deep_blocks - 2][1]
        self.stride = 2 * int(np.prod([spec[2] for spec in specs[: blocks - 1]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shallow = self.features[: self.blocks](x - self.pixel_mean)
        if len(self.features) == self.blocks:
            return shallow
        # the deeper blocks see twice the context at half the resolution; brought back to the
        # shallow grid (nearest: each deep cell covers a 2x2 block of shallow cells) and stacked
        deep = nn.functional.interpolate(self.features[self.blocks :](shallow), size=shallow.shape[-2:], mode="nearest")
        return torch.cat([shallow, deep], dim=1)


def _mobilenet_v2_blocks() -> List[Tuple[int, int, int, int]]:
    """(in channels, out channels, stride, expansion) of each inverted-residual block."""
    blocks, cin = [], 32
    for expand, channels, repeats, stride in MOBILENET_V2_STAGES:
        for i in range(repeats):
            blocks.append((cin, channels, stride if i == 0 else 1, expand))
            cin = channels
    return blocks


def build_backbone(name: str, width: float = 1.0, blocks: int = 0, deep_blocks: int = 0) -> nn.Module:
    if name == "alexnet_siamfc":
        return AlexNetSiamFC()
    if name == "alexnet_legacy":
        return AlexNetLegacy(width)
    if name == "light":
        return LightBackbone(width)
    if name == "mobilenet_s16":
        return MobileNetS16(width)
    if name == "mobilenetv2":
        if width != 1.0:
            raise ValueError("mobilenetv2 is built at width 1.0 (its ImageNet weights' width)")
        return MobileNetV2(blocks or 7, deep_blocks)
    raise ValueError(f"unknown backbone {name!r} (alexnet_siamfc, alexnet_legacy, light, mobilenet_s16, mobilenetv2)")
