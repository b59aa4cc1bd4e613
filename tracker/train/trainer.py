"""The training loop: CPU or CUDA, mixed precision on CUDA, DistributedDataParallel under
``torchrun``, warm-up + decay, resumable to the iteration, JSON-lines log, val AUC.

Resume is exact: pairs are a pure function of ``(seed, epoch, index)``, and the model,
optimiser and random-generator states are saved together every ``checkpoint_every``
iterations and at each epoch's end.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset

from ..config import ModelConfig, from_dict, to_dict
from ..data.frames import FrameCache, read_clip
from ..data.pairs import FrameSource, PairDataset
from ..data.readers import read_dataset, video_files
from ..eval.metrics import score_sequence
from ..eval.runner import run_sequence
from ..models import SiameseNet
from ..models.checkpoint import atomic_torch_save, load_checkpoint, read_torch_file, save_checkpoint
from ..models.pretrained import load_imagenet
from ..network import resolve_device
from ..trackers import build_tracker
from ..zoo import model_config
from .config import IMAGENET, TrainConfig
from .budget import plan_data
from .datasets import build_mix
from .freeze import apply_freezing
from .interrupt import StopRequest, ignore_sigint
from .objectives import build_objective
from .schedule import learning_rate

log = logging.getLogger(__name__)
STATE_FILE = "state.pt"


def build_sources(cfg: TrainConfig, cache: FrameCache) -> List[FrameSource]:
    """Annotated sequences of every training root, then the unannotated clips."""
    sources: List[FrameSource] = []
    for root in cfg.data.train_roots:
        for seq in read_dataset(root):
            sources.append(FrameSource.from_sequence(seq, cache, cfg.pairs.min_box))
    if cfg.data.preload:
        cache.preload([s for s in read_all(cfg)])
    for folder in cfg.data.clip_dirs:
        if not os.path.isdir(folder):
            log.warning("clip folder %s not found; skipping", folder)
            continue
        for path in video_files(folder):
            sources.append(FrameSource.from_clip(Path(path).stem, read_clip(path, cfg.data.clip_max_frames)))
    return sources


def read_all(cfg: TrainConfig):
    for root in cfg.data.train_roots:
        yield from read_dataset(root)


def init_weights(net: SiameseNet, checkpoint: str, scope: str = "backbone") -> None:
    """Copy the backbone (``scope="backbone"``) or every tensor (``"all"``) of a siamtrack
    checkpoint into ``net``: same names and shapes throughout, since a partial match would
    start from a silently half-random network."""
    module, prefix, what = (net.backbone, "backbone.", "backbone") if scope == "backbone" else (net, "", "network")
    source = {k[len(prefix):]: v for k, v in load_checkpoint(checkpoint).state_dict.items() if k.startswith(prefix)}
    target = module.state_dict()
    mismatched = sorted(set(source) ^ set(target) | {k for k in target if k in source and source[k].shape != target[k].shape})
    if mismatched:
        raise ValueError(f"{checkpoint}: its {what} does not match this model's ({len(mismatched)} tensors differ, e.g. {mismatched[:3]})")
    module.load_state_dict(source)
    log.info("%s initialised from %s (%d tensors)", what, checkpoint, len(source))


def load_teacher(path: str, student: ModelConfig, device: torch.device) -> SiameseNet:
    """A frozen SiamFC-head network whose score maps line up with the student's."""
    teacher = load_checkpoint(path).build()
    if teacher.is_rpn or student.tracker != "siamfc":
        raise ValueError(f"distillation needs SiamFC score-map heads in teacher ({path}) and student; RPN heads have no common map")
    t, s = teacher.config.siamfc, student.siamfc
    if (t.total_stride, t.exemplar_size, t.instance_size) != (s.total_stride, s.exemplar_size, s.instance_size):
        raise ValueError(f"teacher {path} has stride/crop sizes {(t.total_stride, t.exemplar_size, t.instance_size)}, the student {(s.total_stride, s.exemplar_size, s.instance_size)}")
    teacher.requires_grad_(False)
    return teacher.to(device, memory_format=torch.channels_last).eval()


