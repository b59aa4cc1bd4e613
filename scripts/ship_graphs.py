#!/usr/bin/env python3
"""Export the onnxruntime graphs of shipped models into weights/ and record them in
weights/manifest.json (files, sha256, sizes, the graphs' description, the weights they
came from), so that loading a shipped model needs neither an export nor torch.

    python scripts/ship_graphs.py            # every shipped model
    python scripts/ship_graphs.py --name light
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.export.onnx import write_runtime_graphs  # noqa: E402
from tracker.zoo import load_model, shipped_entry, weights_dir  # noqa: E402

MAX_TOTAL_BYTES = 60 * 1024 * 1024  # every shipped graph together


def ship_graphs(name: str) -> Dict[str, Any]:
    """Write ``name``'s graphs and return its manifest record of them."""
    import onnx
    import torch

    record = write_runtime_graphs(load_model(name).build(), weights_dir(), name)
    record["weights_sha256"] = shipped_entry(name)["sha256"]
    record["exported_with"] = {"torch": torch.__version__.split("+")[0], "onnx": onnx.__version__}
    return record


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", action="append", help="a shipped model (repeatable; default: all)")
    args = p.parse_args()
    manifest_path = weights_dir() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for name in args.name or sorted(manifest["models"]):
        manifest["models"][name]["graphs"] = record = ship_graphs(name)
        sizes = ", ".join(f"{f['file']} {f['bytes'] / 1e6:.2f} MB" for f in record["files"].values())
        print(f"{name}: {sizes}")
    total = sum(f["bytes"] for entry in manifest["models"].values() for f in entry.get("graphs", {}).get("files", {}).values())
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"the shipped graphs take {total / 1e6:.1f} MB, over {MAX_TOTAL_BYTES / 2**20:.0f} MiB")
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"all shipped graphs: {total / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
