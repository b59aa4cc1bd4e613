"""``siamtrack train``: one config file, the same command on a laptop or under torchrun."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..config import load_config_file, parse_overrides, to_dict, with_overrides
from ..network import resolve_device
from ..outputs import writable_dir
from ..video.cli import positive_int

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a config file (torchrun for several processes)")
    p.add_argument("--config", required=True, help="training YAML, e.g. configs/train/light.yaml")
    p.add_argument("--out", required=True, help="run folder: state.pt, model_best.pt, model_last.pt, log.jsonl")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from OUT/state.pt")
    p.add_argument("--device", default=None, help="cpu | cuda | cuda:N | auto (default: cuda when available)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config value, e.g. optim.epochs=5")
    p.add_argument("--max-iterations", type=positive_int, default=None, help="stop after this many steps (>= 1; state saved)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..extras import require_torch

    require_torch("siamtrack train")
    from .config import TrainConfig
    from .trainer import STATE_FILE, Trainer

    cfg = with_overrides(load_config_file(args.config, TrainConfig), parse_overrides(args.overrides))
    out = Path(args.out)
    if (out / STATE_FILE).exists() and not args.resume:
        print(f"error: {out} already holds a run; pass --resume to continue it or choose another --out", file=sys.stderr)
        return 2
    # checked before the data is read (minutes, for a large set)
    device = resolve_device(args.device)
    writable_dir(out, "--out")
    trainer = Trainer(cfg, str(out), device=device)
    if args.resume and not trainer.resume():
        log.info("nothing to resume in %s; starting a new run", out)
    if trainer.rank == 0:
        (out / "train_config.yaml").write_text(__import__("yaml").safe_dump(to_dict(cfg), sort_keys=False))
    history = trainer.fit(args.max_iterations)
    if trainer.rank == 0:
        print(f"training state in {out}; best val AUC {trainer.best_auc:.3f}; history: {history[-3:]}")
    return 0


if __name__ == "__main__":  # python -m tracker.train.cli ... (same as `siamtrack train ...`)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _parser = argparse.ArgumentParser(prog="siamtrack")
    add_parser(_parser.add_subparsers())
    sys.exit(run(_parser.parse_args(["train"] + sys.argv[1:])))
