"""Reports: per-sequence and mean tables (markdown + JSON) and success/precision plots."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..data.sequence import Sequence
from ..geometry import iou
from .experiment import load_results
from .metrics import IOU_THRESHOLDS, PRECISION_THRESHOLDS, center_errors, got10k_overall, score_sequence, scored_mask

log = logging.getLogger(__name__)

COLUMNS = ("auc", "precision", "norm_precision", "ao", "sr50", "sr75")


def _resolution(seq: Sequence):
    """``(width, height)`` from GOT-10k's ``meta_info.ini``, or None."""
    text = seq.meta.get("resolution")
    if not text:
        return None
    try:
        width, height = (float(v) for v in text.strip("() ").split(","))
    except ValueError:
        return None
    return width, height


def evaluate(results_dir: str, trackers: List[str], sequences: List[Sequence]) -> Dict:
    """Scores of every tracker on every sequence; the mean is over sequences (OTB convention)."""
    report: Dict = {"trackers": {}}
    for name in trackers:
        per_seq, curves_s, curves_p, total_update, total_frames, pooled_runs = {}, [], [], 0.0, 0, []
        for seq in sequences:
            boxes, times = load_results(results_dir, name, seq)
            pooled_runs.append((boxes, seq.boxes, seq.visible, _resolution(seq)))
            s = score_sequence(boxes, seq.boxes, seq.absent)
            per_seq[seq.name] = {**{c: getattr(s, c) for c in COLUMNS}, "frames": s.frames, "fps": float((len(times) - 1) / max(times[1:].sum(), 1e-9))}
            mask = scored_mask(seq.boxes, seq.absent)
            p, g = np.nan_to_num(boxes[mask]), seq.boxes[mask]
            if len(g):
                ious, errs = iou(p, g), center_errors(p, g)
                curves_s.append((ious[:, None] > IOU_THRESHOLDS[None]).mean(axis=0))
                curves_p.append((errs[:, None] <= PRECISION_THRESHOLDS[None]).mean(axis=0))
            total_update += float(times[1:].sum())
            total_frames += len(times) - 1
        mean = {c: float(np.nanmean([v[c] for v in per_seq.values()])) for c in COLUMNS}
        mean["fps"] = total_frames / max(total_update, 1e-9)
        mean["ao_got10k"] = got10k_overall(pooled_runs)["ao"]
        report["trackers"][name] = {
            "mean": mean, "sequences": per_seq,
            "success_curve": np.mean(curves_s, axis=0).tolist(), "precision_curve": np.mean(curves_p, axis=0).tolist(),
        }
    return report


# a sequence counts as won or lost by a tracker when its AUC differs by more than this
CLEAR_DIFFERENCE = 0.02


def paired_difference(scores: Dict[str, float], reference: Dict[str, float]) -> Optional[Dict]:
    """``scores`` minus ``reference`` on the sequences both score: the mean, its standard error
    and how many sequences each side wins by more than ``CLEAR_DIFFERENCE`` (None if none).
    On a few dozen sequences a mean AUC moves by 0.01-0.02 by chance (one track that flips
    between success and failure moves its sequence by 0.3); pairing the sequences says how
    much of a difference is more than that."""
    diffs = np.array([scores[q] - reference[q] for q in reference if q in scores], dtype=np.float64)
    diffs = diffs[np.isfinite(diffs)]
    if not len(diffs):
        return None
    se = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan")
    return {"mean": float(diffs.mean()), "standard_error": se, "sequences": int(len(diffs)),
            "better": int((diffs > CLEAR_DIFFERENCE).sum()), "worse": int((diffs < -CLEAR_DIFFERENCE).sum())}


def paired_differences(report: Dict, reference: str) -> Dict[str, Dict]:
    """Each other tracker's AUC against ``reference``'s (:func:`paired_difference`)."""
    def aucs(name: str) -> Dict[str, float]:
        return {q: v["auc"] for q, v in report["trackers"][name]["sequences"].items()}

    base = aucs(reference)
    out = {}
    for name in report["trackers"]:
        if name == reference:
            continue
        d = paired_difference(aucs(name), base)
        if d is not None:
            out[name] = d
    return out


SUMMARY = (("AUC", "auc", "{:.3f}"), ("Prec@20", "precision", "{:.3f}"), ("SR0.5", "sr50", "{:.3f}"),
           ("SR0.75", "sr75", "{:.3f}"), ("fps", "fps", "{:.1f}"))


