"""GOT-10k train (``list.txt``, ``<seq>/{00000001.jpg..., groundtruth.txt, absence.label, cover.label}``)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Set

import numpy as np

from ...errors import DatasetError
from ..index import FrameIndex, IndexBuilder, indexing, read_boxes
from ..readers import got10k_names, read_labels


def read_got10k_index(root: str, names: Optional[Set[str]] = None, min_cover: int = 1, progress: bool = True) -> FrameIndex:
    """Frames absent (``absence.label``) or less visible than ``min_cover`` (``cover.label``:
    0 fully occluded ... 8 fully visible) are not sampled; ``names`` restricts the sequences."""
    root_path = Path(root)
    sequences = [n for n in got10k_names(root_path) if names is None or n in names]
    builder = IndexBuilder()
    for name in indexing(sequences, f"indexing GOT-10k {root}", progress):
        folder = root_path / name
        if not (folder / "00000001.jpg").is_file():
            raise DatasetError(f"{folder}: no 00000001.jpg (GOT-10k frames are <seq>/00000001.jpg, ...)")
        boxes = read_boxes(folder / "groundtruth.txt")
        absent = np.zeros(len(boxes), dtype=bool)
        absence = read_labels(folder / "absence.label", len(boxes))
        if absence is not None:
            absent |= absence.astype(bool)
        cover = read_labels(folder / "cover.label", len(boxes))
        if cover is not None:
            absent |= cover < min_cover
        builder.add(str(folder), boxes, absent, template="{:08d}.jpg", first=1)
    index = builder.build()
    if not len(index):
        raise DatasetError(f"{root}: no GOT-10k sequences with a visible target")
    return index
