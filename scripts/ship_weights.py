#!/usr/bin/env python3
"""Copy a trained checkpoint into weights/ and record it in weights/manifest.json:
sha256, model config, the exact training command, data, epochs, wall time, hardware and
the measured val results (from a `siamtrack eval` report.json); then export its
onnxruntime graphs beside it (scripts/ship_graphs.py).

    python scripts/ship_weights.py --name light --checkpoint runs/train/light/model_best.pt \
        --command "siamtrack train --config configs/train/light.yaml --out runs/train/light" \
        --report benchmarks/results/val/report.json --wall-time-h 1.6 --hardware "2-core AMD Zen 3 CPU"
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ship_graphs import ship_graphs
from tracker.config import parse_overrides, to_dict, with_overrides
from tracker.digest import sha256_of
from tracker.models.checkpoint import load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 30 * 1024 * 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--command", required=True, help="the exact training command")
    p.add_argument("--report", required=True, help="report.json of `siamtrack eval` on sot/val")
    p.add_argument("--tracker-name", help="name of the model in the report (default: --name)")
    p.add_argument("--eval-command", required=True, help="the exact evaluation command")
    p.add_argument("--wall-time-h", type=float, required=True)
    p.add_argument("--hardware", required=True)
    p.add_argument("--data", default="../shared/data/sot/train (42 sequences, 7,991 frames) + ../shared/data/videos (29 unannotated clips, self-supervised pairs)")
    p.add_argument("--notes", default="")
    p.add_argument("--description", help="one line for `siamtrack --list-models` (default: the model's previous one)")
    p.add_argument("--fps", type=int, help="end-to-end fps at 640x480 (benchmarks/speed_under_load.py; default: the previous)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config values chosen after training (tracking hyper-parameters tuned on val, "
                        "cpu_backend, name), recorded in the manifest")
    args = p.parse_args()

    ckpt = load_checkpoint(args.checkpoint)
    overrides = parse_overrides(args.overrides)
    ckpt.config = with_overrides(ckpt.config, overrides)
    report = json.loads(Path(args.report).read_text())["trackers"][args.tracker_name or args.name]
    results = {"dataset": "../shared/data/sot/val (29 sequences, 3,433 frames)", "protocol": "first-frame init; OTB success AUC over frames after the first; absent frames not scored",
               **{k: round(v, 4) for k, v in report["mean"].items()}}
    meta = dict(ckpt.meta)
    meta.pop("source", None)
    meta.update({"name": args.name, "training_command": args.command, "training_data": args.data, "val_results": results})
    weights = ROOT / "weights"
    target = weights / f"{args.name}.pt"
    net = ckpt.build()
    save_checkpoint(target, net, meta)
    if target.stat().st_size > MAX_BYTES:
        raise SystemExit(f"{target} is over 30 MB")
    manifest_path = weights / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {"models": {}}
    train_cfg = meta.get("train_config", {})
    previous = manifest["models"].get(args.name, {})
    description, fps = args.description or previous.get("description"), args.fps or previous.get("fps")
    if not description or not fps:
        raise SystemExit(f"{args.name} is new: give --description and --fps")
    manifest["models"][args.name] = {
        "file": target.name,
        "sha256": sha256_of(target),
        "bytes": target.stat().st_size,
        "description": description,
        "val_auc": round(results["auc"], 3),
        "fps": fps,
        "config": to_dict(ckpt.config),
        "config_overrides": overrides,
        "training_command": args.command,
        "training_config": train_cfg,
        "training_data": args.data,
        # ImageNet weights the run started from (package, version, file, sha256, licence)
        **({"initial_weights": meta["initial_weights"]} if meta.get("initial_weights") else {}),
        "epochs": meta.get("epoch"),
        "pairs_seen": (meta.get("epoch") or 0) * train_cfg.get("optim", {}).get("pairs_per_epoch", 0),
        "wall_time_hours": args.wall_time_h,
        "hardware": args.hardware,
        "eval_command": args.eval_command,
        "val_results": results,
        "notes": args.notes,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")  # ship_graphs reads the entry's sha256
    manifest["models"][args.name]["graphs"] = ship_graphs(args.name)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"shipped {target} ({target.stat().st_size / 1e6:.2f} MB), sha256 {manifest['models'][args.name]['sha256'][:16]}...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
