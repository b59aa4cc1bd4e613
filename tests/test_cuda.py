"""The CUDA runtime: graph replay and pinned uploads give the eager network's numbers.

The GPU tests run only where CUDA is present (not in CI); the CPU tests check the parts
that do not need a device.
"""
import numpy as np
import pytest
import torch

from conftest import boxes_of, track_alone, track_in_pool
from tracker import TrackerPool, load_tracker
from tracker.models import SiameseNet
from tracker.models.checkpoint import save_checkpoint
from tracker.models.cuda import CudaNet, HostStaging, padded_batch
from tracker.video.demo import generate_clip
from tracker.zoo import model_config

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def test_padded_batch_is_the_next_power_of_two():
    assert [padded_batch(n) for n in (1, 2, 3, 4, 5, 16, 17, 64, 65)] == [1, 2, 4, 4, 8, 16, 32, 64, 128]


def test_cuda_runtime_refuses_the_cpu():
    with pytest.raises(ValueError, match="CUDA device"):
        CudaNet(SiameseNet(model_config("light")), torch.device("cpu"))


def test_half_precision_is_a_cuda_option():
    with pytest.raises(ValueError, match="half"):
        load_tracker("light", half=True)


def random_net(name):
    torch.manual_seed(0)
    return SiameseNet(model_config(name)).eval()


@needs_cuda
@pytest.mark.parametrize("name", ["light", "siamfc", "siamrpn"])
@pytest.mark.parametrize("targets", [1, 3])
def test_graph_replay_matches_eager(name, targets):
    net = random_net(name).cuda()
    cfg = net.config
    size, crops = (cfg.siamrpn.instance_size, 1) if net.is_rpn else (cfg.siamfc.instance_size, cfg.siamfc.scale_num)
    z = torch.rand(targets, 3, 127, 127, device="cuda") * 255
    x = torch.rand(targets * crops, 3, size, size, device="cuda") * 255
    graphed = CudaNet(net, torch.device("cuda"))
    with torch.inference_mode():
        kernels = net.template(z)
        ref = net.track(x, *kernels)
        for _ in range(2):  # capture, then replay
            got = graphed.track(x, *kernels)
    for a, b in zip(ref, got):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-4 * float(a.abs().max()), rtol=0)


@needs_cuda
def test_pinned_upload_round_trip():
    staging = HostStaging(torch.device("cuda"))
    for seed in range(3):  # the same buffer, reused
        batch = np.random.default_rng(seed).integers(0, 256, (2, 31, 31, 3), dtype=np.uint8)
        assert np.array_equal(staging.upload(batch).cpu().numpy(), batch)


@needs_cuda
@pytest.mark.parametrize("half", [False, True])
def test_cuda_tracker_follows_the_cpu_track(tmp_path, half):
    weights = tmp_path / "light.pt"
    save_checkpoint(weights, random_net("light"))
    clip = generate_clip(num_frames=30)
    ref = boxes_of(track_alone(load_tracker(weights=weights, fast=False), clip))
    got = boxes_of(track_alone(load_tracker(weights=weights, device="cuda", half=half), clip))
    assert np.abs(ref - got).max() < (2.0 if half else 1e-2)


@needs_cuda
def test_cuda_pool_matches_single_trackers(tmp_path):
    weights = tmp_path / "light.pt"
    save_checkpoint(weights, random_net("light"))
    clips = [generate_clip(num_frames=10, seed=s) for s in (1, 2, 3)]
    pool = TrackerPool(load_tracker(weights=weights, device="cuda"))
    for pooled, clip in zip(track_in_pool(pool, clips), clips):
        alone = track_alone(load_tracker(weights=weights, device="cuda"), clip)
        assert np.allclose(boxes_of(pooled), boxes_of(alone), atol=1e-2)


def test_torch_runtimes_are_wrapped_behind_the_numpy_interface():
    from tracker.models.torchnet import TorchNet
    from tracker.network import as_network

    net = random_net("light")
    wrapped = as_network(net, "cpu")
    assert isinstance(wrapped, TorchNet) and wrapped.module is net
    crops = np.zeros((1, 127, 127, 3), np.uint8)
    kernels = wrapped.template(crops)
    assert all(isinstance(k, np.ndarray) and k.dtype == np.float32 for k in kernels)
    outputs = wrapped.track(np.zeros((1, 255, 255, 3), np.uint8), *kernels)
    assert [o.shape[0] for o in outputs] == [1, 1]
