"""Which backbone layers train: a pretrained backbone is frozen for its first epochs, its
early blocks may stay frozen throughout, and frozen layers keep their BatchNorm statistics."""
from __future__ import annotations

from typing import List

from torch import nn

from .config import OptimConfig


def frozen_modules(backbone: nn.Module, optim: OptimConfig, epoch: int) -> List[nn.Module]:
    """The backbone modules that do not train in ``epoch`` (0-based)."""
    if epoch < optim.freeze_epochs:
        return [backbone]
    if optim.frozen_blocks <= 0:
        return []
    features = getattr(backbone, "features", None)
    if not isinstance(features, nn.Sequential) or optim.frozen_blocks > len(features):
        raise ValueError(f"optim.frozen_blocks={optim.frozen_blocks} needs a backbone with that many feature blocks")
    return list(features[: optim.frozen_blocks])


def apply_freezing(backbone: nn.Module, optim: OptimConfig, epoch: int) -> int:
    """Set ``requires_grad`` and BatchNorm modes for ``epoch`` (call after ``net.train()``);
    returns how many parameter tensors are frozen.

    A frozen parameter gets no gradient, so SGD leaves it exactly as it is (no momentum, no
    weight decay); its BatchNorm in eval mode keeps the loaded running statistics.
    """
    backbone.requires_grad_(True)
    frozen = frozen_modules(backbone, optim, epoch)
    for module in frozen:
        module.requires_grad_(False)
    held = frozen if not optim.freeze_bn else [backbone]
    for root in held:
        for module in root.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
    return sum(1 for p in backbone.parameters() if not p.requires_grad)
