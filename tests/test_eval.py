"""The benchmark harness: layouts, reports, resume after a kill, workers and Ray agree."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tracker.data.readers import read_got10k
from tracker.eval.experiment import TrackerSpec, load_results, run_experiment

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def weights(random_light_weights):
    return random_light_weights


def all_boxes(results_dir, name, seqs):
    return {s.name: load_results(str(results_dir), name, s)[0] for s in seqs}


@pytest.mark.slow
def test_layout_report_and_plots(got10k_root, weights, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tracker", "eval", str(got10k_root), "--model", "light", "--weights", weights,
                           "--name", "light", "--baselines", "mil", "--results-dir", str(tmp_path / "R"), "--report", str(tmp_path / "P")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for seq in ("seq1", "seq2", "seq3"):
        for tracker in ("light", "opencv_mil"):
            boxes = np.loadtxt(tmp_path / "R" / tracker / seq / f"{seq}_001.txt", delimiter=",")
            times = np.loadtxt(tmp_path / "R" / tracker / seq / f"{seq}_time.txt")
            assert boxes.shape == (12, 4) and times.shape == (12,)
    for f in ("report.md", "report.json", "success_plot.png", "precision_plot.png"):
        assert (tmp_path / "P" / f).is_file()
    assert "| light |" in (tmp_path / "P" / "report.md").read_text()
    # a later run with another tracker, compared with what is already in the results folder
    proc = subprocess.run([sys.executable, "-m", "tracker", "eval", str(got10k_root), "--model", "light", "--weights", weights,
                           "--name", "light_v2", "--set", "siamrpn.lr=0.5", "--baselines", "none", "--results-dir", str(tmp_path / "R"),
                           "--report", str(tmp_path / "C"), "--compare"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    table = (tmp_path / "C" / "report.md").read_text()
    assert all(f"| {n} |" in table for n in ("light", "light_v2", "opencv_mil"))


def test_spec_overrides_tracking_hyper_parameters(weights):
    from tracker import ConfigError
    tracker = TrackerSpec(name="x", model="light", weights=weights, overrides=(("siamrpn.lr", 0.5),)).build()
    assert tracker.config.siamrpn.lr == 0.5
    assert TrackerSpec(name="x", model="light", weights=weights).build().config.siamrpn.lr != 0.5
    with pytest.raises(ConfigError, match="siamrpn.nope"):
        TrackerSpec(name="x", model="light", weights=weights, overrides=(("siamrpn.nope", 1),)).build()


def test_plain_spec_runs_the_network_as_trained(weights):
    from tracker.models import SiameseNet
    plain = TrackerSpec(name="x", model="light", weights=weights, backend="torch", fast=False).build()
    fast = TrackerSpec(name="x", model="light", weights=weights, backend="torch").build()
    batchnorms = [sum(isinstance(m, torch.nn.BatchNorm2d) for m in t.net.module.modules()) for t in (plain, fast)]
    assert isinstance(plain.net.module, SiameseNet) and batchnorms[0] > 0 and batchnorms[1] == 0


@pytest.mark.slow
def test_two_workers_and_ray_match_one_worker(got10k_root, weights, tmp_path):
    seqs = read_got10k(got10k_root)
    spec = TrackerSpec(name="light", model="light", weights=weights)
    run_experiment([spec], seqs, str(tmp_path / "one"), workers=1)
    run_experiment([spec], seqs, str(tmp_path / "two"), workers=2)
    one, two = all_boxes(tmp_path / "one", "light", seqs), all_boxes(tmp_path / "two", "light", seqs)
    for name in one:
        assert np.array_equal(one[name], two[name])
    pytest.importorskip("ray")
    run_experiment([spec], seqs, str(tmp_path / "ray"), ray_address="local")
    viaray = all_boxes(tmp_path / "ray", "light", seqs)
    for name in one:
        assert np.array_equal(one[name], viaray[name])


@pytest.mark.slow
def test_killed_eval_resumes_to_the_same_numbers(got10k_root, weights, tmp_path):
    seqs = read_got10k(got10k_root)
    spec = TrackerSpec(name="light", model="light", weights=weights)
    run_experiment([spec], seqs, str(tmp_path / "straight"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "tracker", "eval", str(got10k_root), "--model", "light", "--weights", weights, "--name", "light",
           "--baselines", "none", "--results-dir", str(tmp_path / "killed")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = tmp_path / "killed" / "light" / "seq1" / "seq1_001.txt"
    deadline = time.time() + 120
    while not first.exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sum((tmp_path / "killed" / "light" / s.name / f"{s.name}_001.txt").exists() for s in seqs)
    assert 1 <= done_before < 3
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"({done_before} already done)" in proc.stdout
    straight, resumed = all_boxes(tmp_path / "straight", "light", seqs), all_boxes(tmp_path / "killed", "light", seqs)
    for name in straight:
        assert np.array_equal(straight[name], resumed[name])


@pytest.mark.slow
def test_results_of_another_model_under_the_same_name_are_re_run(got10k_root, weights, tmp_path, caplog, monkeypatch):
    """Resume trusts only results made by the same spec, weights and tracking code: a changed
    override, checkpoint or post-processing under the same tracker name re-runs every
    sequence instead of reusing them."""
    from tracker.eval import experiment

    seqs = read_got10k(got10k_root)
    out = str(tmp_path / "R")
    spec = TrackerSpec(name="t", model="light", weights=weights)
    assert len(run_experiment([spec], seqs, out)) == len(seqs)
    assert run_experiment([spec], seqs, out) == []  # the same model: everything resumed
    changed = TrackerSpec(name="t", model="light", weights=weights, overrides=(("siamrpn.window_influence", 0.95),))
    assert len(run_experiment([changed], seqs, out)) == len(seqs)
    assert "re-running every sequence" in caplog.text
    run_experiment([TrackerSpec(name="t", model="light", weights=weights, overrides=changed.overrides)], seqs, str(tmp_path / "fresh"))
    resumed, fresh = all_boxes(tmp_path / "R", "t", seqs), all_boxes(tmp_path / "fresh", "t", seqs)
    assert all(np.array_equal(resumed[n], fresh[n]) for n in fresh)
    other = tmp_path / "other.pt"
    other.write_bytes(Path(weights).read_bytes() + b"\0")  # other bytes, other fingerprint
    moved = TrackerSpec(name="t", model="light", weights=str(other), overrides=changed.overrides)
    assert len(run_experiment([moved], seqs, out)) == len(seqs)
    monkeypatch.setattr(experiment, "tracking_code_digest", lambda: "edited post-processing")
    assert len(run_experiment([moved], seqs, out)) == len(seqs)  # other tracking code: re-run too


def test_sequences_subset_and_report_without_matplotlib(got10k_root, weights, tmp_path, monkeypatch, caplog, capsys):
    """--sequences runs only those; a report without matplotlib still has its tables and says
    which extra brings the plots."""
    from tracker.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails, as where it is not installed
    code = main(["eval", str(got10k_root), "--model", "light", "--weights", weights, "--baselines", "none", "--sequences", "seq2",
                 "--results-dir", str(tmp_path / "R"), "--report", str(tmp_path / "P")])
    assert code == 0, capsys.readouterr().err
    assert [p.name for p in (tmp_path / "R" / "light").iterdir() if p.is_dir()] == ["seq2"]
    assert sorted(p.name for p in (tmp_path / "P").iterdir()) == ["report.json", "report.md"]
    assert any('pip install -e ".[eval]"' in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_temporal_starts_spread_over_each_sequence():
    """TRE: starts at k*N/count, moved past absent frames, the first run the sequence itself."""
    from tracker.data.sequence import Sequence
    from tracker.eval.experiment import temporal_starts

    boxes = np.tile([10.0, 20.0, 30.0, 40.0], (10, 1))
    absent = np.zeros(10, dtype=bool)
    absent[[3, 4]] = True  # the second start (frame 3) moves to frame 5
    seq = Sequence("a", [f"{i}.jpg" for i in range(10)], boxes, absent)
    runs = temporal_starts([seq], 3)
    assert [r.name for r in runs] == ["a", "a@5", "a@6"]
    assert runs[0] is seq
    assert runs[1].frames == [f"{i}.jpg" for i in range(5, 10)] and len(runs[1].boxes) == 5
    assert runs[2].absent.tolist() == [False] * 4 and np.array_equal(runs[2].init_box, [10, 20, 30, 40])
    # starts that land on the same frame, or leave nothing to track, are dropped
    assert [r.name for r in temporal_starts([seq], 20)] == ["a", "a@1", "a@2", "a@5", "a@6", "a@7", "a@8"]
    assert temporal_starts([seq], 1) == [seq]


@pytest.mark.slow
def test_eval_with_starts_reports_every_run(got10k_root, weights, tmp_path, capsys):
    """--starts 2: each sequence also runs from its middle frame; the report scores all six runs,
    and the runs from frame 0 are one-pass evaluation's (reused by a later plain run)."""
    from tracker.cli import main

    args = ["eval", str(got10k_root), "--model", "light", "--weights", weights, "--baselines", "none",
            "--results-dir", str(tmp_path / "R")]
    assert main(args + ["--starts", "2", "--report", str(tmp_path / "P")]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "R" / "light").iterdir() if p.is_dir()) == \
        ["seq1", "seq1@6", "seq2", "seq2@6", "seq3", "seq3@6"]
    boxes = np.loadtxt(tmp_path / "R" / "light" / "seq2@6" / "seq2@6_001.txt", delimiter=",")
    truth = np.loadtxt(got10k_root / "seq2" / "groundtruth.txt", delimiter=",")
    assert boxes.shape == (6, 4) and np.allclose(boxes[0], truth[6], atol=1e-3)  # initialised on frame 6's box
    report = (tmp_path / "P" / "report.md").read_text()
    assert "TRE: 6 runs from up to 2 start frames in each of 3 sequences" in report and "| seq3@6 |" in report
    capsys.readouterr()
    assert main(args) == 0
    assert "ran 0 sequence runs (3 already done)" in capsys.readouterr().out


