"""Training on generated data: losses fall, runs resume bit for bit, DDP runs under torchrun."""
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from tracker.data.pairs import PairConfig
from tracker.models.checkpoint import load_checkpoint
from tracker.train import DataConfig, OptimConfig, TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(model, root, **optim):
    o = dict(epochs=2, pairs_per_epoch=4, batch_size=2, lr=0.01, warmup_epochs=0.5)
    o.update(optim)
    return TrainConfig(
        model=model,
        data=DataConfig(train_roots=(str(root),), clip_dirs=(), val_sequences=0, preload=False),
        optim=OptimConfig(**o),
        pairs=PairConfig(self_supervised=0.3, negative=0.2),
        checkpoint_every=1,
    )


@pytest.mark.parametrize("model", ["light", "siamfc", "siamrpn"])
@pytest.mark.slow
def test_loss_decreases_on_a_fixed_batch(model, got10k_root, tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(tiny_config(model, got10k_root, batch_size=4, pairs_per_epoch=4, lr=0.01), str(tmp_path), device="cpu")
    batch = next(iter(trainer._loader()))
    trainer.net.train()
    losses = []
    for _ in range(10):
        loss = trainer.loss(batch)["loss"]
        trainer.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainer.net.parameters(), trainer.cfg.optim.grad_clip)  # as fit() does
        trainer.optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.85 * losses[0], losses


def test_fit_writes_checkpoints_and_log(got10k_root, tmp_path):
    trainer = Trainer(replace(tiny_config("light", got10k_root), keep_epochs=True), str(tmp_path), device="cpu")
    trainer.fit()
    assert (tmp_path / "state.pt").is_file() and (tmp_path / "model_last.pt").is_file()
    assert load_checkpoint(tmp_path / "model_last.pt").meta["epoch"] == 2
    assert [load_checkpoint(tmp_path / f"model_e{n}.pt").meta["epoch"] for n in (1, 2)] == [1, 2]
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert len(lines) >= 4 and '"lr"' in lines[0] and '"pairs_per_s"' in lines[0]


@pytest.mark.slow
def test_interrupted_run_resumes_bit_for_bit(got10k_root, tmp_path):
    cfg = tiny_config("light", got10k_root, epochs=2, pairs_per_epoch=6)  # 3 iterations per epoch
    straight = Trainer(cfg, str(tmp_path / "a"), device="cpu")
    straight.fit()

    steps = [2, 3, 10]  # stop mid-epoch, then across the epoch boundary, then finish
    for n in steps:
        t = Trainer(cfg, str(tmp_path / "b"), device="cpu")
        t.resume()
        t.fit(max_iterations=n)
    a = straight.net.state_dict()
    b = t.net.state_dict()
    assert t.epoch == 2
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_init_from_starts_siamrpn_on_siamfc_backbone(got10k_root, tmp_path):
    from tracker.models import SiameseNet
    from tracker.models.checkpoint import save_checkpoint
    from tracker.zoo import model_config

    torch.manual_seed(1)
    siamfc = SiameseNet(model_config("siamfc"))
    save_checkpoint(tmp_path / "fc.pt", siamfc)
    cfg = replace(tiny_config("siamrpn", got10k_root, backbone_lr=0.1), init_from=str(tmp_path / "fc.pt"))
    trainer = Trainer(cfg, str(tmp_path / "rpn"), device="cpu")
    for key, value in siamfc.backbone.state_dict().items():
        assert torch.equal(trainer.net.backbone.state_dict()[key], value), key
    trainer.fit(max_iterations=1)
    backbone_lr, head_lr = (g["lr"] for g in trainer.optimizer.param_groups)
    assert backbone_lr == pytest.approx(0.1 * head_lr) and head_lr > 0

    save_checkpoint(tmp_path / "light.pt", SiameseNet(model_config("light")))
    with pytest.raises(ValueError, match="backbone does not match"):
        Trainer(replace(cfg, init_from=str(tmp_path / "light.pt")), str(tmp_path / "bad"), device="cpu")


def test_init_scope_all_fine_tunes_a_whole_trained_model(got10k_root, tmp_path):
    from tracker.models import SiameseNet
    from tracker.models.checkpoint import save_checkpoint
    from tracker.zoo import model_config

    torch.manual_seed(2)
    trained = SiameseNet(model_config("siamrpn"))
    save_checkpoint(tmp_path / "rpn.pt", trained)
    cfg = replace(tiny_config("siamrpn", got10k_root), init_from=str(tmp_path / "rpn.pt"), init_scope="all")
    trainer = Trainer(cfg, str(tmp_path / "tune"), device="cpu")
    for key, value in trained.state_dict().items():
        assert torch.equal(trainer.net.state_dict()[key], value), key

    save_checkpoint(tmp_path / "fc.pt", SiameseNet(model_config("siamfc")))  # same backbone, other head
    with pytest.raises(ValueError, match="does not match this model"):
        Trainer(replace(cfg, init_from=str(tmp_path / "fc.pt")), str(tmp_path / "bad"), device="cpu")
    with pytest.raises(ValueError, match="init_scope"):
        replace(cfg, init_scope="head")


