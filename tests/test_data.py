import cv2
import numpy as np
import pytest

from tracker import DatasetError
from tracker.data.readers import detect_layout, read_dataset, read_got10k, read_image_folder, read_otb
from tracker.data.sequence import parse_box_lines


def test_got10k_reader(got10k_root):
    seqs = read_got10k(got10k_root)
    assert [s.name for s in seqs] == ["seq1", "seq2", "seq3"]
    assert len(seqs[0]) == 12 and seqs[0].boxes.shape == (12, 4)
    assert seqs[0].frame(0).shape == (240, 320, 3)
    assert detect_layout(got10k_root) == "got10k"


def test_nan_rows_and_absence_mark_frames_absent(tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), np.zeros((20, 20, 3), np.uint8))
    (folder / "groundtruth.txt").write_text("1,1,5,5\nnan,nan,nan,nan\n2,2,5,5\n")
    (folder / "absence.label").write_text("0\n1\n1\n")
    seq = read_dataset(tmp_path, "got10k")[0]
    assert seq.absent.tolist() == [False, True, True]


def test_malformed_annotation_line_names_file_and_line(tmp_path):
    with pytest.raises(DatasetError, match=r"gt.txt:2"):
        parse_box_lines("1,2,3,4\n1,2,x,4\n", "gt.txt")
    with pytest.raises(DatasetError, match="expected 4"):
        parse_box_lines("1,2,3\n", "gt.txt")


def test_polygons_become_bounding_boxes():
    boxes = parse_box_lines("10,10,20,10,20,30,10,30\n", "vot")
    assert boxes.tolist() == [[10, 10, 10, 20]]


def test_frame_count_mismatch_is_reported(tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    cv2.imwrite(str(folder / "00000001.jpg"), np.zeros((20, 20, 3), np.uint8))
    (folder / "groundtruth.txt").write_text("1,1,5,5\n1,1,5,5\n1,1,5,5\n")
    with pytest.raises(DatasetError, match="1 frames but 3 boxes"):
        read_got10k(tmp_path)


def test_missing_and_corrupt_frames(tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    (folder / "00000001.jpg").write_bytes(b"not an image at all \xff\xd9")
    (folder / "groundtruth.txt").write_text("1,1,5,5\n")
    seq = read_got10k(tmp_path)[0]
    with pytest.raises(DatasetError, match="cannot be decoded"):
        seq.frame(0)
    seq.frames[0] = str(folder / "gone.jpg")
    with pytest.raises(DatasetError, match="missing"):
        seq.frame(0)


def test_otb_reader_is_one_based(tmp_path):
    folder = tmp_path / "Boy" / "img"
    folder.mkdir(parents=True)
    for i in range(4):
        cv2.imwrite(str(folder / f"{i + 1:04d}.jpg"), np.zeros((20, 20, 3), np.uint8))
    (tmp_path / "Boy" / "groundtruth_rect.txt").write_text("11\t21\t5\t6\n" * 4)
    seqs = read_otb(tmp_path)
    assert seqs[0].boxes[0].tolist() == [10, 20, 5, 6]
    assert detect_layout(tmp_path) == "otb"


def test_image_folder_with_single_box(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.zeros((20, 20, 3), np.uint8))
    (tmp_path / "box.txt").write_text("1,2,3,4\n")
    seq = read_image_folder(tmp_path, tmp_path / "box.txt")
    assert len(seq) == 3 and seq.boxes[0].tolist() == [1, 2, 3, 4] and seq.absent[1]


def test_unknown_layout(tmp_path):
    with pytest.raises(DatasetError):
        detect_layout(tmp_path)


def _frames(folder, n):
    folder.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"{i + 1:06d}.jpg"), np.zeros((20, 20, 3), np.uint8))


def test_uav123_layout_with_sub_sequences(tmp_path):
    _frames(tmp_path / "data_seq" / "UAV123" / "bird1", 10)
    _frames(tmp_path / "data_seq" / "UAV123" / "car1", 3)
    anno = tmp_path / "anno" / "UAV123"
    anno.mkdir(parents=True)
    (anno / "bird1_2.txt").write_text("5,6,3,4\nNaN,NaN,NaN,NaN\n7,8,3,4\n")
    (anno / "car1.txt").write_text("2,2,4,4\n" * 3)
    (tmp_path / "configSeqs.m").write_text(
        "seqUAV123={struct('name','bird1_2','path','D:\\\\UAV123\\\\data_seq\\\\UAV123\\\\bird1\\\\','startFrame',5,'endFrame',7,'nz',6,'ext','jpg','init_rect',[0,0,0,0]),...\n}")
    assert detect_layout(tmp_path) == "uav123"
    seqs = {s.name: s for s in read_dataset(tmp_path)}
    assert seqs["bird1_2"].frames[0].endswith("000005.jpg") and len(seqs["bird1_2"]) == 3
    assert seqs["bird1_2"].boxes[0].tolist() == [4, 5, 3, 4] and seqs["bird1_2"].absent.tolist() == [False, True, False]
    assert len(seqs["car1"]) == 3


def test_vot_and_lasot_layouts(tmp_path):
    vot = tmp_path / "vot"
    _frames(vot / "ball" / "color", 2)
    (vot / "ball" / "groundtruth.txt").write_text("11,11,21,11,21,31,11,31\n2,2,5,5\n")
    (vot / "list.txt").write_text("ball\n")
    seq = read_dataset(vot)[0]
    assert seq.boxes[0].tolist() == [10, 10, 10, 20]
    lasot = tmp_path / "lasot"
    _frames(lasot / "cat" / "cat-1" / "img", 2)
    (lasot / "cat" / "cat-1" / "groundtruth.txt").write_text("1,1,5,5\n1,1,5,5\n")
    (lasot / "cat" / "cat-1" / "full_occlusion.txt").write_text("0,1")
    seq = read_dataset(lasot)[0]
    assert seq.absent.tolist() == [False, True] and seq.boxes[0].tolist() == [0, 0, 5, 5]
