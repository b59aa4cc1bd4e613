"""The onnxruntime fast path computes what PyTorch computes: network outputs for every
architecture (one target and a batch of targets), and boxes through the real tracker."""
import numpy as np
import pytest
import torch

import torch.nn.functional as F

from conftest import MatchingSiamFC, boxes_of, matching_features, siamfc_config, track_alone, track_in_pool
from tracker.export.runtime import ExportedNet
from tracker.models import SiameseNet
from tracker.models.torchnet import TorchNet
from tracker.models.ops import xcorr_matmul
from tracker.trackers import SiamFCTracker
from tracker.trackers.pool import TrackerPool
from tracker.video.demo import generate_clip
from tracker.zoo import architectures, load_tracker, model_config

pytest.importorskip("onnxruntime")


def randomized(name: str) -> SiameseNet:
    torch.manual_seed(0)
    net = SiameseNet(model_config(name))
    for m in net.modules():  # non-trivial BatchNorm statistics, so folding is exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def per_target(kernels, targets):
    """Kernels as a tracker hands them to the search branch: with SiamFC's pyramid of
    templates, each target's exemplars' kernels stacked along the channels."""
    return tuple(k.reshape(targets, -1, *k.shape[2:]) for k in kernels)


def nchw(pixels):
    """The networks' NHWC numpy crops as the NCHW tensor a torch module takes."""
    return torch.from_numpy(pixels).permute(0, 3, 1, 2)


@pytest.mark.parametrize("name", architectures())
@pytest.mark.slow
def test_onnxruntime_network_matches_torch_for_any_number_of_targets(name):
    net = randomized(name)
    ort_net = ExportedNet.from_network(net, threads=1)
    cfg = net.config
    # heads that correlate by convolution get the static one-target graph (used at 1 and 2
    # targets; the wider crop takes the free-batch graph)
    assert (ort_net._one_target is None) == (cfg.head.kind == "rpn_pixelwise")
    size = cfg.tracking.instance_size
    for targets, size in ((1, size), (2, size), (1, size + 4 * cfg.anchors.stride)):  # and a wider crop
        rng = np.random.default_rng(targets + size)
        z = rng.uniform(0, 255, (targets * cfg.kernels_per_target, cfg.tracking.exemplar_size, cfg.tracking.exemplar_size, 3)).astype(np.float32)
        x = rng.uniform(0, 255, (targets * cfg.crops_per_frame, size, size, 3)).astype(np.float32)
        with torch.no_grad():
            expected = net.track(nchw(x), *per_target(net.template(nchw(z)), targets))
        got = ort_net.track(x, *per_target(ort_net.template(z), targets))
        assert len(got) == len(expected)
        for a, b in zip(expected, got):
            a = a.numpy()
            assert a.shape == b.shape
            assert np.allclose(a, b, rtol=1e-3, atol=1e-3 * np.abs(a).max())


class ExportableMatchingSiamFC(MatchingSiamFC):
    """The template-matching double with the export-friendly correlation."""

    def __init__(self, scale_search: str = "crops") -> None:
        super().__init__()
        self.config = siamfc_config(scale_search)

    def track(self, x, kernel):
        f = matching_features(x)
        energy = F.avg_pool2d(f**2, kernel.shape[-1], 1) * kernel.shape[-1] ** 2
        return (xcorr_matmul(f, kernel) / energy.sqrt().clamp(min=1e-6) * 8.0,)


def matching_siamfc(scale_search: str = "crops") -> MatchingSiamFC:
    return ExportableMatchingSiamFC(scale_search)


@pytest.mark.parametrize("scale_search", ["crops", "templates"])
@pytest.mark.slow
def test_onnxruntime_tracker_gives_the_same_boxes(scale_search):
    clip = generate_clip(num_frames=40, seed=3)
    boxes = []
    for net in (matching_siamfc(scale_search), ExportedNet.from_network(matching_siamfc(scale_search), threads=1)):
        tracker = SiamFCTracker(net, net.config)
        tracker.init(clip.frames[0], clip.boxes[0])
        boxes.append(np.array([tracker.update(f).box for f in clip.frames[1:]]))
    assert np.allclose(boxes[0], boxes[1], atol=1e-2)


@pytest.mark.slow
def test_onnxruntime_pool_batches_targets():
    clips = [generate_clip(num_frames=12, seed=s, base_size=(60, 50)) for s in (11, 12, 13)]
    pool = TrackerPool(SiamFCTracker(ExportedNet.from_network(matching_siamfc(), threads=1), model_config("siamfc")))
    for pooled, clip in zip(track_in_pool(pool, clips), clips):
        alone = track_alone(SiamFCTracker(matching_siamfc(), model_config("siamfc")), clip)
        assert np.allclose(boxes_of(pooled), boxes_of(alone), atol=1e-2)


@pytest.mark.slow
def test_load_tracker_backends(random_light_weights, tmp_path):
    from tracker.models.checkpoint import save_checkpoint

    # auto: the runtime the model's config names as its faster one on the CPU
    assert model_config("light").cpu_backend == model_config("light16").cpu_backend == "onnxruntime"
    assert model_config("siamfc").cpu_backend == "torch"
    def torch_module(tracker):
        return tracker.net.module if isinstance(tracker.net, TorchNet) else None

    assert isinstance(load_tracker(weights=random_light_weights, backend="auto").net, ExportedNet)
    save_checkpoint(tmp_path / "siamfc.pt", SiameseNet(model_config("siamfc")), {})
    assert isinstance(torch_module(load_tracker(weights=tmp_path / "siamfc.pt")), SiameseNet)
    assert isinstance(load_tracker(weights=tmp_path / "siamfc.pt", backend="onnxruntime").net, ExportedNet)
    assert isinstance(torch_module(load_tracker(weights=random_light_weights, backend="torch")), SiameseNet)
    assert isinstance(torch_module(load_tracker(weights=random_light_weights, fast=False)), SiameseNet)
    with pytest.raises(ValueError, match="unknown backend"):
        load_tracker(weights=random_light_weights, backend="tensorrt")
