"""LaSOT (``<class>/<class>-<n>/{img/00000001.jpg..., groundtruth.txt, full_occlusion.txt,
out_of_view.txt}``, boxes 1-based). Its training split is a fixed list of sequences (pass it as
``names``, read from a split file); without one every sequence under the root is used."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Set

from ...errors import DatasetError
from ..index import FrameIndex, IndexBuilder, indexing, read_boxes
from ..readers import lasot_absent


def read_lasot_index(root: str, names: Optional[Set[str]] = None, progress: bool = True) -> FrameIndex:
    root_path = Path(root)
    if names is None:
        folders = sorted(gt.parent for gt in root_path.glob("*/*/groundtruth.txt"))
    else:  # <class>-<n> lives in <class>/
        folders = [root_path / n.rsplit("-", 1)[0] / n for n in sorted(names)]
    builder = IndexBuilder()
    for folder in indexing(folders, f"indexing LaSOT {root}", progress):
        gt = folder / "groundtruth.txt"
        if not gt.is_file():
            raise DatasetError(f"{folder}: groundtruth.txt is missing")
        boxes = read_boxes(gt)
        boxes[:, :2] -= 1  # LaSOT is 1-based
        builder.add(str(folder / "img"), boxes, lasot_absent(folder, len(boxes)), template="{:08d}.jpg", first=1)
    index = builder.build()
    if not len(index):
        raise DatasetError(f"{root}: no LaSOT sequences (<class>/<class>-<n>/groundtruth.txt)")
    return index
