"""ONNX export: two graphs that run in onnxruntime and OpenCV DNN with PyTorch's numbers."""
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tracker.export import ExportedNet, export_onnx, export_openvino, load_exported_tracker
from tracker.errors import CheckpointError
from tracker.geometry import iou
from tracker.models import SiameseNet
from tracker.models.checkpoint import save_checkpoint
from tracker.trackers import build_tracker
from tracker.video.demo import generate_clip
from tracker.zoo import load_model, model_config

from conftest import SHARED, boxes_of, track_alone

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.slow  # every test exports a model or runs the CLI in a subprocess
ROOT = Path(__file__).resolve().parents[1]
try:
    import openvino  # noqa: F401

    HAS_OPENVINO = True
except ImportError:
    HAS_OPENVINO = False
BACKENDS = ["onnxruntime", "opencv"] + (["openvino"] if HAS_OPENVINO else [])


def export_all(net, folder, name):
    """ONNX graphs, plus their OpenVINO IR where openvino is installed."""
    paths = export_onnx(net, folder, name)
    return export_openvino(paths) if HAS_OPENVINO else paths


def random_net(name):
    torch.manual_seed(0)
    net = SiameseNet(model_config(name))
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
            m.running_mean.uniform_(-0.3, 0.3)
    return net.eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = {}
    for name in ("light", "siamfc", "siamrpn", "light_fc_fast", "mobilenet_fc"):
        folder = tmp_path_factory.mktemp(name)
        # SiamFC's upsampled response of a random net has near-tied peaks that 1e-6 flips
        # (a track apart within frames, with crops or templates alike): the trained weights
        net = load_model(name).build().eval() if name in ("light_fc_fast", "mobilenet_fc") else random_net(name)
        out[name] = (net, export_all(net, folder, name))
    return out


@pytest.mark.parametrize("name", ["light", "siamfc", "siamrpn"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_graphs_match_pytorch(exported, name, backend):
    net, paths = exported[name]
    cfg = net.config
    size = cfg.siamrpn.instance_size if net.is_rpn else cfg.siamfc.instance_size
    batch = 1 if net.is_rpn else cfg.siamfc.scale_num
    rng = np.random.default_rng(0)
    z, x = rng.uniform(0, 255, (1, 127, 127, 3)).astype(np.float32), rng.uniform(0, 255, (batch, size, size, 3)).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(z).permute(0, 3, 1, 2), torch.from_numpy(x).permute(0, 3, 1, 2))
    runtime = ExportedNet.from_files(paths["config"], backend)
    got = runtime.track(x, *runtime.template(z))  # the numpy interface: NHWC crops in, arrays out
    for a, b in zip(ref, got):
        a = a.numpy()
        assert a.shape == b.shape
        assert np.allclose(a, b, atol=1e-4 * float(np.abs(a).max()), rtol=0)


@pytest.mark.parametrize("name", ["light", "light_fc_fast", "mobilenet_fc"])  # and SiamFC's pyramid of templates
@pytest.mark.parametrize("backend", BACKENDS)
def test_exported_tracker_follows_the_same_track(exported, backend, name):
    """Each tracker runs on its own over the whole clip: outputs ~1e-6 apart must not
    compound into a different track (the centre lives on the crop grid)."""
    net, paths = exported[name]
    clip = generate_clip(num_frames=40)
    ref = boxes_of(track_alone(build_tracker(net, net.config), clip))
    got = boxes_of(track_alone(load_exported_tracker(paths["config"], backend), clip))
    assert np.abs(ref - got).max() < 1e-3


REAL_SEQUENCE = SHARED / "data" / "sot" / "val" / "Crossing"


@pytest.mark.skipif(not REAL_SEQUENCE.is_dir(), reason="../shared/data/sot/val not available")
def test_shipped_light_export_tracks_a_real_clip_like_pytorch(tmp_path):
    from tracker.data.readers import read_got10k_sequence
    from tracker.zoo import load_model, load_tracker

    seq = read_got10k_sequence(REAL_SEQUENCE)
    clip = SimpleNamespace(frames=[seq.frame(i) for i in range(60)])
    paths = export_all(load_model("light").build(), tmp_path, "light")
    ref = boxes_of(track_alone(load_tracker("light", fast=False), clip, seq.init_box))
    for backend in BACKENDS:
        got = boxes_of(track_alone(load_exported_tracker(paths["config"], backend), clip, seq.init_box))
        assert iou(ref, got).min() > 0.999, backend


def export_with_cli(tmp_path, fmt):
    """``siamtrack export`` of a random light checkpoint; the export JSON."""
    ckpt = tmp_path / "light.pt"
    save_checkpoint(ckpt, random_net("light"), {})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tracker", "export", "--weights", str(ckpt), "--format", fmt, "--out", str(tmp_path / "x")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp_path / "x" / "light.json").read_text())


def test_export_cli_writes_two_graphs_and_json(tmp_path):
    meta = export_with_cli(tmp_path, "onnx")
    assert (tmp_path / "x" / meta["template"]["file"]).is_file() and (tmp_path / "x" / meta["search"]["file"]).is_file()
    assert meta["config"]["siamrpn"]["window_influence"] == 0.4


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino not installed")
def test_export_cli_writes_openvino_ir(tmp_path):
    meta = export_with_cli(tmp_path, "openvino")
    for branch in ("template", "search"):
        xml = tmp_path / "x" / meta[branch]["openvino"]
        assert xml.is_file() and xml.with_suffix(".bin").is_file()


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino not installed")
def test_released_openvino_models_leave_signal_handlers_working(exported):
    """OpenVINO's CPU plugin points the thread's signal stack at memory it unmaps when it goes:
    after models compiled here are released (first compiled, first released), a Python signal
    handler (SIGCHLD, as a DataLoader with workers installs) must still run when a child exits."""
    _, paths = exported["light"]
    irs = [paths["template_openvino"], paths["search_openvino"]]
    script = f"""
import gc, signal, subprocess, sys
from pathlib import Path
from tracker.export.openvino import compile_ir
models = [compile_ir(Path(p)) for p in {irs!r}]
del models[0]; gc.collect()
del models[0]; gc.collect()
signal.signal(signal.SIGCHLD, lambda *args: None)
subprocess.run([sys.executable, "-c", "pass"], check=True)
"""
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"rc {proc.returncode}: {proc.stderr[-2000:]}"


def test_openvino_backend_needs_the_ir(exported):
    _, paths = exported["light"]
    meta = json.loads(Path(paths["config"]).read_text())
    meta["template"].pop("openvino", None)
    bare = Path(paths["config"]).with_name("bare.json")
    bare.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="--format openvino"):
        load_exported_tracker(bare, "openvino")


