"""Shared fixtures: generated clips and datasets, and deterministic template-matching
networks that drive the real tracker code (crops, scales, windows, updates) without
trained weights."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tracker.config import ModelConfig, BackboneConfig, HeadConfig, with_overrides
from tracker.geometry import context_size
from tracker.models.ops import xcorr
from tracker.video.demo import generate_clip
from tracker.zoo import model_config

torch.set_num_threads(1)
SHARED = Path(os.environ.get("SIAMTRACK_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def matching_features(x: torch.Tensor) -> torch.Tensor:
    """Grey, high-passed, 8x8 average-pooled pixels: a fixed stride-8 'backbone'."""
    gray = x.mean(dim=1, keepdim=True) / 255.0
    blur = F.avg_pool2d(F.pad(gray, (4, 4, 4, 4), mode="replicate"), 9, 1)
    return F.avg_pool2d(gray - blur, 8, 8)


def siamfc_config(scale_search: str = "crops") -> ModelConfig:
    """The zoo's SiamFC config with its scale pyramid made of search crops or of templates."""
    return with_overrides(model_config("siamfc"), {"siamfc.scale_search": scale_search})


class MatchingSiamFC(nn.Module):
    """SiamFC-shaped net whose response is normalised template matching (127 -> 15, 255 -> 31 -> 17x17)."""

    is_rpn = False

    def template(self, z):
        k = matching_features(z)
        return (k / k.flatten(1).norm(dim=1).clamp(min=1e-6)[:, None, None, None],)

    def track(self, x, kernel):
        f = matching_features(x)
        energy = F.avg_pool2d(f**2, kernel.shape[-1], 1) * kernel.shape[-1] ** 2
        return (xcorr(f, kernel) / energy.sqrt().clamp(min=1e-6) * 8.0,)


class MatchingRPN(nn.Module):
    """SiamRPN-shaped net: every anchor's foreground logit is the matching score; the box
    regression predicts the template's known size in crop pixels (a fixed size prior)."""

    is_rpn = True

    def __init__(self, config: ModelConfig, init_size, absolute: bool = False) -> None:
        super().__init__()
        self.config = config
        self.absolute = absolute  # calibrated scores (target present ~0.9, absent ~0.05) for lost detection
        p = config.siamrpn
        w, h = init_size
        s = p.exemplar_size / context_size((w, h), p.context)
        self.crop_size = (w * s, h * s)
        self.fc = MatchingSiamFC()

    def template(self, z):
        return self.fc.template(z)

    def track(self, x, kernel):
        score = self.fc.track(x, kernel)[0]  # (B, 1, S, S)
        k = self.config.head.anchor_num
        from tracker.trackers.anchors import anchor_shapes
        a = self.config.anchors
        shapes = torch.tensor(anchor_shapes(a.stride, a.ratios, a.scales), dtype=torch.float32)
        b, _, s, _ = score.shape
        if self.absolute:
            fg = (score - 1.5) * 3.0
        else:
            peak = score.flatten(1).max(dim=1).values.clamp(min=1e-6)[:, None, None, None]
            fg = (score / peak - 0.9) * 30.0  # relative to the peak: sharp, like a trained head
        cls = torch.cat([torch.zeros(b, k, s, s), fg.expand(b, k, s, s)], dim=1)
        loc = torch.zeros(b, 4 * k, s, s)
        loc[:, 2 * k : 3 * k] = torch.log(self.crop_size[0] / shapes[:, 0])[None, :, None, None]
        loc[:, 3 * k : 4 * k] = torch.log(self.crop_size[1] / shapes[:, 1])[None, :, None, None]
        return cls, loc


def track_alone(tracker, clip, box=None):
    """Results of one tracker over a clip, initialised on its first frame."""
    tracker.init(clip.frames[0], clip.boxes[0] if box is None else box)
    return [tracker.update(f) for f in clip.frames[1:]]


def track_in_pool(pool, clips, boxes=None):
    """One target per clip (each clip its own stream), every frame in one pool update;
    the results per target, in clip order."""
    ids = [pool.add(c.frames[0], c.boxes[0] if boxes is None else boxes[k], stream=k) for k, c in enumerate(clips)]
    results = {i: [] for i in ids}
    for t in range(1, len(clips[0].frames)):
        for i, r in pool.update({k: c.frames[t] for k, c in enumerate(clips)}).items():
            results[i].append(r)
    return [results[i] for i in ids]


def boxes_of(results):
    return np.array([r.box for r in results])


@pytest.fixture(scope="session", autouse=True)
def graph_cache(tmp_path_factory):
    """The graph cache of ``weights=`` loads (tracker.export.cache) in a folder of this
    session's: never the user's ``~/.cache``, and no entry made by an earlier session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIAMTRACK_CACHE", str(tmp_path_factory.mktemp("graph_cache")))
        yield


@pytest.fixture(scope="session")
def clip():
    return generate_clip(num_frames=120)


def write_clip(path: Path, frames, fps: float = 25) -> Path:
    """``frames`` as an mp4 file (mp4v) at ``path``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_got10k(root: Path, sequences) -> Path:
    """Write (name, frames, boxes) as a GOT-10k-layout dataset."""
    root.mkdir(parents=True, exist_ok=True)
    for name, frames, boxes in sequences:
        folder = root / name
        folder.mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), frame)
        np.savetxt(folder / "groundtruth.txt", boxes, fmt="%.2f", delimiter=",")
        (folder / "absence.label").write_text("0\n" * len(frames))
    (root / "list.txt").write_text("\n".join(n for n, _, _ in sequences) + "\n")
    return root


@pytest.fixture(scope="session")
def got10k_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("got10k") / "train"
    seqs = []
    for seed in (1, 2, 3):
        c = generate_clip(num_frames=12, width=320, height=240, seed=seed, base_size=(48, 40))
        seqs.append((f"seq{seed}", c.frames, c.boxes))
    return write_got10k(root, seqs)


@pytest.fixture(scope="session")
def random_light_weights(tmp_path_factory):
    """An untrained light model as a siamtrack checkpoint: for plumbing, not accuracy."""
    from tracker.models import SiameseNet
    from tracker.models.checkpoint import save_checkpoint
    from tracker.zoo import model_config

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "light.pt"
    save_checkpoint(path, SiameseNet(model_config("light")), {})
    return str(path)


def ship(folder: Path, name: str, net) -> Path:
    """``net`` as a shipped model in ``folder`` (a ``$SIAMTRACK_WEIGHTS``): checkpoint, graphs, manifest."""
    import json

    from tracker.config import to_dict
    from tracker.export.onnx import write_runtime_graphs
    from tracker.digest import sha256_of
    from tracker.models.checkpoint import save_checkpoint

    save_checkpoint(folder / f"{name}.pt", net, {})
    graphs = write_runtime_graphs(net, folder, name)
    graphs["weights_sha256"] = sha256_of(folder / f"{name}.pt")
    entry = {"file": f"{name}.pt", "sha256": graphs["weights_sha256"], "config": to_dict(net.config), "graphs": graphs}
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {"models": {}}
    manifest["models"][name] = entry
    path.write_text(json.dumps(manifest))
    return folder
