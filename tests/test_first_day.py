"""A new user's first-day bad inputs (issue 34): outputs that cannot be written fail before
any work, naming the user's path; overrides of the other tracker's section, duplicate
outputs and zero counts are refused; checkpoint, camera and video errors are one clear line."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from test_cli import cli, one_line_error, siamtrack, siamtrack_env, video, weights_dir  # noqa: F401 (fixtures)
from tracker import CheckpointError, ConfigError, TrackerError, load_tracker


@pytest.fixture
def afile(tmp_path):
    """A regular file: a path under it cannot be written, by root either (permissions would not stop root)."""
    path = tmp_path / "afile"
    path.write_text("not a folder\n")
    return path


def test_output_checks_name_the_path_and_the_reason(afile, tmp_path):
    from tracker import OutputError
    from tracker.outputs import writable_dir, writable_file, writable_video

    with pytest.raises(OutputError, match=f"^--results: cannot write {afile}/out.txt: Not a directory$"):
        writable_file(afile / "out.txt", "--results")
    with pytest.raises(OutputError, match="cannot write .*/deeper/out.txt: Not a directory"):
        writable_file(afile / "deeper" / "out.txt")
    with pytest.raises(OutputError, match="Is a directory"):
        writable_file(tmp_path)
    with pytest.raises(OutputError, match=f"cannot write {afile}: Not a directory"):
        writable_dir(afile)
    with pytest.raises(OutputError, match=r"--save: unknown video extension \.xyz in out\.xyz \(use \.mp4, "):
        writable_video("out.xyz")
    with pytest.raises(OutputError, match=r"--save: a video cannot go to stdout \(-\)"):
        writable_video("-")
    # a folder still to be made is fine, and the check leaves nothing behind
    assert writable_dir(tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert writable_video(tmp_path / "new" / "o.mp4").suffix == ".mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def no_work(*args, **kwargs):
    raise AssertionError("the work started before the outputs were checked")


@pytest.mark.parametrize("args, message", [
    (["--results", "AFILE/out.txt"], "--results: cannot write AFILE/out.txt: Not a directory"),
    (["--save", "AFILE/out.mp4"], "--save: cannot write AFILE/out.mp4: Not a directory"),
    (["--save", "out.xyz"], "--save: unknown video extension .xyz in out.xyz (use .mp4, .m4v, .mov, .avi, .mkv)"),
    (["--save", "-"], "--save: a video cannot go to stdout (-)"),
    (["--results", "-", "--results", "x.txt"], "--results given twice (- and x.txt)"),
])
def test_track_outputs_are_checked_before_tracking(cli, video, afile, monkeypatch, args, message):
    import tracker.video.cli

    monkeypatch.setattr(tracker.video.cli, "track_video", no_work)
    code, _, err = cli(["track", video[0], "--init", "10,10,40,40"] + [a.replace("AFILE", str(afile)) for a in args])
    line = one_line_error(code, err)
    assert message.replace("AFILE", str(afile)) in line and ".tmp" not in line


@pytest.mark.parametrize("option", ["--report", "--results-dir"])
def test_eval_outputs_are_checked_before_the_first_sequence(cli, got10k_root, afile, tmp_path, monkeypatch, option):
    import tracker.eval.experiment

    monkeypatch.setattr(tracker.eval.experiment, "run_experiment", no_work)
    args = {"--results-dir": str(tmp_path / "res"), "--report": None}
    args[option] = str(afile / "out")
    argv = ["eval", got10k_root, "--baselines", "none"] + [x for k, v in args.items() if v for x in (k, v)]
    assert f"{option}: cannot write {afile}/out: Not a directory" in one_line_error(*cli(argv)[::2])


def test_track_results_error_names_the_file_not_its_temporary(tmp_path, afile):
    from tracker import OutputError
    from tracker.video.output import ResultsFile
    from tracker.video.pipeline import TargetResult

    results = ResultsFile(str(afile / "r.txt"))  # the check skipped: the final write fails, and says where
    results.add([TargetResult(id=0, frame=0, time=0.0, box=(1.0, 2.0, 3.0, 4.0), score=1.0, ok=True)])
    with pytest.raises(OutputError, match=f"^cannot write {afile}/r.txt: Not a directory$"):
        results.close({})


@pytest.mark.parametrize("argv, message", [
    (["track", "VIDEO", "--init", "10,10,40,40", "--set", "siamfc.scale_lr=0.5"],
     "siamfc.scale_lr: siamfc.* does not apply to model light (a siamrpn tracker)"),
    (["eval", "DATASET", "--results-dir", "r", "--baselines", "none", "--set", "siamfc.scale_lr=0.5"],
     "siamfc.* does not apply to model light (a siamrpn tracker)"),
])
def test_overrides_of_the_other_trackers_section_are_refused(cli, video, got10k_root, argv, message):
    subs = {"VIDEO": video[0], "DATASET": got10k_root}
    assert message in one_line_error(*cli([subs.get(a, a) for a in argv])[::2])


def test_api_refuses_other_section_overrides_and_zero_threads():
    with pytest.raises(ConfigError, match=r"siamrpn.\* does not apply to model mobilenet_fc \(a siamfc tracker\)"):
        load_tracker("mobilenet_fc", overrides={"siamrpn.lr": 0.4})
    for bad in (0, -2, 1.5, True):
        with pytest.raises(TrackerError, match="threads must be a whole number >= 1"):
            load_tracker("mobilenet_fc", threads=bad)


def test_eval_of_several_models_gives_each_its_own_section():
    from tracker.eval.cli import model_overrides

    shares = model_overrides(["mobilenet_fc", "siamrpn"], None, {"siamrpn.lr": 0.2, "lost.threshold": 0.5})
    assert shares == {"mobilenet_fc": {"lost.threshold": 0.5}, "siamrpn": {"siamrpn.lr": 0.2, "lost.threshold": 0.5}}
    with pytest.raises(ConfigError, match=r"siamrpn.lr: no model of this run is a siamrpn tracker \(mobilenet_fc, siamfc\)"):
        model_overrides(["mobilenet_fc", "siamfc"], None, {"siamrpn.lr": 0.2})


@pytest.fixture
def bad_checkpoints(tmp_path):
    from tracker.models import SiameseNet
    from tracker.zoo import model_config

    state = tmp_path / "state.pt"  # what `siamtrack train` saves for --resume
    net = SiameseNet(model_config("light"))
    torch.save({"net": net.state_dict(), "optimizer": {}, "epoch": 0, "iteration": 3, "model_config": {"name": "light"}}, state)
    noise = tmp_path / "noise.pt"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return state, noise


def test_checkpoint_messages(bad_checkpoints):
    from tracker.models.checkpoint import load_checkpoint

    state, noise = bad_checkpoints
    with pytest.raises(CheckpointError, match="is a training state .* use model_best.pt or model_last.pt"):
        load_checkpoint(state)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(noise)
    message = str(caught.value)
    assert message == f"{noise} is not a readable checkpoint (truncated, corrupt or not a torch file)"
    assert "weights_only" not in message and "\n" not in message


def test_eval_reads_the_weights_before_warning_about_re_runs(cli, got10k_root, bad_checkpoints, tmp_path, monkeypatch):
    import tracker.eval.experiment

    monkeypatch.setattr(tracker.eval.experiment, "run_experiment", no_work)  # where the re-run warning comes from
    _, noise = bad_checkpoints
    old = tmp_path / "r" / "custom" / "seq1"  # results of another model: today's code warns, then fails
    old.mkdir(parents=True)
    (old / "seq1_001.txt").write_text("1,1,5,5\n")
    code, _, err = cli(["eval", got10k_root, "--weights", noise, "--results-dir", tmp_path / "r", "--baselines", "none"])
    assert "not a readable checkpoint" in one_line_error(code, err)


def test_eval_error_is_not_glued_to_the_progress_bar(cli, got10k_root, tmp_path, monkeypatch):
    import tracker.eval.experiment

    def failing(spec, seq, results_dir, max_threads=None):
        raise TrackerError(f"{seq.name}: frame 3 cannot be decoded")

    monkeypatch.setattr(tracker.eval.experiment, "track_one", failing)
    code, _, err = cli(["eval", got10k_root, "--results-dir", tmp_path / "r", "--baselines", "none"])
    assert code == 2
    assert err.split("\n")[-2] == "error: seq1: frame 3 cannot be decoded", err  # its own line, after the bar's


def test_camera_and_corrupt_video_print_only_our_line(tmp_path, weights_dir):
    proc = siamtrack(["track", "7", "--init", "1,1,5,5"], tmp_path, weights_dir)
    assert proc.returncode == 2 and proc.stderr.splitlines() == ["error: cannot open camera 7 (no such camera?)"], proc.stderr
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    code = ("from tracker import SourceError, track_video\n"
            "try:\n    track_video('bad.mp4', [(1, 1, 5, 5)])\nexcept SourceError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=siamtrack_env(weights_dir), capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.strip() == "cannot open video 'bad.mp4'" and proc.stderr == "", proc.stderr
