"""What a new user meets first: the model listing, eval's printed summary, the results
files' shape, the on-frame fps, and the exported-graph tracker from the top-level API."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import write_clip
from tracker.cli import main
from tracker.zoo import manifest


@pytest.mark.parametrize("args", [["--list-models"], ["track", "--list-models"]])
def test_list_models_says_what_to_choose_by(args, capsys, monkeypatch):
    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)  # the real shipped weights
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    models = manifest()["models"]
    for name, entry in models.items():
        line = next(row for row in lines if row.split()[0] == name)
        assert entry["description"] in line and f"val AUC {entry['val_auc']:.3f}" in line and f"{entry['fps']:.0f} fps" in line
    assert "[default]" in next(row for row in lines if row.startswith("mobilenet_fc "))


@pytest.fixture
def export_description(tmp_path):
    """The shipped light model's graphs described as `siamtrack export` describes its files."""
    import json

    from tracker.zoo import shipped_entry, weights_dir

    entry = shipped_entry("light")
    meta, files = entry["graphs"]["meta"], entry["graphs"]["files"]
    description = {**meta, "config": entry["config"],
                   "template": {**meta["template"], "file": str(weights_dir() / files["template"]["file"])},
                   "search": {**meta["search"], "file": str(weights_dir() / files["search"]["file"])}}
    path = tmp_path / "light.json"
    path.write_text(json.dumps(description))
    return path


@pytest.mark.parametrize("backend", ["onnxruntime", "ort"])
def test_load_exported_tracker_from_the_top_level_api(export_description, backend):
    from tracker import load_exported_tracker, load_tracker
    from tracker.video.demo import generate_clip

    clip = generate_clip(num_frames=5)
    exported = load_exported_tracker(export_description, backend=backend, threads=1)
    assert exported.net.backend == "onnxruntime"  # "ort" is the accepted old spelling
    shipped = load_tracker("light", backend="onnxruntime", threads=1)
    for tracker in (exported, shipped):
        tracker.init(clip.frames[0], clip.boxes[0])
    for frame in clip.frames[1:]:
        assert exported.update(frame).box == pytest.approx(shipped.update(frame).box, abs=1e-3)


def test_load_exported_tracker_default_backend_is_onnxruntime(export_description):
    from tracker import ConfigError, load_exported_tracker

    assert load_exported_tracker(export_description).net.backend == "onnxruntime"
    with pytest.raises(ConfigError, match="onnxruntime, opencv, openvino"):
        load_exported_tracker(export_description, backend="tensorrt")


def test_rate_meter_leaves_out_the_first_update_and_waits_for_a_few():
    from tracker.video.output import RateMeter

    meter = RateMeter(window=4, warmup=3)
    meter.add(1.0)  # the first update: the runtime's set-up, not its speed
    for _ in range(2):
        meter.add(0.01)
        assert meter.fps is None
    meter.add(0.01)
    assert meter.fps == pytest.approx(100.0)
    for seconds in (0.02, 0.02, 0.02, 0.02):
        meter.add(seconds)
    assert meter.fps == pytest.approx(50.0)  # the last 4 updates


def test_the_overlay_shows_no_fps_until_it_is_measured(tmp_path, monkeypatch, capsys):
    """The first frames carried "1 fps" (the first update's set-up) on the annotated video."""
    from tracker.video import cli as track_cli
    from tracker.video.demo import generate_clip

    clip = generate_clip(num_frames=12, width=320, height=240, base_size=(48, 40))
    path = write_clip(tmp_path / "clip.mp4", clip.frames)
    shown = []
    monkeypatch.setattr(track_cli, "draw", lambda frame, targets, fps=None: shown.append(fps) or frame)
    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)
    monkeypatch.chdir(tmp_path)
    box = ",".join(str(v) for v in clip.boxes[0])
    assert main(["track", str(path), "--init", box, "--model", "light", "--save", "out.mp4"]) == 0, capsys.readouterr().err
    assert len(shown) == 12 and shown[:6] == [None] * 6
    assert all(fps > 5 for fps in shown[6:])


@pytest.mark.slow
def test_eval_prints_the_summary_and_runs_no_baseline_unasked(got10k_root, tmp_path, capsys, monkeypatch):
    """`--model` without `--baselines` runs that model alone; the scores are printed without
    --report; report.md has every sequence's scores."""
    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)
    args = ["eval", str(got10k_root), "--model", "light", "--results-dir", str(tmp_path / "R")]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("tracker"))
    assert header.split() == ["tracker", "AUC", "Prec@20", "SR0.5", "SR0.75", "fps"]
    row = next(line for line in out.splitlines() if line.startswith("light "))
    assert len(row.split()) == 6 and 0 <= float(row.split()[1]) <= 1
    assert sorted(p.name for p in (tmp_path / "R").iterdir()) == ["light"]  # no opencv_* unasked
    assert main(args + ["--baselines", "mil", "--report", str(tmp_path / "P")]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("opencv_mil ") for line in out.splitlines())
    report = (tmp_path / "P" / "report.md").read_text()
    for name in ("light", "opencv_mil"):
        section = report.split(f"## {name}: every sequence")[1]
        assert "| sequence | frames | AUC | Prec@20 | SR0.5 | SR0.75 | fps |" in section
        assert all(f"| seq{i} | 11 |" in section for i in (1, 2, 3))


@pytest.mark.slow
def test_a_checkpoint_is_exported_once(random_light_weights, tmp_path, monkeypatch):
    """`--weights` cost seconds of torch import and ONNX export at every start: the graphs are
    kept (keyed by the file's sha256), so the next load reads neither the checkpoint nor torch."""
    import shutil

    from tracker import CheckpointError, load_tracker, zoo
    from tracker.export import cache
    from tracker.video.demo import generate_clip

    monkeypatch.setenv("SIAMTRACK_CACHE", str(tmp_path / "cache"))
    weights = shutil.copy(random_light_weights, tmp_path / "mine.pt")
    clip = generate_clip(num_frames=6)

    def boxes(tracker):
        tracker.init(clip.frames[0], clip.boxes[0])
        return [tracker.update(frame).box for frame in clip.frames[1:]]

    first = boxes(load_tracker(weights=weights, backend="onnxruntime", threads=1))
    class ReadAgain(Exception):
        pass

    def read_again(*args, **kwargs):
        raise ReadAgain

    monkeypatch.setattr(zoo, "load_model", read_again)
    monkeypatch.setattr(cache, "export_and_keep", read_again)
    again = boxes(load_tracker(weights=weights, overrides={"siamrpn.lr": 0.3}, threads=1))
    assert np.allclose(boxes(load_tracker(weights=weights, threads=1)), first)
    assert len(again) == len(first) and not np.allclose(again, first)  # the override applies to the cached graphs
    with pytest.raises(CheckpointError, match="not 'siamfc'"):
        load_tracker("siamfc", weights=weights)
    with open(weights, "ab") as fh:  # other bytes: another checkpoint, exported anew
        fh.write(b"\0")
    with pytest.raises(ReadAgain):
        load_tracker(weights=weights, threads=1)
