"""The training data pipeline: the small-set path yields the pairs it always did, the
index path (files or crops read on demand) mixes datasets, DDP ranks read disjoint shares."""
import hashlib
from dataclasses import replace

import pytest

from conftest import SHARED
from tracker.data.frames import FrameCache
from tracker.data.pairs import FrameSource, PairConfig, PairDataset
from tracker.data.readers import read_got10k
from tracker.video.demo import generate_clip

# sha256 of the pairs the code before the index pipeline (commit 1321296) made: the shipped
# configs' in-memory path must keep making them, byte for byte
FIXTURE_PAIRS = "43c7e932994156a82b073bb2930aed4728e24894f53e1cd643176e26c90302e2"
LIGHT_YAML_PAIRS = "4acefb3c680b19ba8d51252db8548b0f8b682f8db1f4f5df9f5580f1fb27c05a"


def pairs_digest(dataset, n):
    h = hashlib.sha256()
    for i in range(n):
        item = dataset[i]
        for key in ("z", "x", "box", "negative"):
            h.update(item[key].numpy().tobytes())
    return h.hexdigest()


def test_in_memory_pairs_are_byte_identical_to_before(got10k_root):
    cache = FrameCache()
    sources = [FrameSource.from_sequence(s, cache, 8) for s in read_got10k(got10k_root)]
    sources.append(FrameSource.from_clip("clip", generate_clip(num_frames=6, width=320, height=240, seed=9).frames))
    dataset = PairDataset(sources, PairConfig(self_supervised=0.3, negative=0.2), 24, seed=0)
    assert pairs_digest(dataset, 24) == FIXTURE_PAIRS


@pytest.mark.skipif(not (SHARED / "data/sot/train").is_dir() or not (SHARED / "data/videos").is_dir(), reason="needs ../shared/data")
def test_shipped_config_trains_on_the_same_pairs(tmp_path, monkeypatch):
    """configs/train/light.yaml on sot/train + the clips: the same 16 pairs of epoch 3 as before."""
    from pathlib import Path

    from tracker.config import load_config_file
    from tracker.train import TrainConfig, Trainer

    monkeypatch.setenv("SIAMTRACK_SHARED", str(SHARED))
    cfg = load_config_file(Path(__file__).resolve().parents[1] / "configs/train/light.yaml", TrainConfig)
    assert cfg.data.preload
    trainer = Trainer(replace(cfg, data=replace(cfg.data, preload=False)), str(tmp_path), device="cpu")  # lazily: same frames
    trainer.dataset.set_epoch(3)
    assert pairs_digest(trainer.dataset, 16) == LIGHT_YAML_PAIRS
