"""Readers for the dataset layouts users have on disk, all yielding :class:`Sequence`.

* GOT-10k: ``root/list.txt`` + ``root/<seq>/{00000001.jpg, groundtruth.txt, absence.label, ...}``
* OTB: ``root/<seq>/img/*.jpg`` + ``groundtruth_rect*.txt`` (1-based), incl. the special frame ranges
* VOT: ``root/list.txt`` + ``<seq>/groundtruth.txt`` (rectangles or polygons, images in
  ``<seq>/color/`` or ``<seq>/``), 1-based like the toolkit
* LaSOT: ``root/<class>/<class>-<n>/{img/, groundtruth.txt, full_occlusion.txt, out_of_view.txt}``
* UAV123: ``root/anno/UAV123/<seq>.txt`` + ``root/data_seq/UAV123/<video>/`` (1-based)
* a plain image folder + box file
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

import numpy as np

from ..errors import DatasetError
from .sequence import Sequence, parse_box_lines

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def _images(folder: Path) -> List[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)


def read_labels(path: Path, n: int) -> Optional[np.ndarray]:
    if not path.is_file():
        return None
    values = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if len(values) != n:
        raise DatasetError(f"{path}: {len(values)} labels for {n} frames")
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        raise DatasetError(f"{path}: labels must be numbers") from None


def read_got10k_sequence(folder: Union[str, Path]) -> Sequence:
    folder = Path(folder)
    gt = folder / "groundtruth.txt"
    if not gt.is_file():
        raise DatasetError(f"{folder}: groundtruth.txt is missing")
    frames = _images(folder)
    boxes = parse_box_lines(gt.read_text(), str(gt))
    if len(boxes) < len(frames) and len(boxes) == 1:
        # GOT-10k test split: only the first box is given.
        boxes = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)])
    if len(boxes) != len(frames):
        raise DatasetError(f"{folder}: {len(frames)} frames but {len(boxes)} boxes in groundtruth.txt")
    absence = read_labels(folder / "absence.label", len(frames))
    absent = None if absence is None else absence.astype(bool)
    meta = {}
    ini = folder / "meta_info.ini"
    if ini.is_file():
        for line in ini.read_text().splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                meta[key.strip()] = value.strip()
    return Sequence(folder.name, frames, boxes, absent, meta)


def got10k_names(root: Path) -> List[str]:
    """The sequences of a GOT-10k root: ``list.txt``, else every folder with a groundtruth.txt."""
    listing = root / "list.txt"
    if listing.is_file():
        return [n.strip() for n in listing.read_text().splitlines() if n.strip()]
    return sorted(p.name for p in root.iterdir() if (p / "groundtruth.txt").is_file())


def read_got10k(root: Union[str, Path]) -> List[Sequence]:
    root = Path(root)
    names = got10k_names(root)
    if not names:
        raise DatasetError(f"{root}: no sequences found (expected list.txt or <seq>/groundtruth.txt)")
    return [read_got10k_sequence(root / n) for n in names]


# OTB sequences whose annotation covers a sub-range of the images (1-based, inclusive).
OTB_RANGES = {"David": (300, 770), "Football1": (1, 74), "Freeman3": (1, 460), "Freeman4": (1, 283), "Diving": (1, 215), "Tiger1": (6, 354)}


def read_otb(root: Union[str, Path]) -> List[Sequence]:
    root = Path(root)
    sequences = []
    for folder in sorted(p for p in root.iterdir() if (p / "img").is_dir()):
        images = _images(folder / "img")
        gts = sorted(folder.glob("groundtruth_rect*.txt"))
        if not gts:
            raise DatasetError(f"{folder}: no groundtruth_rect*.txt")
        start, end = OTB_RANGES.get(folder.name, (1, len(images)))
        for index, gt in enumerate(gts, 1):
            boxes = parse_box_lines(gt.read_text(), str(gt))
            boxes[:, :2] -= 1  # OTB is 1-based
            frames = images[start - 1 : end]
            n = min(len(frames), len(boxes))
            if abs(len(frames) - len(boxes)) > 1:
                raise DatasetError(f"{folder}: {len(frames)} frames but {len(boxes)} boxes in {gt.name}")
            name = folder.name if len(gts) == 1 else f"{folder.name}-{index}"
            sequences.append(Sequence(name, frames[:n], boxes[:n]))
    if not sequences:
        raise DatasetError(f"{root}: no OTB sequences (<seq>/img/ + groundtruth_rect.txt)")
    return sequences


def read_vot(root: Union[str, Path]) -> List[Sequence]:
    root = Path(root)
    listing = root / "list.txt"
    names = [n.strip() for n in listing.read_text().splitlines() if n.strip()] if listing.is_file() else sorted(
        p.name for p in root.iterdir() if (p / "groundtruth.txt").is_file()
    )
    sequences = []
    for name in names:
        folder = root / name
        image_dir = folder / "color" if (folder / "color").is_dir() else folder
        gt = folder / "groundtruth.txt"
        if not gt.is_file():
            raise DatasetError(f"{folder}: groundtruth.txt is missing")
        boxes = parse_box_lines(gt.read_text(), str(gt))
        boxes[:, :2] -= 1  # the VOT toolkit is 1-based
        frames = _images(image_dir)
        if len(frames) != len(boxes):
            raise DatasetError(f"{folder}: {len(frames)} frames but {len(boxes)} boxes")
        sequences.append(Sequence(name, frames, boxes))
    return sequences


def lasot_absent(folder: Path, n: int) -> np.ndarray:
    """Frames of a LaSOT sequence flagged in ``full_occlusion.txt`` or ``out_of_view.txt``."""
    absent = np.zeros(n, dtype=bool)
    for label in ("full_occlusion.txt", "out_of_view.txt"):
        path = folder / label
        if path.is_file():
            flags = [v for v in path.read_text().replace("\n", ",").split(",") if v.strip()]
            absent[: len(flags)] |= np.array([bool(int(float(v))) for v in flags][:n], dtype=bool)
    return absent


def read_lasot(root: Union[str, Path]) -> List[Sequence]:
    root = Path(root)
    sequences = []
    for gt in sorted(root.glob("*/*/groundtruth.txt")):
        folder = gt.parent
        boxes = parse_box_lines(gt.read_text(), str(gt))
        boxes[:, :2] -= 1  # LaSOT is 1-based
        frames = _images(folder / "img")
        sequences.append(Sequence(folder.name, frames, boxes, lasot_absent(folder, len(boxes))))
    if not sequences:
        raise DatasetError(f"{root}: no LaSOT sequences (<class>/<seq>/groundtruth.txt)")
    return sequences


_UAV_STRUCT = re.compile(
    r"'name'\s*,\s*'(?P<name>[^']+)'.*?'path'\s*,\s*'(?P<path>[^']+)'.*?'startFrame'\s*,\s*(?P<start>\d+)\s*,\s*'endFrame'\s*,\s*(?P<end>\d+)",
    re.S,
)


def read_uav123(root: Union[str, Path]) -> List[Sequence]:
    """UAV123 / UAV123@10fps: ``anno/<set>/<seq>.txt`` (1-based, NaN rows when absent) and
    ``data_seq/<set>/<video>/*.jpg``. Sub-sequences such as ``bird1_1`` take their frame
    ranges from the benchmark's ``configSeqs.m`` when it is under ``root``."""
    root = Path(root)
    annos = sorted(root.glob("anno/*/*.txt"))
    if not annos:
        raise DatasetError(f"{root}: no UAV123 annotations (anno/<set>/<seq>.txt)")
    ranges = {}
    for config in root.rglob("configSeqs*.m"):
        for m in _UAV_STRUCT.finditer(config.read_text(errors="replace")):
            video = Path(m["path"].replace("\\", "/").rstrip("/")).name
            ranges[m["name"]] = (video, int(m["start"]), int(m["end"]))
    sequences = []
    for anno in annos:
        name, subset = anno.stem, anno.parent.name
        video, start, end = ranges.get(name, (name, 1, None))
        folder = root / "data_seq" / subset / video
        if not folder.is_dir():
            raise DatasetError(f"{root}: frames of {name!r} not found in {folder}"
                               + ("" if name in ranges else " (a sub-sequence needs configSeqs.m for its frame range)"))
        boxes = parse_box_lines(anno.read_text(), str(anno))
        boxes[:, :2] -= 1
        frames = _images(folder)[start - 1 : end]
        if len(frames) != len(boxes):
            raise DatasetError(f"{name}: {len(frames)} frames but {len(boxes)} boxes")
        sequences.append(Sequence(name, frames, boxes))
    return sequences


