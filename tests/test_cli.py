"""The `siamtrack` command end to end: demo, real video file, results, errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.models import SiameseNet
from tracker.models.checkpoint import save_checkpoint, sha256_of
from tracker.video.demo import generate_clip
from tracker.zoo import model_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """A shipped-weights folder with an untrained light model (the CLI's plumbing, not accuracy)."""
    folder = tmp_path_factory.mktemp("weights")
    save_checkpoint(folder / "light.pt", SiameseNet(model_config("light")), {})
    manifest = {"models": {"light": {"file": "light.pt", "sha256": sha256_of(folder / "light.pt")}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    clip = generate_clip(num_frames=30, width=320, height=240, base_size=(48, 40))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 240))
    for f in clip.frames:
        writer.write(f)
    writer.release()
    return path, clip


def siamtrack(args, cwd, weights_dir):
    env = dict(os.environ, SIAMTRACK_WEIGHTS=str(weights_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def count_frames(path):
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def test_no_arguments_runs_the_embedded_demo(tmp_path, weights_dir):
    proc = siamtrack([], tmp_path, weights_dir)
    assert proc.returncode == 0, proc.stderr
    assert "fps" in proc.stdout
    video, results = tmp_path / "runs/track/demo.mp4", tmp_path / "runs/track/demo.txt"
    assert count_frames(video) == 120
    assert len(results.read_text().splitlines()) == 120


def test_video_file_with_results_and_save(tmp_path, weights_dir, video):
    path, clip = video
    x, y, w, h = clip.boxes[0]
    proc = siamtrack(["track", str(path), "--init", f"{x},{y},{w},{h}", "--results", "r.txt", "--save", "o.mp4"], tmp_path, weights_dir)
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "r.txt").read_text().splitlines()
    assert len(lines) == 30
    assert np.allclose([float(v) for v in lines[0].split(",")], clip.boxes[0], atol=1e-3)
    assert count_frames(tmp_path / "o.mp4") == 30


def test_json_results_and_image_folder(tmp_path, weights_dir, video):
    _, clip = video
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(clip.frames[:10]):
        cv2.imwrite(str(folder / f"{i:04d}.jpg"), f)
    x, y, w, h = clip.boxes[0]
    proc = siamtrack(["track", str(folder / "*.jpg"), "--init", f"{x},{y},{w},{h}", "--results", "r.json"], tmp_path, weights_dir)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert len(data["frames"]) == 10 and {"box", "score", "ok"} <= set(data["frames"][1])


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
    ],
)
def test_cli_errors_are_clear(tmp_path, weights_dir, video, args, message):
    args = [str(video[0]) if a == "VIDEO" else a for a in args]
    env_display = os.environ.pop("DISPLAY", None)
    try:
        proc = siamtrack(args, tmp_path, weights_dir)
    finally:
        if env_display is not None:
            os.environ["DISPLAY"] = env_display
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreadable_video(tmp_path, weights_dir):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    proc = siamtrack(["track", str(bad), "--init", "1,1,5,5"], tmp_path, weights_dir)
    assert proc.returncode == 2 and "bad.mp4" in proc.stderr and "Traceback" not in proc.stderr


def test_api_check_script(weights_dir):
    env = dict(os.environ, SIAMTRACK_WEIGHTS=str(weights_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/check_api.py")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout


SHARED_VIDEOS = ROOT.parent / "shared" / "data" / "videos"


@pytest.mark.skipif(not (SHARED_VIDEOS / "opencv_vtest.mp4").is_file(), reason="../shared/data/videos not available")
def test_real_video_from_shared(tmp_path, weights_dir):
    path = SHARED_VIDEOS / "opencv_vtest.mp4"
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    proc = siamtrack(["track", str(path), "--init", "157,137,22,56", "--results", "r.txt", "--save", "o.mp4"], tmp_path, weights_dir)
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "r.txt").read_text().splitlines()) == n
    assert count_frames(tmp_path / "o.mp4") == n


def test_hyper_parameters_from_yaml_and_set(tmp_path, weights_dir, video):
    path, clip = video
    (tmp_path / "hp.yaml").write_text("siamrpn: {lr: 0.0, window_influence: 0.5}\n")
    x, y, w, h = clip.boxes[0]
    proc = siamtrack(["track", str(path), "--init", f"{x},{y},{w},{h}", "--config", "hp.yaml", "--set", "siamrpn.penalty_k=0.2",
                      "--results", "r.txt", "--max-frames", "5"], tmp_path, weights_dir)
    assert proc.returncode == 0, proc.stderr
    boxes = np.loadtxt(tmp_path / "r.txt", delimiter=",")
    assert len(boxes) == 5
    assert np.allclose(boxes[:, 2:], boxes[0, 2:])  # lr 0: the size never changes
    bad = siamtrack(["track", str(path), "--init", "1,1,5,5", "--set", "siamrpn.nope=1"], tmp_path, weights_dir)
    assert bad.returncode == 2 and "unknown config key" in bad.stderr


def test_ctrl_c_still_closes_the_output_files(tmp_path, weights_dir):
    import signal
    import time

    clip = generate_clip(num_frames=600, width=320, height=240, base_size=(48, 40))
    folder = tmp_path / "long"
    folder.mkdir()
    for i, f in enumerate(clip.frames):
        cv2.imwrite(str(folder / f"{i:05d}.jpg"), f)
    x, y, w, h = clip.boxes[0]
    env = dict(os.environ, SIAMTRACK_WEIGHTS=str(weights_dir), PYTHONPATH=str(ROOT))
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
