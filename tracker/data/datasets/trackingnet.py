"""TrackingNet (``TRAIN_0 ... TRAIN_11/{anno/<video>.txt, frames/<video>/0.jpg...}``, frames
numbered from 0, boxes 0-based). The chunks present under the root are used."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, Set

from ...errors import DatasetError
from ..index import FrameIndex, IndexBuilder, indexing, read_boxes


def read_trackingnet_index(root: str, names: Optional[Set[str]] = None, progress: bool = True) -> FrameIndex:
    root_path = Path(root)
    chunks = sorted((p for p in root_path.glob("TRAIN_*") if re.fullmatch(r"TRAIN_\d+", p.name)), key=lambda p: int(p.name[6:]))
    annos = [a for chunk in chunks for a in sorted((chunk / "anno").glob("*.txt")) if names is None or a.stem in names]
    builder = IndexBuilder()
    for anno in indexing(annos, f"indexing TrackingNet {root}", progress):
        builder.add(str(anno.parent.parent / "frames" / anno.stem), read_boxes(anno), template="{}.jpg", first=0)
    index = builder.build()
    if not len(index):
        raise DatasetError(f"{root}: no TrackingNet videos (TRAIN_<k>/anno/<video>.txt)")
    return index