def test_pairs_are_deterministic_and_boxes_inside(got10k_root):
    from tracker.data.frames import FrameCache
    from tracker.data.pairs import FrameSource, PairDataset
    from tracker.data.readers import read_got10k

    cache = FrameCache()
    sources = [FrameSource.from_sequence(s, cache, 8) for s in read_got10k(got10k_root)]
    ds = PairDataset(sources, PairConfig(negative=0.3), 20, seed=3)
    again = PairDataset(sources, PairConfig(negative=0.3), 20, seed=3)
    for i in range(20):
        a, b = ds[i], again[i]
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["box"], b["box"])
        x1, y1, x2, y2 = a["box"].tolist()
        assert x2 > x1 and y2 > y1
        if not a["negative"]:
            # the object lies near the search centre, within the shift range
            assert abs((x1 + x2) / 2 - 127.5) < 64 * 1.3 + 10 and abs((y1 + y2) / 2 - 127.5) < 64 * 1.3 + 10


@pytest.mark.slow
def test_torchrun_ddp_on_cpu(got10k_root, tmp_path):
    cfg = {
        "model": "light",
        "optim": {"epochs": 1, "pairs_per_epoch": 8, "batch_size": 2},
        "data": {"train_roots": [str(got10k_root)], "clip_dirs": [], "val_sequences": 0, "preload": False},
    }
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         "-m", "tracker.train.cli", "--config", str(path), "--out", str(tmp_path / "run"), "--device", "cpu"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = load_checkpoint(tmp_path / "run" / "model_last.pt")
    assert ckpt.meta["epoch"] == 1
    lines = (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    assert sum('"iteration"' in l for l in lines) == 2  # 8 pairs / (2 ranks x batch 2)


def test_siamfc_trains_on_negative_pairs_as_all_background(got10k_root, tmp_path):
    """Negative pairs (another sequence's object in the search crop) reach SiamFC's loss as
    score maps without a positive cell: the distractor lesson DaSiamRPN gave RPN heads."""
    from tracker.train.targets import siamfc_labels

    trainer = Trainer(tiny_config("siamfc", got10k_root), str(tmp_path), device="cpu")
    assert trainer.dataset.config.negative == 0.2
    boxes = torch.tensor([[100.0, 100.0, 155.0, 155.0]] * 2)
    labels = siamfc_labels(boxes, torch.tensor([False, True]), 17, 8, 255)
    assert labels[0].sum() > 0 and labels[1].sum() == 0


def test_score_distillation_compares_the_cells_both_maps_see():
    from tracker.train.losses import score_distillation_loss

    torch.manual_seed(0)
    teacher = torch.randn(2, 1, 17, 17) * 3
    student = torch.full((2, 1, 25, 25), -20.0)
    student[..., 4:21, 4:21] = teacher  # same centre, 4 cells more each side
    entropy = torch.nn.functional.binary_cross_entropy_with_logits(teacher, torch.sigmoid(teacher))
    assert torch.allclose(score_distillation_loss(student, teacher), entropy, atol=1e-6)
    assert torch.allclose(score_distillation_loss(teacher, student), entropy, atol=1e-6)
    shifted = torch.roll(student, 1, dims=-1)
    assert score_distillation_loss(shifted, teacher) > entropy + 0.1
    with pytest.raises(ValueError, match="common centre"):
        score_distillation_loss(torch.zeros(1, 1, 24, 24), teacher)


def distill_config(root, teacher):
    from tracker.train import DistillConfig

    return replace(tiny_config("light_fc", root, batch_size=4, pairs_per_epoch=4, lr=0.01), distill=DistillConfig(teacher=str(teacher), weight=1.0))


@pytest.mark.slow
def test_student_learns_the_teachers_score_maps(got10k_root, tmp_path):
    from tracker.models import SiameseNet
    from tracker.models.checkpoint import save_checkpoint
    from tracker.zoo import model_config

    from tracker.train.losses import score_distillation_loss

    torch.manual_seed(2)
    config = model_config("siamfc")
    save_checkpoint(tmp_path / "teacher.pt", SiameseNet(replace(config, head=replace(config.head, out_scale=0.05))))
    trainer = Trainer(distill_config(got10k_root, tmp_path / "teacher.pt"), str(tmp_path / "run"), device="cpu")
    assert not any(p.requires_grad for p in trainer.teacher.parameters())
    batch = next(iter(trainer._loader()))
    with torch.no_grad():
        scores = trainer.teacher(batch["z"].float(), batch["x"].float())[0]
    floor = float(score_distillation_loss(scores, scores))  # the teacher's own entropy
    trainer.net.train()
    distill = []
    for _ in range(10):
        losses = trainer.loss(batch)
        trainer.optimizer.zero_grad()
        losses["loss"].backward()
        trainer.optimizer.step()
        distill.append(float(losses["distill"].detach()))
    assert distill[-1] - floor < 0.8 * (distill[0] - floor), (floor, distill)


def test_rpn_teacher_is_refused(got10k_root, tmp_path):
    from tracker.models import SiameseNet
    from tracker.models.checkpoint import save_checkpoint
    from tracker.zoo import model_config

    save_checkpoint(tmp_path / "rpn.pt", SiameseNet(model_config("light")))
    with pytest.raises(ValueError, match="SiamFC score-map heads"):
        Trainer(distill_config(got10k_root, tmp_path / "rpn.pt"), str(tmp_path / "run"), device="cpu")
