#!/usr/bin/env python3
"""Do the exported graphs load and compute the same numbers in another OpenCV release?

Exports every architecture (random weights: this checks operators and arithmetic, not
accuracy), records onnxruntime's outputs, then runs the graphs with ``cv2.dnn`` under the
given Python interpreter (e.g. a venv with ``opencv-python-headless==4.12.0.88``):

    python -m venv /tmp/cv4 && /tmp/cv4/bin/pip install numpy opencv-python-headless==4.12.0.88
    python benchmarks/opencv_versions.py --python /tmp/cv4/bin/python
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from tracker.export import ExportedNet, export_onnx
from tracker.models import SiameseNet
from tracker.zoo import architectures, model_config

CHECK = r"""
import json, sys, numpy as np, cv2
folder, name = sys.argv[1], sys.argv[2]
meta = json.load(open(f"{folder}/{name}.json")); io = np.load(f"{folder}/io.npz")
t = cv2.dnn.readNetFromONNX(f"{folder}/{meta['template']['file']}")
s = cv2.dnn.readNetFromONNX(f"{folder}/{meta['search']['file']}")
t.setInput(io["z"], "z"); names = list(meta["template"]["outputs"]); kernels = t.forward(names)
s.setInput(io["x"], "x")
for n, k in zip(names, kernels): s.setInput(k, n)
outs = s.forward(list(meta["search"]["outputs"]))
err = max(float(np.abs(a - io[f"o{i}"]).max() / np.abs(io[f"o{i}"]).max()) for i, a in enumerate(outs))
print(json.dumps({"opencv": cv2.__version__, "max_rel_err": err}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="interpreter whose cv2 runs the graphs")
    parser.add_argument("--out", default=None, help="append the table to this markdown file")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in architectures():
            torch.manual_seed(0)
            net = SiameseNet(model_config(name)).eval()
            folder = Path(tmp) / name
            paths = export_onnx(net, folder, name)
            meta = json.loads(Path(paths["config"]).read_text())
            rt = ExportedNet.from_files(paths["config"], "onnxruntime")
            z = np.random.rand(*meta["template"]["input"][1]).astype(np.float32) * 255
            x = np.random.rand(*meta["search"]["inputs"]["x"]).astype(np.float32) * 255
            kernels = rt.template(torch.from_numpy(z))
            outs = rt.track(torch.from_numpy(x), *kernels)
            np.savez(folder / "io.npz", z=z, x=x, **{f"o{i}": o.numpy() for i, o in enumerate(outs)})
            proc = subprocess.run([args.python, "-c", CHECK, str(folder), name], capture_output=True, text=True)
            result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {"opencv": "?", "error": proc.stderr.strip().splitlines()[-1]}
            rows.append({"model": name, **result})
    lines = ["| model | OpenCV | loads | max relative error vs onnxruntime |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['opencv']} | {'yes' if 'error' not in r else 'no: ' + r['error']} | {r.get('max_rel_err', float('nan')):.1e} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(f"\n`python benchmarks/opencv_versions.py --python {args.python}`\n\n" + text)
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
