import numpy as np
import pytest
import torch

from tracker import CheckpointError, load_tracker
from tracker.models import SiameseNet
from tracker.models.checkpoint import load_checkpoint, save_checkpoint
from tracker.models.convert import CONVERTERS, convert_pysot_alex_dwxcorr, convert_siamfc_pytorch
from tracker.zoo import model_config


def bn(prefix, c):
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,), f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}


# Key names and shapes exactly as siamfc-pytorch's Net(AlexNetV1, SiamFC).state_dict()
SIAMFC_PYTORCH = {
    "backbone.conv1.0.weight": (96, 3, 11, 11), "backbone.conv1.0.bias": (96,), **bn("backbone.conv1.1", 96),
    "backbone.conv2.0.weight": (256, 48, 5, 5), "backbone.conv2.0.bias": (256,), **bn("backbone.conv2.1", 256),
    "backbone.conv3.0.weight": (384, 256, 3, 3), "backbone.conv3.0.bias": (384,), **bn("backbone.conv3.1", 384),
    "backbone.conv4.0.weight": (384, 192, 3, 3), "backbone.conv4.0.bias": (384,), **bn("backbone.conv4.1", 384),
    "backbone.conv5.0.weight": (256, 192, 3, 3), "backbone.conv5.0.bias": (256,),
}


def _dw(prefix, out):
    d = {f"{prefix}.conv_kernel.0.weight": (256, 256, 3, 3), **bn(f"{prefix}.conv_kernel.1", 256),
         f"{prefix}.conv_search.0.weight": (256, 256, 3, 3), **bn(f"{prefix}.conv_search.1", 256),
         f"{prefix}.head.0.weight": (256, 256, 1, 1), **bn(f"{prefix}.head.1", 256),
         f"{prefix}.head.3.weight": (out, 256, 1, 1), f"{prefix}.head.3.bias": (out,)}
    return d


# Key names and shapes exactly as pysot's ModelBuilder for experiments/siamrpn_alex_dwxcorr
PYSOT_ALEX_DW = {
    "backbone.features.0.weight": (96, 3, 11, 11), "backbone.features.0.bias": (96,), **bn("backbone.features.1", 96),
    "backbone.features.4.weight": (256, 96, 5, 5), "backbone.features.4.bias": (256,), **bn("backbone.features.5", 256),
    "backbone.features.8.weight": (384, 256, 3, 3), "backbone.features.8.bias": (384,), **bn("backbone.features.9", 384),
    "backbone.features.11.weight": (384, 384, 3, 3), "backbone.features.11.bias": (384,), **bn("backbone.features.12", 384),
    "backbone.features.14.weight": (256, 384, 3, 3), "backbone.features.14.bias": (256,), **bn("backbone.features.15", 256),
    **_dw("rpn_head.cls", 10), **_dw("rpn_head.loc", 20),
}


def random_state(spec, seed=0):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in spec.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        else:
            state[key] = torch.randn(shape, generator=g) * 0.05
    return state


def test_convert_siamfc_pytorch_keeps_every_tensor():
    state = random_state(SIAMFC_PYTORCH)
    ckpt = convert_siamfc_pytorch(state)
    assert ckpt.config.input_order == "rgb"
    for key, value in state.items():
        assert torch.equal(ckpt.state_dict[key], value)
    ckpt.build()


def test_convert_pysot_keeps_every_tensor_and_accepts_wrappers():
    state = random_state(PYSOT_ALEX_DW)
    wrapped = {"epoch": 20, "state_dict": {"module." + k: v for k, v in state.items()}}
    ckpt = convert_pysot_alex_dwxcorr(wrapped)
    for key, value in state.items():
        assert torch.equal(ckpt.state_dict[key.replace("rpn_head.", "head.")], value)
    assert ckpt.config.siamrpn.instance_size == 287
    net = ckpt.build()
    with torch.no_grad():
        cls, loc = net(torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 287, 287) * 255)
    assert cls.shape == (1, 10, 21, 21) and loc.shape == (1, 20, 21, 21)


def test_converters_reject_the_wrong_layout():
    with pytest.raises(CheckpointError):
        convert_siamfc_pytorch(random_state(PYSOT_ALEX_DW))
    with pytest.raises(CheckpointError):
        convert_pysot_alex_dwxcorr(random_state(SIAMFC_PYTORCH))
    broken = random_state(SIAMFC_PYTORCH)
    del broken["backbone.conv3.0.weight"]
    with pytest.raises(CheckpointError, match="missing"):
        convert_siamfc_pytorch(broken)


def test_converted_checkpoint_round_trips_through_cli(tmp_path):
    from tracker.cli import main

    src = tmp_path / "siamfc_alexnet_e50.pth"
    torch.save(random_state(SIAMFC_PYTORCH), src)
    out = tmp_path / "siamfc.pt"
    assert main(["convert", str(src), "--layout", "siamfc-pytorch", "--out", str(out)]) == 0
    tracker = load_tracker("siamfc", weights=out)
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    tracker.init(frame, (100, 80, 40, 30))
    r = tracker.update(frame)
    assert np.isfinite(r.box).all()


def test_save_load_round_trip_is_exact(tmp_path):
    torch.manual_seed(1)
    net = SiameseNet(model_config("light")).eval()
    path = tmp_path / "light.pt"
    save_checkpoint(path, net, {"epochs": 3, "data": "generated"})
    ckpt = load_checkpoint(path)
    assert ckpt.meta["epochs"] == 3 and ckpt.config == net.config
    loaded = ckpt.build()
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 255, 255) * 255
    with torch.no_grad():
        for a, b in zip(net(z, x), loaded(z, x)):
            assert torch.equal(a, b)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "light.pt"
    save_checkpoint(path, SiameseNet(model_config("light")), {})
    return path


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_truncated_checkpoint(saved, tmp_path):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(cut)


def test_garbage_and_empty_checkpoints(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 50)
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(empty)


def test_foreign_torch_file_is_not_a_siamtrack_checkpoint(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not a siamtrack checkpoint"):
        load_checkpoint(path)


def test_checkpoint_of_the_wrong_model(saved):
    with pytest.raises(CheckpointError, match="not 'siamfc'"):
        load_tracker("siamfc", weights=saved)


def test_weights_that_do_not_fit_the_config(tmp_path):
    import tracker.models.checkpoint as ck

    net = SiameseNet(model_config("light"))
    path = tmp_path / "mixed.pt"
    ck.atomic_torch_save({"format": ck.FORMAT, "version": 1, "config": __import__("tracker.config", fromlist=["to_dict"]).to_dict(model_config("siamfc")), "state_dict": net.state_dict(), "meta": {}}, path)
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(path).build()


def test_shipped_weights_match_the_manifest_and_the_default_is_shipped():
    from tracker.zoo import DEFAULT_MODEL, list_models, load_model, shipped_weights

    shipped = list_models()
    assert DEFAULT_MODEL in shipped
    for name in shipped:
        path = shipped_weights(name, verify=True)  # sha256 as recorded
        assert path.stat().st_size < 30 * 1024 * 1024
        assert load_model(name).config.name == name
    assert load_tracker().config.name == DEFAULT_MODEL


def test_convert_command_offers_every_layout():
    from tracker.models.cli import LAYOUTS

    assert sorted(LAYOUTS) == sorted(CONVERTERS)
