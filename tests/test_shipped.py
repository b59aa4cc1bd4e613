"""The shipped models load from the manifest and their shipped graphs: each graph is what
the project's export makes of its checkpoint, and loading needs neither an export nor torch."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conftest import boxes_of, track_alone
from tracker import TrackerPool
from tracker.export.runtime import ExportedNet
from tracker.video.demo import generate_clip
from tracker.zoo import list_models, load_model, load_tracker, manifest, shipped_config, weights_dir

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = list_models()


def random_batch(shape, seed):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype(np.float32)


def test_every_shipped_model_ships_its_graphs_within_the_size_budget():
    from tracker.digest import sha256_of

    total = 0
    for name in SHIPPED:
        entry = manifest()["models"][name]
        graphs = entry["graphs"]
        assert graphs["weights_sha256"] == entry["sha256"]  # exported from the shipped weights
        roles = {"template", "search", "data"} | ({"search_one_target"} if entry["config"]["head"]["kind"] != "rpn_pixelwise" else set())
        assert set(graphs["files"]) == roles
        for record in graphs["files"].values():
            path = weights_dir() / record["file"]
            assert path.stat().st_size == record["bytes"] and sha256_of(path) == record["sha256"]
            total += record["bytes"]
    assert total < 40e6


@pytest.mark.parametrize("name", SHIPPED)
def test_manifest_config_is_the_checkpoints(name):
    assert shipped_config(name) == load_model(name).config


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.slow
def test_shipped_graphs_are_the_export_of_the_checkpoint(name):
    """Re-export the .pt in memory (what the shipped files were made by) and compare outputs
    for one target and for two (a pool's call)."""
    entry = manifest()["models"][name]
    shipped = ExportedNet.from_shipped(entry["graphs"], entry["config"], weights_dir(), threads=1)
    fresh = ExportedNet.from_network(load_model(name).build(), threads=1)
    cfg = shipped.config
    size = cfg.tracking.instance_size
    for targets in (1, 2):
        z = random_batch((targets * cfg.kernels_per_target, cfg.tracking.exemplar_size, cfg.tracking.exemplar_size, 3), targets)
        x = random_batch((targets * cfg.crops_per_frame, size, size, 3), targets + 10)
        kernels = [shipped.template(z), fresh.template(z)]
        for a, b in zip(*kernels):
            assert np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max())
        per_target = tuple(k.reshape(targets, -1, *k.shape[2:]) for k in kernels[0])
        for a, b in zip(shipped.track(x, *per_target), fresh.track(x, *per_target)):
            assert a.shape == b.shape
            assert np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max())


@pytest.mark.parametrize("name", [n for n in list_models() if "search_one_target" in manifest()["models"][n]["graphs"]["files"]])
def test_a_pool_call_on_the_one_target_graph_equals_the_free_batch_graph(name):
    """Several targets run the static one-target graph once each (faster on the CPU): the same
    outputs as the free-batch graph's single call."""
    entry = manifest()["models"][name]
    net = ExportedNet.from_shipped(entry["graphs"], entry["config"], weights_dir(), threads=1)
    cfg, targets = net.config, 3
    z = random_batch((targets * cfg.kernels_per_target, cfg.tracking.exemplar_size, cfg.tracking.exemplar_size, 3), 1)
    x = random_batch((targets * cfg.crops_per_frame, cfg.tracking.instance_size, cfg.tracking.instance_size, 3), 2)
    kernels = tuple(k.reshape(targets, -1, *k.shape[2:]) for k in net.template(z))
    inputs = {"x": net._pixels(x), **dict(zip(net.kernel_names, kernels))}
    batched = net._run(net._general_search(), inputs, net.output_names)
    looped = net.track(x, *kernels)
    for a, b in zip(batched, looped):
        assert a.shape == b.shape
        assert np.allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max())


def test_shipped_graphs_track_like_torch():
    """The default model on its shipped graphs and on PyTorch: the same boxes."""
    clip = generate_clip(num_frames=40)
    ref = boxes_of(track_alone(load_tracker(backend="torch"), clip))
    got = boxes_of(track_alone(load_tracker(backend="onnxruntime"), clip))
    assert np.abs(ref - got).max() < 1e-3


@pytest.mark.slow
def test_overrides_that_change_the_graphs_shapes_export_in_memory():
    tracker = load_tracker("mobilenet_fc", overrides={"siamfc.scale_search": "crops"})
    clip = generate_clip(num_frames=3)
    assert len(track_alone(tracker, clip)) == 2


# a Python where `import torch` fails, as in an install without the torch extra
NO_TORCH = "import sys; sys.modules['torch'] = None; sys.modules['onnx'] = None\n"


def run_python(code, env=None):
    """``code`` without torch, and with an empty graph cache (a cached export needs no torch)."""
    with tempfile.TemporaryDirectory() as cache:
        return subprocess.run([sys.executable, "-c", NO_TORCH + code], capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, PYTHONPATH=str(ROOT), SIAMTRACK_CACHE=cache, **(env or {})))


