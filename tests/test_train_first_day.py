"""`siamtrack train` for a new user (issue 34): bad devices and counts are one line, the run
folder is checked before the data is read, Ctrl-C leaves a state ``--resume`` continues, and
``train_roots`` too large for the memory budget are read through the frame index."""
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch
import yaml

from test_cli import ROOT, one_line_error
from test_train import tiny_config
from tracker import DeviceError
from tracker.train import Trainer


@pytest.fixture
def train_cli(tmp_path, got10k_root, monkeypatch, capsys):
    """``siamtrack train --config <tiny> ARGS`` in this process: (exit code, stderr)."""
    from tracker.cli import main

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "model": "light", "data": {"train_roots": [str(got10k_root)], "clip_dirs": [], "val_sequences": 0, "preload": False},
        "optim": {"epochs": 1, "pairs_per_epoch": 4, "batch_size": 2}}))
    monkeypatch.chdir(tmp_path)

    def run(args):
        code = main(["train", "--config", str(config)] + [str(a) for a in args])
        return code, capsys.readouterr().err

    return run


def no_training(*args, **kwargs):
    raise AssertionError("the data was read before the arguments were checked")


@pytest.mark.parametrize("args, message", [
    (["--out", "run", "--device", "cuda"], "device 'cuda' was requested but no CUDA device is available"),
    (["--out", "run", "--device", "tpu"], "unknown device 'tpu'"),
    (["--out", "run", "--max-iterations", "0"], "--max-iterations: must be >= 1, got 0"),
    (["--out", "AFILE/run"], "--out: cannot write AFILE/run: Not a directory"),
])
def test_bad_arguments_fail_before_the_data_is_read(train_cli, tmp_path, monkeypatch, args, message):
    import tracker.train.trainer

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a CPU machine, wherever the tests run
    monkeypatch.setattr(tracker.train.trainer.Trainer, "__init__", no_training)
    (tmp_path / "afile").write_text("a file, not a folder\n")
    afile = str(tmp_path / "afile")
    code, err = train_cli([a.replace("AFILE", afile) for a in args])
    assert message.replace("AFILE", afile) in one_line_error(code, err)


def test_trainer_refuses_a_device_that_is_not_here(got10k_root, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "tpu"):
        with pytest.raises(DeviceError):
            Trainer(tiny_config("light", got10k_root), str(tmp_path), device=device)


def steps_logged(run):
    log = run / "log.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def test_ctrl_c_saves_a_state_that_resume_continues(got10k_root, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "model": "light", "data": {"train_roots": [str(got10k_root)], "clip_dirs": [], "val_sequences": 0, "preload": False},
        "optim": {"epochs": 1, "pairs_per_epoch": 2000, "batch_size": 2}, "checkpoint_every": 10000}))
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "tracker", "train", "--config", str(config), "--out", str(run), "--device", "cpu"]
    # Ctrl-C as a terminal sends it (the child must not inherit an ignored SIGINT from a background test run)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while len(steps_logged(run)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    lines = err.split("\n")  # the bar's \r redraws stay within a line
    assert lines[-2:] == ["interrupted", ""], err[-500:]  # on its own line, not after the bar's
    assert "interrupted: state saved at epoch 1, iteration" in lines[-3] and "--resume" in lines[-3]
    done = len(steps_logged(run))
    state = torch.load(run / "state.pt", weights_only=True)
    assert (state["epoch"], state["iteration"]) == (0, done) and done >= 2  # the step under way finished, then saved

    proc = subprocess.run(command + ["--resume", "--max-iterations", "1"], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert [s["iteration"] for s in steps_logged(run)] == list(range(1, done + 2))  # continued, not restarted


def test_train_roots_over_the_memory_budget_are_read_through_the_index(got10k_root, tmp_path, caplog):
    from tracker.data.mix import MixDataset
    from tracker.data.pairs import PairDataset
    from tracker.train.budget import plan_data

    cfg = tiny_config("light", got10k_root)
    with caplog.at_level(logging.INFO, logger="tracker.train.budget"):
        assert plan_data(cfg) is cfg  # 3 sequences of 12 frames of 320x240: 2.6 MiB, well within 4096 MiB
    assert "36 frames, about 0.01 GB decoded, within data.memory_budget_mb 4096: decoding them into memory" in caplog.text
    assert isinstance(Trainer(cfg, str(tmp_path / "a"), device="cpu").dataset, PairDataset)

    small = replace(cfg, data=replace(cfg.data, memory_budget_mb=2))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tracker.train.budget"):
        planned = plan_data(small)
    assert ("over data.memory_budget_mb 2: reading frames from their files as they are needed "
            f"(data.datasets: auto {got10k_root})") in caplog.text
    (dataset,) = planned.data.datasets
    assert (dataset.kind, dataset.root, dataset.frames, dataset.weight) == ("auto", str(got10k_root), "files", 3.0)
    trainer = Trainer(small, str(tmp_path / "b"), device="cpu")
    assert isinstance(trainer.dataset, MixDataset) and not trainer.sources  # nothing decoded up front
    trainer.fit(max_iterations=2)
    assert (trainer.epoch, trainer.iteration) == (1, 0)  # one epoch of two steps, on frames read from their files


def test_decoded_size_is_estimated_without_decoding(tmp_path):
    import numpy as np

    from conftest import write_got10k
    from tracker.data.datasets import DatasetConfig, read_index
    from tracker.train.budget import decoded_bytes

    boxes = np.tile([10.0, 10.0, 20.0, 20.0], (4, 1))
    root = write_got10k(tmp_path / "got10k", [("a", [np.zeros((240, 320, 3), np.uint8)] * 4, boxes),
                                               ("b", [np.zeros((120, 160, 3), np.uint8)] * 4, boxes)])
    index = read_index(DatasetConfig(kind="got10k", root=str(root)), progress=False)
    assert decoded_bytes(index) == 8 * (320 * 240 + 160 * 120) // 2 * 3  # first frames at 1/8 scale: 40x30 and 20x15
    (root / "b" / "00000001.jpg").unlink()  # GOT-10k's meta_info.ini is read, not the frames
    (root / "b" / "meta_info.ini").write_text("[METAINFO]\nurl: x\nresolution: (640, 480)\n")
    (root / "b" / "00000001.jpg").write_bytes(b"")
    assert decoded_bytes(index) == 8 * (320 * 240 + 640 * 480) // 2 * 3
