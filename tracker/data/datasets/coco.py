"""COCO-style still images (``instances_*.json``: images, annotations with ``bbox``): each
object is a one-frame sequence, as pysot trains on COCO and ImageNet DET."""
from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Tuple

import numpy as np

from ...errors import DatasetError
from ..index import FrameIndex, stills_index


def default_annotations(images: Path) -> Path:
    """COCO's own layout: ``train2017/`` beside ``annotations/instances_train2017.json``."""
    return images.parent / "annotations" / f"instances_{images.name}.json"


def _objects(path: str) -> Tuple[np.ndarray, np.ndarray]:
    data = json.loads(Path(path).read_text())
    files = {image["id"]: image["file_name"] for image in data["images"]}
    objects = [(files[a["image_id"]], a["bbox"]) for a in data["annotations"] if not a.get("iscrowd", 0)]
    names = np.array([n.encode() for n, _ in objects], dtype=bytes)
    boxes = np.array([b for _, b in objects], dtype=np.float64).reshape(-1, 4)
    return names, boxes


def read_coco_index(root: str, annotations: str = "") -> FrameIndex:
    """Objects of ``annotations`` (default: :func:`default_annotations`) whose images are in
    ``root``; crowd regions are left out. The JSON is parsed in a child process: the Python
    objects of a 450 MB file would otherwise stay in this process's peak memory."""
    images = Path(root)
    path = Path(annotations) if annotations else default_annotations(images)
    if not path.is_file():
        raise DatasetError(f"COCO annotations not found: {path}")
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
        names, boxes = pool.submit(_objects, str(path)).result()
    index = stills_index(str(images), names, boxes)
    if not len(index):
        raise DatasetError(f"{path}: no object boxes")
    return index
