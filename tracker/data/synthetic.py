"""Small generated training sets in the on-disk layouts of GOT-10k, LaSOT, TrackingNet and
COCO, for the tests and the data-pipeline benchmarks: thousands of sequences in seconds (a few
distinct JPEGs written again and again; boxes drawn at random inside the frame)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import cv2
import numpy as np

LAYOUTS = ("got10k", "lasot", "trackingnet", "coco")
CLASSES = ("airplane", "bear", "cat", "drone", "horse")


def _jpegs(rng: np.random.Generator, size, count: int = 8) -> List[bytes]:
    width, height = size
    images = []
    for _ in range(count):
        small = rng.uniform(0, 255, size=(max(height // 16, 2), max(width // 16, 2), 3)).astype(np.float32)
        image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)
        images.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return images


def _boxes(rng: np.random.Generator, n: int, size) -> np.ndarray:
    width, height = size
    w = rng.uniform(0.2, 0.5, n) * width
    h = rng.uniform(0.2, 0.5, n) * height
    x = rng.uniform(0, 1, n) * (width - w)
    y = rng.uniform(0, 1, n) * (height - h)
    return np.round(np.stack([x, y, w, h], axis=1), 2)


def _absent(seq: int, n: int) -> np.ndarray:
    """The second frame of every fifth sequence shows no target."""
    absent = np.zeros(n, dtype=bool)
    if seq % 5 == 4 and n > 1:
        absent[1] = True
    return absent


def _write_lines(path: Path, rows, fmt: str = "{:.2f}") -> None:
    path.write_text("".join(",".join(fmt.format(v) for v in row) + "\n" for row in rows))


def write_dataset(kind: str, root, sequences: int, frames: int = 3, size=(160, 120), seed: int = 0) -> Path:
    """Write ``sequences`` sequences of ``frames`` frames (COCO: ``sequences`` objects, two per
    image) under ``root`` in the layout ``kind``; returns the root a reader takes."""
    rng = np.random.default_rng(seed)
    jpegs = _jpegs(rng, size)
    root = Path(root)
    if kind == "coco":
        return _write_coco(root, sequences, jpegs, rng, size)
    names = []
    for s in range(sequences):
        boxes = _boxes(rng, frames, size)
        absent = _absent(s, frames)
        if kind == "got10k":
            name = f"GOT-10k_Train_{s + 1:06d}"
            folder = image_dir = root / name
        elif kind == "lasot":
            cls = CLASSES[s % len(CLASSES)]
            name = f"{cls}-{s // len(CLASSES) + 1}"
            folder, image_dir = root / cls / name, root / cls / name / "img"
        elif kind == "trackingnet":
            name = f"video{s:05d}"
            chunk = root / f"TRAIN_{s % 12}"
            folder, image_dir = chunk / "anno", chunk / "frames" / name
        else:
            raise ValueError(f"unknown layout {kind!r} ({', '.join(LAYOUTS)})")
        image_dir.mkdir(parents=True, exist_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(frames):
            number = k if kind == "trackingnet" else k + 1
            pattern = "{}.jpg" if kind == "trackingnet" else "{:08d}.jpg"
            (image_dir / pattern.format(number)).write_bytes(jpegs[(s + k) % len(jpegs)])
        names.append(name)
        if kind == "got10k":
            shown = boxes.copy()
            shown[absent] = 0  # GOT-10k keeps a row for absent frames
            _write_lines(folder / "groundtruth.txt", shown, "{:.4f}")
            (folder / "absence.label").write_text("".join(f"{int(a)}\n" for a in absent))
            (folder / "cover.label").write_text("".join("0\n" if a else "8\n" for a in absent))
        elif kind == "lasot":
            shown = boxes.copy()
            shown[:, :2] += 1  # 1-based
            _write_lines(folder / "groundtruth.txt", np.round(shown), "{:.0f}")
            (folder / "full_occlusion.txt").write_text(",".join(str(int(a)) for a in absent))
            (folder / "out_of_view.txt").write_text(",".join("0" for _ in absent))
        else:
            shown = boxes.copy()
            shown[absent] = 0  # TrackingNet has no absence label: an empty box
            _write_lines(folder / f"{name}.txt", shown)
    if kind == "got10k":
        (root / "list.txt").write_text("\n".join(names) + "\n")
    return root


def _write_coco(root: Path, objects: int, jpegs: List[bytes], rng: np.random.Generator, size) -> Path:
    images_dir = root / "train2017"
    images_dir.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    boxes = _boxes(rng, objects, size)
    for i in range((objects + 1) // 2):
        name = f"{i + 1:012d}.jpg"
        (images_dir / name).write_bytes(jpegs[i % len(jpegs)])
        images.append({"id": i + 1, "file_name": name, "width": size[0], "height": size[1]})
    for j, box in enumerate(boxes):
        annotations.append({"id": j + 1, "image_id": j // 2 + 1, "bbox": [float(v) for v in box], "iscrowd": 0,
                            "area": float(box[2] * box[3]), "category_id": 1})
    (root / "annotations").mkdir(exist_ok=True)
    data = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "thing"}]}
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(data))
    return images_dir
