"""The on-disk crop cache: cut once (in parallel), resumed after an interruption, rebuilt when a
setting changes, and a pair cut from it is the pair cut from the full frame."""
import os
from dataclasses import replace

import numpy as np
import pytest

import tracker.data.crop_cache as crop_cache
from tracker import DatasetError
from tracker.data.crop_cache import CropCache, CropSettings
from tracker.data.datasets import DatasetConfig, read_index
from tracker.data.indexed import IndexedFrames
from tracker.data.pairs import PairConfig, PairDataset
from tracker.data.sequence import read_image
from tracker.data.synthetic import write_dataset


@pytest.fixture
def index(tmp_path):
    root = write_dataset("got10k", tmp_path / "got", sequences=6, frames=3)
    return read_index(DatasetConfig(kind="got10k", root=str(root)), progress=False)  # 17 visible frames


def crops_on_disk(cache):
    return sorted(str(p.relative_to(cache.folder)) for p in cache.folder.rglob("*.jpg"))


def test_interrupted_build_resumes_where_it_stopped(index, tmp_path, monkeypatch):
    cache = CropCache(str(tmp_path / "crops"), "got", index, CropSettings(size=255))
    write = crop_cache.write_jpeg
    calls = []

    def killed_after_seven(path, image, quality):
        if len(calls) == 7:
            open(path + ".tmp999", "wb").write(b"\xff\xd8 half a jpeg")  # what a kill mid-write leaves
            raise KeyboardInterrupt
        calls.append(path)
        write(path, image, quality)

    monkeypatch.setattr(crop_cache, "write_jpeg", killed_after_seven)
    with pytest.raises(KeyboardInterrupt):
        cache.build(workers=1, progress=False)
    assert len(crops_on_disk(cache)) == 7 and not cache.complete
    with pytest.raises(DatasetError, match="have no crops yet"):
        cache.finish()
    before = {p: os.stat(p).st_mtime_ns for p in calls}
    monkeypatch.setattr(crop_cache, "write_jpeg", write)
    again = CropCache(str(tmp_path / "crops"), "got", index, CropSettings(size=255))  # a new run: same folder
    assert again.folder == cache.folder
    assert again.build(workers=1, progress=False) == 17 - 7
    again.finish()
    assert again.complete and len(again.missing()) == 0
    assert {p: os.stat(p).st_mtime_ns for p in calls} == before  # done crops are not cut again
    assert len(crops_on_disk(again)) == 17
    for f in np.flatnonzero(index.visible):
        assert read_image(again.path(int(f))).shape == (255, 255, 3)


def test_a_changed_setting_or_dataset_builds_a_new_cache(index, tmp_path):
    settings = CropSettings(size=255)
    cache = CropCache(str(tmp_path / "crops"), "got", index, settings)
    cache.build(workers=1, progress=False)
    for changed in (replace(settings, quality=70), replace(settings, context=0.6), replace(settings, size=511)):
        other = CropCache(str(tmp_path / "crops"), "got", index, changed)
        assert other.folder != cache.folder and not other.complete
        assert other.build(workers=1, progress=False) == 17
    moved = replace(index, boxes=index.boxes + 1)  # the annotation changed on disk
    assert CropCache(str(tmp_path / "crops"), "got", moved, settings).folder != cache.folder


def test_parallel_build_writes_the_same_crops(index, tmp_path):
    serial = CropCache(str(tmp_path / "a"), "got", index, CropSettings(size=255))
    parallel = CropCache(str(tmp_path / "b"), "got", index, CropSettings(size=255))
    assert serial.build(workers=1, progress=False) == parallel.build(workers=2, progress=False) == 17
    assert crops_on_disk(serial) == crops_on_disk(parallel)
    for f in np.flatnonzero(index.visible):
        assert open(serial.path(int(f)), "rb").read() == open(parallel.path(int(f)), "rb").read()
    assert parallel.build(workers=2, progress=False) == 0


def test_ranks_cut_disjoint_shares(index, tmp_path):
    shares = [CropCache(str(tmp_path / "c"), "got", index, CropSettings(size=255)) for _ in range(2)]
    written = [c.build(workers=1, share=(i, 2), progress=False) for i, c in enumerate(shares)]
    assert sum(written) == 17 and min(written) > 0
    shares[0].finish()
    assert shares[1].complete


def test_pair_from_crop_cache_matches_pair_from_full_frame(got10k_root, tmp_path):
    index = read_index(DatasetConfig(kind="got10k", root=str(got10k_root)), progress=False)
    cache = CropCache(str(tmp_path / "crops"), "fixture", index)  # 511 px, JPEG quality 90
    cache.build(workers=1, progress=False)
    config = PairConfig(self_supervised=0.0, negative=0.0, gray=0.0)
    full = PairDataset(IndexedFrames(index, 8), config, 8, seed=1)
    cached = PairDataset(IndexedFrames(index, 8, crops=cache), config, 8, seed=1)
    for i in range(8):
        a, b = full[i], cached[i]
        np.testing.assert_allclose(a["box"].numpy(), b["box"].numpy(), atol=1e-3)  # the same target box
        for key in ("z", "x"):
            error = (a[key].float() - b[key].float()).abs()
            assert error.mean() < 3.0 and np.percentile(error.numpy(), 99) < 32, (i, key, float(error.mean()))
        other = full[(i + 1) % 8]
        assert (a["x"].float() - other["x"].float()).abs().mean() > 10  # what a wrong pair would differ by