def test_the_json_says_how_to_feed_the_default_models_search_graph(exported):
    """The default model's search graph takes three stacked template kernels: following the
    JSON's recipe with the template graph alone (plain onnxruntime) gives the tracker's kernels."""
    import onnxruntime as ort

    from tracker.geometry import context_size, crop_and_resize
    from tracker.trackers import SiamFCTracker

    net, paths = exported["light_fc_fast"]
    meta = json.loads(Path(paths["config"]).read_text())
    assert meta["template"]["outputs"]["kernel0"] == [1, 96, 8, 8]
    assert meta["search"]["inputs"]["kernel0"] == [1, 288, 8, 8] and meta["search"]["inputs"]["x"] == [1, 3, 255, 255]
    pyramid = meta["scale_pyramid"]
    assert pyramid["scale_search"] == "templates" and pyramid["scale_num"] == 3 and "stacked along channels" in pyramid["usage"]
    clip = generate_clip(num_frames=1)
    tracker = SiamFCTracker(net, net.config)
    state = tracker.new_target(clip.frames[0], clip.boxes[0])
    template = ort.InferenceSession(paths["template"], providers=["CPUExecutionProvider"])
    side = context_size(state.size, net.config.siamfc.context)
    kernels = []
    for f in pyramid["factors"]:
        crop = crop_and_resize(clip.frames[0], state.center, side / f, 127, state.avg_color)
        kernels.append(template.run(None, {"z": crop.transpose(2, 0, 1)[None].astype(np.float32)})[0])
    middle = np.linalg.norm(kernels[len(kernels) // 2])
    stacked = np.concatenate([k * middle / np.linalg.norm(k) for k in kernels], axis=1)
    assert list(stacked.shape) == meta["search"]["inputs"]["kernel0"]
    assert np.allclose(stacked, state.kernels[0], atol=1e-4 * np.abs(stacked).max())
    search = ort.InferenceSession(paths["search"], providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 255, 255)).astype(np.float32)
    assert list(search.run(None, {"x": x, "kernel0": stacked})[0].shape) == meta["search"]["outputs"]["score"]