def read_image_folder(folder: Union[str, Path], box_file: Union[str, Path, None] = None) -> Sequence:
    """A folder (or glob) of images plus an optional box file (0-based x,y,w,h lines)."""
    folder_str = str(folder)
    if any(ch in folder_str for ch in "*?["):
        frames = sorted(f for f in glob.glob(folder_str) if f.lower().endswith(IMAGE_EXTS))
        name = Path(folder_str).parent.name
    else:
        if not Path(folder).is_dir():
            raise DatasetError(f"image folder not found: {folder}")
        frames = _images(Path(folder))
        name = Path(folder).name
    if not frames:
        raise DatasetError(f"no images found in {folder}")
    if box_file is None:
        boxes = np.full((len(frames), 4), np.nan)
    else:
        boxes = parse_box_lines(Path(box_file).read_text(), str(box_file))
        if len(boxes) == 1:
            boxes = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)])
    return Sequence(name, frames, boxes)


LAYOUTS = {"got10k": read_got10k, "otb": read_otb, "vot": read_vot, "lasot": read_lasot, "uav123": read_uav123}


def detect_layout(root: Union[str, Path]) -> str:
    """Guess the layout of a dataset root from its files."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset root not found: {root}")
    if any(root.glob("anno/*/*.txt")) and (root / "data_seq").is_dir():
        return "uav123"
    if any(root.glob("*/img/*")) and any(root.glob("*/groundtruth_rect*.txt")):
        return "otb"
    if any(root.glob("*/*/img")) and any(root.glob("*/*/groundtruth.txt")):
        return "lasot"
    if any(root.glob("*/color")):
        return "vot"
    if any(root.glob("*/groundtruth.txt")):
        return "got10k"
    raise DatasetError(f"{root}: unrecognised dataset layout (GOT-10k, OTB, VOT or LaSOT expected)")


def read_dataset(root: Union[str, Path], layout: str = "auto") -> List[Sequence]:
    layout = detect_layout(root) if layout == "auto" else layout
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown dataset layout {layout!r} ({', '.join(LAYOUTS)})")
    return LAYOUTS[layout](root)


def video_files(folder: Union[str, Path]) -> Iterator[str]:
    for ext in ("*.mp4", "*.avi", "*.mov", "*.mkv"):
        yield from sorted(glob.glob(os.path.join(str(folder), ext)))