def test_import_tracker_does_not_import_torch():
    proc = subprocess.run([sys.executable, "-c", "import sys, tracker, tracker.export, tracker.cli; tracker.cli.build_parser(); "
                           "print(sorted(m for m in ('torch', 'onnx') if m in sys.modules))"],
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
def test_every_shipped_model_tracks_without_torch():
    clip = generate_clip(num_frames=4)
    code = f"""
import json
from tracker import TrackerPool, list_models, load_tracker
from tracker.video.demo import generate_clip
clip = generate_clip(num_frames=4)
out = {{}}
for name in list_models():
    t = load_tracker(name)
    t.init(clip.frames[0], clip.boxes[0])
    pool = TrackerPool(load_tracker(name))
    pool.add(clip.frames[0], clip.boxes[0])
    pool.add(clip.frames[0], (10, 10, 40, 40))
    out[name] = [[t.update(f).box, [r.box for r in pool.update(f).values()]] for f in clip.frames[1:]]
print(json.dumps(out))
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert sorted(got) == SHIPPED
    for name in SHIPPED:  # the onnxruntime tracker of this process, torch loaded: the same boxes
        ref = boxes_of(track_alone(load_tracker(name, backend="onnxruntime"), clip))
        assert np.allclose([single for single, _ in got[name]], ref, atol=1e-6)
        assert np.allclose([pooled[0] for _, pooled in got[name]], ref, atol=1e-3)  # pool == independent tracker


@pytest.mark.parametrize("call, feature", [
    ("load_tracker(backend='torch')", "backend='torch'"),
    ("load_tracker(fast=False)", "fast=False"),
    ("load_tracker(device='cuda')", "device 'cuda'"),
    ("load_tracker(weights=WEIGHTS)", "reading the checkpoint"),
    ("load_tracker('mobilenet_fc', overrides={'siamfc.scale_search': 'crops'})", "in-memory export"),
    ("__import__('tracker.export', fromlist=['x']).export_onnx", "ONNX export"),
])
def test_torch_features_without_torch_are_one_clear_error(call, feature):
    weights = str(weights_dir() / "light.pt")
    proc = run_python(f"from tracker import load_tracker, MissingDependencyError\nWEIGHTS = {weights!r}\n"
                      f"try:\n    {call}\nexcept MissingDependencyError as exc:\n    print(exc)\n")
    assert proc.returncode == 0, proc.stderr
    assert feature in proc.stdout and 'siamtrack[torch]' in proc.stdout and len(proc.stdout.strip().splitlines()) == 1


@pytest.mark.parametrize("args, feature", [
    (["train", "--config", "configs/train/light.yaml", "--out", "run"], "siamtrack train"),
    (["export"], "siamtrack export"),
    (["convert", "x.pth", "--layout", "siamfc-pytorch", "--out", "y.pt"], "siamtrack convert"),
    (["track", "--backend", "torch"], "backend='torch'"),
])
def test_cli_torch_features_without_torch_exit_2(args, feature):
    proc = run_python(f"from tracker.cli import main; raise SystemExit(main({args!r}))")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and feature in lines[0] and "siamtrack[torch]" in lines[0]


@pytest.mark.parametrize("name", ["mobilenet_fc", "light16"])  # the one-target graph, and the free-batch one alone
def test_shipped_graphs_in_openvino_track_like_onnxruntime(name):
    """backend='openvino' runs the same shipped ONNX files in OpenVINO (fp32): the same boxes,
    alone and in a pool."""
    pytest.importorskip("openvino")
    clip = generate_clip(num_frames=30)
    ort_boxes = boxes_of(track_alone(load_tracker(name, backend="onnxruntime"), clip))
    tracker = load_tracker(name, backend="openvino")
    assert tracker.net.backend == "openvino"
    assert np.abs(boxes_of(track_alone(tracker, clip)) - ort_boxes).max() < 1e-3
    pool = TrackerPool(load_tracker(name, backend="openvino"))
    ids = [pool.add(clip.frames[0], clip.boxes[0]) for _ in range(2)]
    pooled = [pool.update(f) for f in clip.frames[1:]]
    for i in ids:
        assert np.abs(np.array([r[i].box for r in pooled]) - ort_boxes).max() < 1e-3


def test_default_model_runs_in_openvino_where_installed_without_pinned_threads():
    """The default model's auto runtime is OpenVINO when the extra is installed, and its
    threads are not pinned to cores (pinned, two processes both ran on the first core)."""
    pytest.importorskip("openvino")
    tracker = load_tracker()
    assert tracker.net.backend == "openvino"
    for threads in (1, 2):
        tracker.net.set_threads(threads)
        compiled = tracker.net._one_target
        assert compiled.get_property("ENABLE_CPU_PINNING") is False
        assert compiled.get_property("INFERENCE_NUM_THREADS") == threads


def test_openvino_backend_errors_and_fallback(monkeypatch, random_light_weights):
    """Explicit openvino off the shipped graphs is one clear error; a config asking for
    openvino falls back to onnxruntime where OpenVINO is not installed, and an explicit
    request there names the extra."""
    import tracker.zoo as zoo
    from tracker import ConfigError, MissingDependencyError

    pytest.importorskip("openvino")
    with pytest.raises(ConfigError, match="shipped model's graphs"):
        load_tracker("light", weights=random_light_weights, backend="openvino")
    monkeypatch.setattr(zoo, "openvino_installed", lambda: False)
    monkeypatch.setitem(sys.modules, "openvino", None)  # `import openvino` fails
    tracker = load_tracker("mobilenet_fc", overrides={"cpu_backend": "openvino"})
    assert tracker.net.backend == "onnxruntime"
    with pytest.raises(MissingDependencyError, match=r"siamtrack\[openvino\]"):
        load_tracker("mobilenet_fc", backend="openvino")
