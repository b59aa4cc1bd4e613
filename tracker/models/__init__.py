"""Networks: backbones, heads, the Siamese net and its checkpoints."""
from .siamese import SearchBranch, SiameseNet, TemplateBranch

__all__ = ["SiameseNet", "TemplateBranch", "SearchBranch"]
