#!/usr/bin/env python3
"""Does an RPN head measure the target's size, or copy the size it is told?

For every 3rd frame of every sot/val sequence the tracker's state is set to the ground
truth with its width and height multiplied by a factor, as if the tracker had drifted in
size; one search crop is taken and the box of the anchor the tracker would pick (change
penalty and cosine window included) is compared with the truth. A head that measures the
size returns log(pred / true) near 0 whatever the factor (full restoring force); one that
copies the state returns log(factor). Size errors that are not pulled back random-walk
over a sequence, which is what a low SR0.75 with a good Prec@20 looks like.

    python benchmarks/scale_restoring.py --model siamrpn --out benchmarks/results/scale_restoring.md
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

from _markdown import publish, table
from _models import load_rpn_tracker
from tracker.data.readers import read_dataset
from tracker.data.sequence import read_image
from tracker.geometry import xywh_to_cxcywh
from tracker.trackers.siamrpn import SiamRPNTracker

FACTORS = ((1.0, 1.0), (1.3, 1.3), (0.77, 0.77), (1.3, 0.77), (0.77, 1.3))


def measure(tracker: SiamRPNTracker, sequences, factors, step: int):
    """Per factor: (log w error, log h error) of the picked box per probed frame, and the
    fraction of the imposed log error the pick removes (1 = full restoring force, 0 = none).
    Each probed frame is decoded once and probed with every factor."""
    influence = tracker.config.siamrpn.window_influence
    errors = {factor: [] for factor in factors}
    for seq in sequences:
        tracker.init(read_image(seq.frames[0]), tuple(seq.init_box))
        state = tracker.state
        for i in range(1, len(seq), step):
            if seq.absent[i]:
                continue
            image = read_image(seq.frames[i])
            truth = xywh_to_cxcywh(seq.boxes[i])
            for factor in factors:
                state.center, state.size = truth[:2].copy(), truth[2:] * np.array(factor)
                crops = tracker.search_crops(image, state)
                outputs = list(tracker.net.track(tracker.batch(crops), *state.kernels))
                c = tracker.candidates(state, outputs)
                best = int(np.argmax(c.pscore(influence)))
                errors[factor].append(np.log(c.boxes[2:, best] / (truth[2:] * state.extra["scale_z"])))
    results = {}
    for factor, values in errors.items():
        values, imposed = np.array(values), np.log(np.array(factor))
        results[factor] = values, [1 - values[:, j].mean() / imposed[j] if imposed[j] else float("nan") for j in range(2)]
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="NAME or NAME=CHECKPOINT (repeatable)")
    p.add_argument("--root", default=os.path.join(os.environ.get("SIAMTRACK_SHARED", "../shared"), "data/sot/val"))
    p.add_argument("--step", type=int, default=3, help="probe every STEP-th frame")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)

    sequences = read_dataset(args.root)
    rows = []
    for spec in args.model:
        tracker = load_rpn_tracker(spec, "SiamFC measures size by its scale search")
        for factor, (errors, restoring) in measure(tracker, sequences, FACTORS, args.step).items():
            rows.append([spec, f"{factor[0]:g} x {factor[1]:g}", len(errors),
                         f"{errors[:, 0].mean():+.3f} ± {errors[:, 0].std():.3f}", f"{errors[:, 1].mean():+.3f} ± {errors[:, 1].std():.3f}",
                         " / ".join("-" if np.isnan(r) else f"{r:.2f}" for r in restoring)])
    lines = ["# Scale restoring force of the RPN heads on sot/val", "",
             f"`python benchmarks/scale_restoring.py {' '.join(sys.argv[1:])}`", "",
             "State = ground truth with (width, height) scaled by the factor; the picked box's log(pred / true)",
             "(mean ± std over probed frames) and the fraction of the imposed error it removes (w / h).", ""]
    lines += table(["model", "size factor (w x h)", "frames", "log w error", "log h error", "restoring w / h"], rows)
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