def test_paired_differences_against_the_first_tracker():
    """Mean and standard error of the per-sequence AUC differences, by hand; the report's
    section names the reference (the run's first tracker) and skips sequences one side lacks."""
    from tracker.eval.report import markdown, paired_differences

    def tracker(aucs):
        return {"mean": {"auc": float(np.nanmean(list(aucs.values()))), "precision": 0, "norm_precision": 0, "ao": 0,
                         "ao_got10k": 0, "sr50": 0, "sr75": 0, "fps": 1.0},
                "sequences": {q: {"auc": v, "precision": 0, "sr50": 0, "sr75": 0, "frames": 10, "fps": 1.0} for q, v in aucs.items()}}

    report = {"trackers": {"ours": tracker({"a": 0.5, "b": 0.6, "c": 0.7, "d": 0.4}),
                           "theirs": tracker({"a": 0.6, "b": 0.6, "c": 0.5, "d": float("nan")})}}
    d = paired_differences(report, "ours")["theirs"]
    # differences 0.1, 0.0, -0.2 (d has no score for theirs): mean -1/30, sample std sqrt(0.07/3)
    assert d["sequences"] == 3 and d["better"] == 1 and d["worse"] == 1
    assert d["mean"] == pytest.approx(-1 / 30) and d["standard_error"] == pytest.approx(np.sqrt(0.07 / 3) / np.sqrt(3))
    text = markdown(report, "t")
    assert "## AUC against ours" in text and "| theirs | -0.033 | 0.088 | 1 of 3 | 1 of 3 |" in text
    assert "## AUC against" not in markdown({"trackers": {"ours": report["trackers"]["ours"]}}, "t")