class Trainer:
    def __init__(self, cfg: TrainConfig, out_dir: str, device: Optional[str] = None, sources: Optional[List[FrameSource]] = None, model: Optional[ModelConfig] = None) -> None:
        self.cfg = cfg
        self.out = Path(out_dir)
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        device = resolve_device(device)  # a device that is not here is a DeviceError, not a traceback from torch
        if self.world > 1 and not dist.is_initialized():
            backend = "nccl" if device != "cpu" else "gloo"
            dist.init_process_group(backend)
        if device == "cuda" and self.world > 1:
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
        self.device = torch.device(device)
        torch.manual_seed(cfg.seed)
        self.model_config = model or model_config(cfg.model)
        self.net = SiameseNet(self.model_config)
        self.initial_weights: Dict = {}
        if cfg.init_from == IMAGENET:
            self.initial_weights = load_imagenet(self.net.backbone, self.model_config.backbone.name).provenance()
        elif cfg.init_from:
            init_weights(self.net, cfg.init_from, cfg.init_scope)
        self.net.to(self.device, memory_format=torch.channels_last)
        self.teacher = load_teacher(cfg.distill.teacher, self.model_config, self.device) if cfg.distill.teacher else None
        self._frozen = apply_freezing(self.net.backbone, cfg.optim, 0)
        self.model = DistributedDataParallel(self.net) if self.world > 1 else self.net
        self.optimizer = torch.optim.SGD(self._param_groups(), lr=cfg.optim.lr, momentum=cfg.optim.momentum, weight_decay=cfg.optim.weight_decay)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(cfg.seed * 1000 + self.rank)
        # negative pairs: RPN background anchors, or SiamFC score maps that are all background
        # (the search crop centred on another sequence's object: a semantic distractor)
        # the tracker's crop sizes: a template cut at another size would show the head targets at another scale
        pairs = replace(cfg.pairs, exemplar_size=self.model_config.tracking.exemplar_size, instance_size=self.model_config.tracking.instance_size)
        if sources is None:  # train_roots too large for memory are read as data.datasets
            cfg = self.cfg = plan_data(cfg, progress=self.rank == 0)
        if cfg.data.datasets and sources is None:
            self.sources = []
            self.dataset = build_mix(cfg, pairs, dist.barrier if self.world > 1 else lambda: None, progress=self.rank == 0)
        else:
            self.sources = sources if sources is not None else build_sources(cfg, FrameCache(progress=self.rank == 0))
            self.dataset = PairDataset(self.sources, pairs, cfg.optim.pairs_per_epoch, cfg.seed)
        self.score_size = self.net.score_size(pairs.exemplar_size, pairs.instance_size)
        teacher = self._teacher_scores if self.teacher is not None else None
        self.objective = build_objective(self.model_config, cfg, self.score_size, pairs.instance_size, self.generator, teacher)
        self.epoch, self.iteration, self.best_auc, self.history = 0, 0, -1.0, []
        self.out.mkdir(parents=True, exist_ok=True)

    # -- setup helpers ------------------------------------------------------
    def _param_groups(self) -> List[Dict]:
        """One group, or with ``optim.backbone_lr`` != 1 the backbone apart (each scales the
        schedule's LR by its ``lr_scale``)."""
        scale = self.cfg.optim.backbone_lr
        if scale == 1.0:
            return [{"params": list(self.net.parameters()), "lr_scale": 1.0}]
        backbone = list(self.net.backbone.parameters())
        ids = {id(p) for p in backbone}
        rest = [p for p in self.net.parameters() if id(p) not in ids]
        return [{"params": backbone, "lr_scale": scale}, {"params": rest, "lr_scale": 1.0}]

    @property
    def iterations_per_epoch(self) -> int:
        per_rank = len(range(self.rank, self.cfg.optim.pairs_per_epoch, self.world))
        return per_rank // self.cfg.optim.batch_size

    # -- checkpoints ----------------------------------------------------------
    def state(self) -> Dict:
        return {
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "iteration": self.iteration,
            "generator": self.generator.get_state(),
            "best_auc": self.best_auc,
            "history": json.dumps(self.history),
            "train_config": json.dumps(to_dict(self.cfg)),
            "model_config": to_dict(self.model_config),
        }

    def save_state(self) -> None:
        if self.rank == 0:
            atomic_torch_save(self.state(), self.out / STATE_FILE)

    def resume(self) -> bool:
        """Continue from ``state.pt`` if there is one; returns whether it did."""
        path = self.out / STATE_FILE
        if not path.is_file():
            return False
        state = read_torch_file(path)
        if from_dict(state["model_config"]) != self.model_config:
            raise ValueError(f"{path} was written for another model configuration")
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch, self.iteration = int(state["epoch"]), int(state["iteration"])
        self.generator.set_state(state["generator"])
        self.best_auc = float(state["best_auc"])
        self.history = json.loads(state["history"])
        log.info("resumed from %s at epoch %d iteration %d", path, self.epoch, self.iteration)
        return True

    # -- training -------------------------------------------------------------
    def loss(self, batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The objective's losses on one batch of pairs (crops as float, channels-last, on the device)."""
        def crops(key: str) -> torch.Tensor:
            return batch[key].to(self.device, non_blocking=True).float().contiguous(memory_format=torch.channels_last)

        pairs = {"z": crops("z"), "x": crops("x"), "box": batch["box"].to(self.device).float(), "negative": batch["negative"].to(self.device)}
        with self._autocast():
            outputs = self.model(pairs["z"], pairs["x"])
        return self.objective(outputs, pairs)

    def _autocast(self):
        """bfloat16 mixed precision on CUDA (``amp``); plain float32 on the CPU."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.amp and self.device.type == "cuda")

    def _teacher_scores(self, z: torch.Tensor, x: torch.Tensor):
        with self._autocast():
            return self.teacher(z, x)

    def _loader(self) -> DataLoader:
        indices = list(range(self.rank, self.cfg.optim.pairs_per_epoch, self.world))
        indices = indices[: self.iterations_per_epoch * self.cfg.optim.batch_size]
        indices = indices[self.iteration * self.cfg.optim.batch_size :]
        self.dataset.set_epoch(self.epoch)
        return DataLoader(
            Subset(self.dataset, indices), batch_size=self.cfg.optim.batch_size, shuffle=False,
            num_workers=self.cfg.workers, pin_memory=self.device.type == "cuda", drop_last=True,
            worker_init_fn=ignore_sigint if self.cfg.workers else None,
        )

    def fit(self, max_iterations: Optional[int] = None) -> List[Dict]:
        """Train to ``optim.epochs`` (or stop after ``max_iterations`` steps, state saved).
        Ctrl-C ends the step under way, saves the state at it and raises KeyboardInterrupt."""
        from tqdm import tqdm

        steps = 0
        log_path = self.out / "log.jsonl"
        per_epoch = self.iterations_per_epoch
        if per_epoch == 0:
            raise ValueError("pairs_per_epoch is smaller than one batch per rank")
        with StopRequest() as stop:
            while self.epoch < self.cfg.optim.epochs:
                self.net.train()
                frozen = apply_freezing(self.net.backbone, self.cfg.optim, self.epoch)
                if self.world > 1 and frozen != self._frozen:  # DDP syncs the parameters that train when it is built
                    self.model = DistributedDataParallel(self.net)
                self._frozen = frozen
                bar = tqdm(total=per_epoch, initial=self.iteration, desc=f"epoch {self.epoch + 1}/{self.cfg.optim.epochs}", disable=self.rank != 0, leave=False)
                if frozen:
                    log.info("epoch %d: %d backbone parameter tensors frozen", self.epoch + 1, frozen)
                tic = ready = time.perf_counter()
                try:  # the bar is gone before anything else is printed, a second Ctrl-C's line too
                    for batch in self._loader():
                        data_wait = time.perf_counter() - ready  # this step waited for its batch: the loader is too slow
                        lr = learning_rate(self.cfg.optim, self.epoch + self.iteration / per_epoch)
                        for group in self.optimizer.param_groups:
                            group["lr"] = lr * group.get("lr_scale", 1.0)
                        losses = self.loss(batch)
                        self.optimizer.zero_grad(set_to_none=True)
                        losses["loss"].backward()
                        torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.optim.grad_clip)
                        self.optimizer.step()
                        self.iteration += 1
                        steps += 1
                        elapsed = time.perf_counter() - tic
                        tic = time.perf_counter()
                        record = {"time": round(time.time(), 3), "epoch": self.epoch, "iteration": self.iteration, "lr": lr, "pairs_per_s": self.cfg.optim.batch_size * self.world / max(elapsed, 1e-9), "data_wait_s": round(data_wait, 4)}
                        record.update({k: float(v.detach()) for k, v in losses.items()})
                        if self.rank == 0:
                            with open(log_path, "a") as fh:
                                fh.write(json.dumps(record) + "\n")
                            bar.set_postfix(loss=f"{record['loss']:.3f}", lr=f"{lr:.4f}", wait=f"{data_wait:.2f}s")
                            bar.update(1)
                        if stop.requested:
                            bar.close()
                            self.save_state()  # at iteration == per_epoch too: resuming then ends the epoch
                            self._interrupted()
                        if self.iteration % self.cfg.checkpoint_every == 0 and self.iteration < per_epoch:
                            self.save_state()
                        ready = time.perf_counter()
                        if max_iterations is not None and steps >= max_iterations:
                            bar.close()
                            if self.iteration >= per_epoch:
                                self._end_epoch()
                            else:
                                self.save_state()
                            return self.history
                finally:
                    bar.close()
                self._end_epoch()
                if stop.requested:  # during the epoch's validation: its end is saved
                    self._interrupted()
        return self.history

    def _interrupted(self) -> None:
        log.info("interrupted: state saved at epoch %d, iteration %d in %s; --resume continues from there",
                 self.epoch + 1, self.iteration, self.out / STATE_FILE)
        raise KeyboardInterrupt

    def _end_epoch(self) -> None:
        self.epoch += 1
        self.iteration = 0
        result = {"epoch": self.epoch}
        if self.rank == 0:
            if self.cfg.data.val_sequences > 0 and os.path.isdir(self.cfg.data.val_root):
                result.update(self.validate())
            self.history.append(result)
            meta = {"epoch": self.epoch, "val": result, "train_config": to_dict(self.cfg)}
            if self.initial_weights:
                meta["initial_weights"] = self.initial_weights
            save_checkpoint(self.out / "model_last.pt", self.net, meta)
            if self.cfg.keep_epochs:
                save_checkpoint(self.out / f"model_e{self.epoch}.pt", self.net, meta)
            if result.get("val_auc", -1) > self.best_auc:
                self.best_auc = result["val_auc"]
                save_checkpoint(self.out / "model_best.pt", self.net, meta)
            with open(self.out / "log.jsonl", "a") as fh:
                fh.write(json.dumps({"event": "epoch_end", "time": round(time.time(), 3), **result}) + "\n")
            log.info("epoch %d: %s", self.epoch, result)
        self.save_state()
        if self.world > 1:
            dist.barrier()

    def validate(self) -> Dict[str, float]:
        """Mean OTB success AUC on a fixed spread of ``val`` sequences."""
        sequences = read_dataset(self.cfg.data.val_root)
        n = min(self.cfg.data.val_sequences, len(sequences))
        picks = [sequences[i] for i in np.linspace(0, len(sequences) - 1, n).round().astype(int)]
        net = copy.deepcopy(self.net).eval()
        tracker = build_tracker(net, self.model_config, self.device)
        aucs = []
        for seq in picks:
            run = run_sequence(tracker, seq, max_frames=self.cfg.data.val_frames)
            m = len(run.boxes)
            aucs.append(score_sequence(run.boxes, seq.boxes[:m], seq.absent[:m]).auc)
        return {"val_auc": float(np.nanmean(aucs)), "val_sequences": [s.name for s in picks]}
