"""Run by tests/test_pipeline.py under torchrun: trains from a crop-cache dataset and records
which crops this rank cut, and for each pair index it made, which files it read."""
import json
import sys
from pathlib import Path

import tracker.data.crop_cache as crop_cache
import tracker.data.indexed as indexed
from tracker.config import load_config_file
from tracker.data.mix import MixDataset
from tracker.train import TrainConfig, Trainer

config, out = sys.argv[1], Path(sys.argv[2])
cut, reads = [], {}
write, read, getitem = crop_cache.write_jpeg, indexed.read_image, MixDataset.__getitem__
crop_cache.write_jpeg = lambda path, image, quality: cut.append(path) or write(path, image, quality)
indexed.read_image = lambda path: reads[current].append(path) or read(path)


def recorded(self, index):
    global current
    current = int(index)
    reads[current] = []
    return getitem(self, index)


MixDataset.__getitem__ = recorded
trainer = Trainer(load_config_file(config, TrainConfig), str(out), device="cpu")
trainer.fit()
(out / f"rank{trainer.rank}.json").write_text(json.dumps({"cut": cut, "reads": reads}))
