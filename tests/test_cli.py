"""The `siamtrack` command end to end: demo, real video file, results, errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import ship
from tracker.models import SiameseNet
from tracker.video.demo import generate_clip
from tracker.zoo import model_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """A shipped-weights folder with an untrained light model (the CLI's plumbing, not accuracy)."""
    return ship(tmp_path_factory.mktemp("weights"), "light", SiameseNet(model_config("light")).eval())


def write_video(path, frames, fps=30):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frames[0].shape[1], frames[0].shape[0]))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def read_video(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (frame := cap.read()[1]) is not None:
        frames.append(frame)
    cap.release()
    return frames


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    clip = generate_clip(num_frames=30, width=320, height=240, base_size=(48, 40))
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4", clip.frames, fps=25), clip


def siamtrack_env(weights_dir):
    """For ``python -m tracker`` in a subprocess: this checkout's code, the test weights."""
    return dict(os.environ, SIAMTRACK_WEIGHTS=str(weights_dir), PYTHONPATH=str(ROOT))


def siamtrack(args, cwd, weights_dir):
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, env=siamtrack_env(weights_dir), capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def cli(weights_dir, tmp_path, monkeypatch, capsys):
    """``siamtrack ARGS`` in this process, in tmp_path: (exit code, stdout, stderr)."""
    from tracker.cli import main

    monkeypatch.setenv("SIAMTRACK_WEIGHTS", str(weights_dir))
    monkeypatch.chdir(tmp_path)

    def run(args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line_error(code, err):
    """What every bad input must give: exit code 2 and one line on stderr, no traceback."""
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    return lines[0]


def count_frames(path):
    return len(read_video(path))


def test_no_arguments_runs_the_embedded_demo(cli, tmp_path):
    code, out, err = cli([])
    assert code == 0, err
    assert "fps" in out
    video, results = tmp_path / "runs/track/demo.mp4", tmp_path / "runs/track/demo.txt"
    assert count_frames(video) == 120
    assert len(results.read_text().splitlines()) == 120


def test_video_file_with_results_and_save(cli, tmp_path, video):
    path, clip = video
    x, y, w, h = clip.boxes[0]
    code, _, err = cli(["track", path, "--init", f"{x},{y},{w},{h}", "--results", "r.txt", "--save", "o.mp4"])
    assert code == 0, err
    lines = (tmp_path / "r.txt").read_text().splitlines()
    assert len(lines) == 30
    assert np.allclose([float(v) for v in lines[0].split(",")], clip.boxes[0], atol=1e-3)
    assert count_frames(tmp_path / "o.mp4") == 30


def test_json_results_and_image_folder(cli, tmp_path, video):
    _, clip = video
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(clip.frames[:10]):
        cv2.imwrite(str(folder / f"{i:04d}.jpg"), f)
    x, y, w, h = clip.boxes[0]
    code, _, err = cli(["track", folder / "*.jpg", "--init", f"{x},{y},{w},{h}", "--results", "r.json"])
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text())
    # one target has the shape of several (docs/results.md): a list of targets in every frame
    assert len(data["frames"]) == 10 and data["targets"] == 1
    assert all(list(f) == ["frame", "time", "targets"] and len(f["targets"]) == 1 for f in data["frames"])
    assert set(data["frames"][1]["targets"][0]) == {"id", "box", "score", "ok"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["track", "missing.mp4", "--init", "1,1,5,5"], "not found"),
        (["track", "99", "--init", "1,1,5,5"], "camera"),
        (["track", "VIDEO"], "--init"),
        (["track", "VIDEO", "--init", "1,2,3"], "4 numbers"),
        (["track", "VIDEO", "--init", "1,1,0,5"], "positive width"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--select"], "both"),
        (["track", "VIDEO", "--show", "--init", "1,1,5,5"], "display"),
        (["track", "--model", "nosuchmodel"], "unknown model"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--device", "cuda"], "no CUDA device"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--device", "foo"], "unknown device 'foo'"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--half"], "half"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--config", "nope.yaml"], "config file not found: nope.yaml"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--config", "BAD_YAML"], "not valid YAML at line 1"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--set", "siamfc.scale_lr=abc"], "siamfc.scale_lr must be of type float, got 'abc'"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--set", "siamrpn.nope=1"], "unknown config key"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--results", "x.csv"], ".txt or .json file, or -"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--max-frames", "0"], "must be >= 1"),
        (["train", "--config", "nope.yaml", "--out", "run"], "config file not found: nope.yaml"),
        (["eval", "DATASET", "--sequences", "Nope", "--results-dir", "r", "--baselines", "none"], "no sequence Nope"),
        (["eval", "DATASET", "--results-dir", "r", "--workers"], "expected one argument"),
        (["eval", "DATASET", "--results-dir", "r", "--workers", "0"], "must be >= 1"),
        (["eval", "DATASET", "--results-dir", "r", "--model", "nosuchmodel"], "unknown model"),
        (["eval", "DATASET", "--results-dir", "r", "--baselines", "foo"], "unknown baseline 'foo'"),
        (["eval", "DATASET", "--results-dir", "r", "--set", "siamrpn.nope=1"], "unknown config key"),
        (["track", "VIDEO", "--init", "5000,5000,10,10"], "outside"),
        (["track", "VIDEO", "--init", "1,1,5,5", "--weights", "nope.pt"], "checkpoint not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(cli, video, got10k_root, tmp_path, monkeypatch, args, message):
    import torch

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a CPU machine, wherever the tests run
    (tmp_path / "bad.yaml").write_text("siamrpn: lr: 0.4\n")
    subs = {"VIDEO": video[0], "BAD_YAML": tmp_path / "bad.yaml", "DATASET": got10k_root}
    code, _, err = cli([subs.get(a, a) for a in args])
    line = one_line_error(code, err)
    assert message in line


@pytest.mark.parametrize("args, message", [
    (["track", "missing.mp4", "--init", "1,1,5,5"], "not found"),
    (["track", "VIDEO", "--init", "1,2,3"], "4 numbers"),
    (["track", "VIDEO", "--init", "5000,5000,10,10"], "outside"),
    (["track", "VIDEO", "--init", "1,1,5,5", "--model", "nosuchmodel"], "unknown model"),
    (["track", "VIDEO", "--init", "1,1,5,5", "--set", "siamrpn.nope=1"], "unknown config key"),
    (["eval", "DATASET", "--results-dir", "r", "--baselines", "none", "--set", "siamrpn.lr=abc"], "must be of type float"),
])
def test_arguments_are_checked_before_the_model_loads(cli, video, got10k_root, monkeypatch, args, message):
    import tracker.zoo

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(tracker.zoo, "load_tracker", no_loading)
    code, _, err = cli([{"VIDEO": video[0], "DATASET": got10k_root}.get(a, a) for a in args])
    assert message in one_line_error(code, err)


def test_negative_coordinates_after_init(cli, video):
    """``--init -5,-5,20,20`` (a box that starts left of and above the frame) is a box, not an option."""
    code, _, err = cli(["track", video[0], "--init", "-5,-5,20,20", "--results", "r.txt", "--max-frames", "3"])
    assert code == 0, err
    assert open("r.txt").readline().strip() == "-5.000,-5.000,20.000,20.000"


def test_unreadable_video(tmp_path, weights_dir):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    proc = siamtrack(["track", str(bad), "--init", "1,1,5,5"], tmp_path, weights_dir)
    # FFmpeg's own "[mov,mp4,...] moov atom not found" is silenced: our line says it
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [f"error: cannot open video {str(bad)!r}"]


def test_api_check_script(weights_dir):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/check_api.py")], env=siamtrack_env(weights_dir), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout


SHARED_VIDEOS = ROOT.parent / "shared" / "data" / "videos"


@pytest.mark.skipif(not (SHARED_VIDEOS / "opencv_vtest.mp4").is_file(), reason="../shared/data/videos not available")
def test_real_video_from_shared(cli, tmp_path):
    path = SHARED_VIDEOS / "opencv_vtest.mp4"
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    code, _, err = cli(["track", path, "--init", "157,137,22,56", "--results", "r.txt", "--save", "o.mp4"])
    assert code == 0, err
    assert len((tmp_path / "r.txt").read_text().splitlines()) == n
    assert count_frames(tmp_path / "o.mp4") == n


def test_hyper_parameters_from_yaml_and_set(cli, tmp_path, video):
    path, clip = video
    (tmp_path / "hp.yaml").write_text("siamrpn: {lr: 0.0, window_influence: 0.5}\n")
    x, y, w, h = clip.boxes[0]
    code, _, err = cli(["track", path, "--init", f"{x},{y},{w},{h}", "--config", "hp.yaml", "--set", "siamrpn.penalty_k=0.2",
                        "--results", "r.txt", "--max-frames", "5"])
    assert code == 0, err
    boxes = np.loadtxt(tmp_path / "r.txt", delimiter=",")
    assert len(boxes) == 5
    assert np.allclose(boxes[:, 2:], boxes[0, 2:])  # lr 0: the size never changes


@pytest.mark.slow
def test_ctrl_c_still_closes_the_output_files(tmp_path, weights_dir):
    import signal
    import time

    clip = generate_clip(num_frames=600, width=320, height=240, base_size=(48, 40))
    folder = tmp_path / "long"
    folder.mkdir()
    for i, f in enumerate(clip.frames):
        cv2.imwrite(str(folder / f"{i:05d}.jpg"), f)
    x, y, w, h = clip.boxes[0]
    env = siamtrack_env(weights_dir)
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "track", str(folder), "--init", f"{x},{y},{w},{h}",
                             "--results", "r.txt", "--save", "o.mp4"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "o.mp4").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    n = len((tmp_path / "r.txt").read_text().splitlines())
    assert 0 < n < 600
    assert count_frames(tmp_path / "o.mp4") == n


