"""Readers of the full training sets, each on a generated tree of its layout, into a compact index."""
import json
from pathlib import Path

import numpy as np
import pytest

from tracker import ConfigError, DatasetError
from tracker.data.datasets import DatasetConfig, read_index
from tracker.data.sequence import read_image
from tracker.data.synthetic import write_dataset


def read(kind, root, **kw):
    return read_index(DatasetConfig(kind=kind, root=str(root), **kw), progress=False)


def boxes_of(path):
    return np.loadtxt(path, delimiter=",", ndmin=2)


def test_got10k_reader_uses_absence_and_cover_labels(tmp_path):
    root = write_dataset("got10k", tmp_path / "got", sequences=6, frames=3)
    folder = root / "GOT-10k_Train_000002"
    (folder / "cover.label").write_text("8\n3\n8\n")
    index = read("got10k", root, min_cover=4)
    assert len(index) == 6 and index.num_frames == 18
    assert index.path(1, 2) == str(folder / "00000003.jpg")
    assert read_image(index.path(5, 0)).shape == (120, 160, 3)
    np.testing.assert_allclose(index.boxes[index.frames(1)], boxes_of(folder / "groundtruth.txt"), atol=1e-3)
    assert index.visible[index.frames(1)].tolist() == [True, False, True]  # cover 3 < 4
    assert index.visible[index.frames(4)].tolist() == [True, False, True]  # absence.label
    assert read("got10k", root).visible[index.frames(1)].all()  # the default min_cover 1 keeps cover 3
    assert index.files.size == 0 and index.boxes.dtype == np.float32  # names from a pattern: nothing per frame but the box


def test_got10k_split_and_missing_frames(tmp_path):
    root = write_dataset("got10k", tmp_path / "got", sequences=4, frames=2)
    (tmp_path / "split.txt").write_text("GOT-10k_Train_000003\nGOT-10k_Train_000001\n")
    index = read("got10k", root, split=str(tmp_path / "split.txt"))
    assert [index.path(s, 0).split("/")[-2] for s in range(len(index))] == ["GOT-10k_Train_000001", "GOT-10k_Train_000003"]
    (root / "GOT-10k_Train_000004" / "00000001.jpg").unlink()
    with pytest.raises(DatasetError, match="no 00000001.jpg"):
        read("got10k", root)


def test_lasot_reader_one_based_with_occlusion_and_split(tmp_path):
    root = write_dataset("lasot", tmp_path / "lasot", sequences=10, frames=3)
    index = read("lasot", root)
    assert len(index) == 10
    folder = root / "airplane" / "airplane-1"
    seq = [s for s in range(len(index)) if index.path(s, 0) == str(folder / "img" / "00000001.jpg")][0]
    expected = boxes_of(folder / "groundtruth.txt")
    expected[:, :2] -= 1
    np.testing.assert_allclose(index.boxes[index.frames(seq)], expected)
    (folder / "out_of_view.txt").write_text("0,0,1")
    assert read("lasot", root).visible[index.frames(seq)].tolist() == [True, True, False]
    assert (root / "horse" / "horse-1" / "full_occlusion.txt").read_text() == "0,1,0"
    (tmp_path / "train_split.txt").write_text("horse-1\nbear-2\n")
    split = read("lasot", root, split=str(tmp_path / "train_split.txt"))
    assert [split.path(s, 0) for s in range(2)] == [str(root / "bear/bear-2/img/00000001.jpg"), str(root / "horse/horse-1/img/00000001.jpg")]
    assert split.visible[split.frames(1)].tolist() == [True, False, True]  # full_occlusion.txt


def test_trackingnet_reader_zero_based_frames_over_chunks(tmp_path):
    root = write_dataset("trackingnet", tmp_path / "tn", sequences=14, frames=3)
    index = read("trackingnet", root)
    assert len(index) == 14
    chunks = [Path(index.path(s, 0)).parents[2].name for s in range(len(index))]
    assert chunks == ["TRAIN_0"] * 2 + ["TRAIN_1"] * 2 + [f"TRAIN_{k}" for k in range(2, 12)]  # TRAIN_10 after TRAIN_2
    assert index.path(0, 0) == str(root / "TRAIN_0" / "frames" / "video00000" / "0.jpg")
    assert read_image(index.path(0, 2)).shape == (120, 160, 3)
    np.testing.assert_allclose(index.boxes[index.frames(0)], boxes_of(root / "TRAIN_0" / "anno" / "video00000.txt"), atol=1e-4)
    video4 = chunks.index("TRAIN_4")
    assert index.visible[index.frames(video4)].tolist() == [True, False, True]  # an empty box is no target


def test_coco_objects_are_one_frame_sequences(tmp_path):
    images = write_dataset("coco", tmp_path / "coco", sequences=7)
    anno = images.parent / "annotations" / "instances_train2017.json"
    data = json.loads(anno.read_text())
    data["annotations"].append({"id": 99, "image_id": 1, "bbox": [1, 1, 50, 50], "iscrowd": 1, "category_id": 1})
    anno.write_text(json.dumps(data))
    index = read("coco", images)
    assert len(index) == 7 and index.num_frames == 7  # the crowd region is left out
    assert index.path(3, 0) == str(images / "000000000002.jpg")  # objects 3 and 4 share image 2
    np.testing.assert_allclose(index.boxes[3], data["annotations"][3]["bbox"], atol=1e-4)
    assert read_image(index.path(6, 0)).shape == (120, 160, 3)
    with pytest.raises(DatasetError, match="annotations not found"):
        read("coco", images, annotations=str(tmp_path / "none.json"))


def test_auto_kind_reads_the_evaluation_layouts(got10k_root, tmp_path):
    index = read("auto", got10k_root)
    assert len(index) == 3 and index.num_frames == 36
    assert index.path(2, 11) == str(Path(got10k_root) / "seq3" / "00000012.jpg")
    assert read_image(index.path(0, 0)).shape == (240, 320, 3)


def test_dataset_config_is_checked():
    with pytest.raises(ConfigError, match="kind"):
        DatasetConfig(kind="imagenet", root="x")
    with pytest.raises(ConfigError, match="frames"):
        DatasetConfig(root="x", frames="ram")
    with pytest.raises(ConfigError, match="root"):
        DatasetConfig()
