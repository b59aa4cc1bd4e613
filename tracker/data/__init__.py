"""Sequences, dataset readers, training pair sampling and augmentation."""
from .readers import read_dataset, read_got10k, read_image_folder
from .sequence import Sequence, read_image

__all__ = ["Sequence", "read_image", "read_dataset", "read_got10k", "read_image_folder"]