def summary(report: Dict) -> str:
    """The mean scores of each tracker, best AUC first, as an aligned plain-text table (what
    ``siamtrack eval`` prints when it ends)."""
    rows = [["tracker", *(head for head, _, _ in SUMMARY)]]
    for name, data in sorted(report["trackers"].items(), key=lambda kv: -kv[1]["mean"]["auc"]):
        rows.append([name, *(fmt.format(data["mean"][key]) for _, key, fmt in SUMMARY)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
                     for row in rows) + "\n"


def markdown(report: Dict, title: str = "Results") -> str:
    trackers = report["trackers"]
    lines = [f"# {title}", "", "OTB success AUC and precision@20px, GOT-10k AO/SR over the frames after the first (absent frames not scored); fps of `update` alone. AO is the mean over sequences; AO (GOT-10k) pools all frames as the GOT-10k toolkit does.", ""]
    lines += ["| tracker | AUC | Prec@20 | NormPrec | AO | AO (GOT-10k) | SR0.5 | SR0.75 | fps |", "|---|---|---|---|---|---|---|---|---|"]
    for name, data in sorted(trackers.items(), key=lambda kv: -kv[1]["mean"]["auc"]):
        m = data["mean"]
        lines.append(f"| {name} | {m['auc']:.3f} | {m['precision']:.3f} | {m['norm_precision']:.3f} | {m['ao']:.3f} | {m['ao_got10k']:.3f} | {m['sr50']:.3f} | {m['sr75']:.3f} | {m['fps']:.1f} |")
    if len(trackers) > 1:
        reference = next(iter(trackers))
        lines += ["", f"## AUC against {reference}", "",
                  f"Each tracker's AUC minus {reference}'s on the same sequences: the mean difference, its standard error "
                  f"(a difference within about two of them is chance on this many sequences), and the sequences won and lost by more than {CLEAR_DIFFERENCE}.", "",
                  "| tracker | AUC difference | standard error | sequences better | sequences worse |", "|---|---|---|---|---|"]
        for name, d in paired_differences(report, reference).items():
            lines.append(f"| {name} | {d['mean']:+.3f} | {d['standard_error']:.3f} | {d['better']} of {d['sequences']} | {d['worse']} of {d['sequences']} |")
    names = sorted(trackers)
    seqs = list(next(iter(trackers.values()))["sequences"]) if trackers else []
    lines += ["", "## AUC per sequence", "", "| sequence | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for seq in seqs:
        lines.append(f"| {seq} | " + " | ".join(f"{trackers[n]['sequences'][seq]['auc']:.3f}" for n in names) + " |")
    for name in names:
        lines += ["", f"## {name}: every sequence", "", "| sequence | frames | AUC | Prec@20 | SR0.5 | SR0.75 | fps |", "|---|---|---|---|---|---|---|"]
        for seq, v in trackers[name]["sequences"].items():
            lines.append(f"| {seq} | {v['frames']} | {v['auc']:.3f} | {v['precision']:.3f} | {v['sr50']:.3f} | {v['sr75']:.3f} | {v['fps']:.1f} |")
    return "\n".join(lines) + "\n"


def plot(report: Dict, folder: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for key, xs, xlabel, ylabel, fname in (
        ("success_curve", IOU_THRESHOLDS, "overlap threshold", "success rate", "success_plot.png"),
        ("precision_curve", PRECISION_THRESHOLDS, "location error threshold (px)", "precision", "precision_plot.png"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
        for name, data in sorted(report["trackers"].items(), key=lambda kv: -kv[1]["mean"]["auc"]):
            m = data["mean"]
            label = f"{name} [{m['auc']:.3f}]" if key == "success_curve" else f"{name} [{m['precision']:.3f}]"
            ax.plot(xs, data[key], label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left" if key == "success_curve" else "lower right", fontsize=8)
        fig.tight_layout()
        path = folder / fname
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def write_report(report: Dict, folder: str, title: str) -> List[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "report.md").write_text(markdown(report, title))
    written = [out / "report.json", out / "report.md"]
    try:
        written += plot(report, out)
    except ImportError:  # matplotlib is an optional extra: the tables are still written
        log.warning("no success/precision plots: matplotlib is not installed (pip install -e \".[eval]\")")
    return written