def box_arg(box):
    return ",".join(f"{v:g}" for v in box)


@pytest.mark.slow
def test_three_targets_from_the_command_line(tmp_path, monkeypatch, capsys):
    """The shipped default model follows three objects, one batched pool, one results file
    each; the written video draws each in its own colour."""
    from tracker.cli import main
    from tracker.geometry import iou
    from tracker.video.demo import generate_targets_clip
    from tracker.video.output import PALETTE

    monkeypatch.delenv("SIAMTRACK_WEIGHTS", raising=False)  # the real shipped weights
    monkeypatch.chdir(tmp_path)
    clip = generate_targets_clip(num_targets=3, num_frames=60)
    write_video(tmp_path / "three.mp4", clip.frames)
    inits = [a for k in range(3) for a in ("--init", box_arg(clip.boxes[k][0]))]
    assert main(["track", "three.mp4", *inits, "--results", "r.txt", "--save", "o.mp4"]) == 0
    assert "tracked 3 targets in 60 frames" in capsys.readouterr().out
    assert not (tmp_path / "r.txt").exists()
    tracks = [np.loadtxt(tmp_path / f"r_{k}.txt", delimiter=",") for k in range(3)]
    for k, track in enumerate(tracks):
        assert track.shape == (60, 4)
        assert iou(track, clip.boxes[k]).mean() >= 0.7, k
    written = read_video(tmp_path / "o.mp4")
    assert len(written) == 60
    for t in (15, 45):
        colours = []
        for k, track in enumerate(tracks):
            x0, y0, x1, y1 = (int(round(v)) for v in (track[t, 0], track[t, 1], track[t, 0] + track[t, 2], track[t, 1] + track[t, 3]))
            f = written[t].astype(int)
            edge = np.concatenate([f[y0, x0 + 3 : x1 - 3], f[y1, x0 + 3 : x1 - 3], f[y0 + 3 : y1 - 3, x0], f[y0 + 3 : y1 - 3, x1]])
            colours.append(np.median(edge, axis=0))
            assert np.abs(colours[-1] - PALETTE[k]).max() < 40, (t, k, colours[-1])
        assert min(np.abs(a - b).max() for i, a in enumerate(colours) for b in colours[i + 1 :]) > 150


def test_results_per_target_as_json_and_json_lines(cli, video):
    path, clip = video
    inits = ["--init", box_arg(clip.boxes[0]), "--init", "10,10,30,30"]
    code, out, err = cli(["track", path, *inits, "--results", "r.json", "--max-frames", "5"])
    assert code == 0, err
    data = json.loads(open("r.json").read())
    assert data["targets"] == 2 and data["dropped_frames"] == 0 and len(data["frames"]) == 5
    assert [t["id"] for t in data["frames"][3]["targets"]] == [0, 1] and data["frames"][3]["frame"] == 3
    assert data["frames"][0]["targets"][1]["box"] == [10, 10, 30, 30]
    code, out, err = cli(["track", path, *inits, "--results", "-", "--max-frames", "5"])
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]  # stdout holds the JSON lines and nothing else
    assert [(r["frame"], r["id"]) for r in lines] == [(i, k) for i in range(5) for k in (0, 1)]
    assert set(lines[0]) == {"frame", "time", "id", "box", "score", "ok"} and lines[2]["time"] == pytest.approx(1 / 25)
    assert [r["box"] for r in lines] == [t["box"] for f in data["frames"] for t in f["targets"]]
    assert "tracked 2 targets in 5 frames" in err  # the summary goes to stderr


def test_json_lines_arrive_while_the_process_runs(tmp_path, weights_dir):
    """A program reading ``--results -`` gets each frame's line as the frame is done: the
    first lines are read while the process still has far more to write than a pipe holds;
    closing the pipe early ends the process cleanly."""
    clip = generate_clip(num_frames=1500, width=192, height=144, base_size=(36, 28))
    path = write_video(tmp_path / "long.mp4", clip.frames)
    env = siamtrack_env(weights_dir)
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "track", str(path), "--init", box_arg(clip.boxes[0]), "--results", "-"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = [json.loads(proc.stdout.readline()) for _ in range(3)]
        assert proc.poll() is None  # 1500 lines (~150 KB) are more than the pipe holds: it cannot have finished
        assert [r["frame"] for r in first] == [0, 1, 2] and first[0]["box"] == [round(v, 3) for v in clip.boxes[0]]
        proc.stdout.close()  # the reader goes away, like `| head -3`
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0, err
    finally:
        proc.kill()
    assert "Traceback" not in err and "tracked" in err


def test_live_source_reports_dropped_frames(cli, monkeypatch):
    """A camera faster than the tracker: the run says how many frames it skipped."""
    import time

    from tracker.video import pipeline
    from tracker.video.sources import LiveSource

    frames = iter(generate_clip(num_frames=120, width=320, height=240, base_size=(48, 40)).frames)

    def camera():  # 500 fps: faster than any tracker here
        time.sleep(0.002)
        return next(frames, None)

    monkeypatch.setattr(pipeline, "open_source", lambda source: LiveSource(camera, "fake camera"))
    code, out, err = cli(["track", "rtsp://camera/stream", "--init", "100,100,48,40", "--results", "r.json"])
    assert code == 0, err
    data = json.loads(open("r.json").read())
    assert data["dropped_frames"] > 0 and data["frames"][-1]["frame"] == 119
    assert len(data["frames"]) + data["dropped_frames"] == 120
    assert f"dropped {data['dropped_frames']} frames" in out
