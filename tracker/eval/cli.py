"""``siamtrack eval``: run models (and OpenCV baselines) over a dataset, then report."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..data.readers import read_dataset
from ..errors import ConfigError, DatasetError, TrackerError
from ..outputs import writable_dir
from ..video.cli import positive_int

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="benchmark on a GOT-10k / OTB / VOT / LaSOT layout dataset")
    p.add_argument("root", help="dataset root (e.g. ../shared/data/sot/val)")
    p.add_argument("--layout", default="auto", help="got10k | otb | vot | lasot | auto")
    p.add_argument("--model", action="append", default=[],
                   help="model to run (repeatable); default: every shipped model and the available OpenCV baselines")
    p.add_argument("--weights", help="checkpoint for a single --model")
    p.add_argument("--name", help="tracker name in the results (default: the model name)")
    p.add_argument("--baselines", default=None,
                   help="OpenCV trackers to run beside: a comma list of csrt,kcf,mil,nano, 'auto' (those available) or 'none'; "
                        "default: 'auto' without --model/--weights, 'none' with them")
    p.add_argument("--results-dir", required=True, help="got10k-layout results: DIR/<tracker>/<seq>/<seq>_001.txt")
    p.add_argument("--report", help="folder for report.md/.json and plots (the summary table is printed either way)")
    p.add_argument("--workers", type=positive_int, default=1, help="parallel worker processes")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run sequences as Ray tasks (ADDRESS of a cluster, or none for a local instance)")
    p.add_argument("--no-resume", action="store_true", help="re-run sequences that already have results")
    p.add_argument("--sequences", help="comma list of sequence names to run (default: all)")
    p.add_argument("--starts", type=positive_int, default=1, metavar="N",
                   help="OTB's TRE: track each sequence from N start frames spread over it (the first frame and N-1 later "
                        "ones), each to its end, and report over all runs: N times the runs, a steadier mean on a small set")
    p.add_argument("--compare", action="store_true", help="report every tracker with complete results in --results-dir (earlier runs too)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="tracker hyper-parameter for our models, e.g. siamrpn.lr=0.2 (repeatable)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime", "openvino"],
                   help="network runtime (auto: the model's faster CPU runtime; onnxruntime where torch is not installed)")
    p.add_argument("--plain", action="store_true",
                   help="run the network exactly as trained (no BatchNorm folding, no onnxruntime): the reference for a fast path's AUC")
    p.set_defaults(func=run)


def model_overrides(models: List[Optional[str]], weights: Optional[str], overrides: Dict[str, Any]) -> Dict[Optional[str], Dict[str, Any]]:
    """Each model's share of ``--set``, every model (and ``--weights``) checked as ``track``
    checks it. Of several models each takes the keys of its own tracker (``siamrpn.lr`` goes
    to the SiamRPN models); a key no model of the run reads is an error, as for one model."""
    from ..zoo import check_model_options, override_applies, shipped_config

    if len(models) == 1:  # a shipped model or --weights
        check_model_options(models[0], weights, overrides)
        return {models[0]: dict(overrides)}
    configs = {m: shipped_config(m) for m in models}
    shares = {m: {k: v for k, v in overrides.items() if override_applies(cfg, k)} for m, cfg in configs.items()}
    for key in overrides:
        if not any(key in share for share in shares.values()):
            raise ConfigError(f"{key}: no model of this run is a {key.split('.', 1)[0]} tracker ({', '.join(map(str, models))})")
    for m, share in shares.items():
        check_model_options(m, None, share)
    return shares


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from ..config import parse_overrides
    from ..network import resolve_device
    from ..zoo import list_models
    from .baselines import OpenCVTracker, available_baselines
    from .experiment import TrackerSpec, run_experiment, temporal_starts
    from .report import evaluate, summary, write_report

    sequences = read_dataset(args.root, args.layout)
    if args.sequences:
        wanted = [name.strip() for name in args.sequences.split(",") if name.strip()]
        unknown = sorted(set(wanted) - {s.name for s in sequences})
        if unknown or not wanted:
            names = ", ".join(s.name for s in sequences[:5]) + (", ..." if len(sequences) > 5 else "")
            raise DatasetError(f"--sequences: no sequence {', '.join(unknown) or repr(args.sequences)} in {args.root} "
                               f"({len(sequences)} sequences: {names})")
        sequences = [s for s in sequences if s.name in wanted]
    title = str(args.root)
    if args.starts > 1:
        count = len(sequences)
        sequences = temporal_starts(sequences, args.starts)
        title += f", TRE: {len(sequences)} runs from up to {args.starts} start frames in each of {count} sequences"
    # every argument is checked before the first sequence runs (in workers, where errors come late)
    models = args.model or ([] if args.weights else list_models())
    if args.weights and len(models) > 1:
        raise TrackerError("--weights applies to a single --model")
    overrides = parse_overrides(args.overrides)
    per_model = model_overrides(models or [None], args.weights, overrides)
    resolve_device(args.device)
    writable_dir(args.results_dir, "--results-dir")
    if args.report:
        writable_dir(args.report, "--report")
    specs = [TrackerSpec(name=args.name or m or "custom", model=m, weights=args.weights, device=args.device, backend=args.backend,
                         overrides=tuple(per_model[m].items()), fast=not args.plain) for m in (models or [None])]
    asked = args.baselines or ("none" if args.model or args.weights else "auto")
    if asked == "auto":
        baselines = available_baselines()
    elif asked == "none":
        baselines = []
    else:
        baselines = [b.strip() for b in asked.split(",") if b.strip()]
        for b in baselines:
            OpenCVTracker(b)  # an unknown or unavailable one fails here
    specs += [TrackerSpec(name=f"opencv_{b}", kind="opencv", model=b) for b in baselines]
    total = len(specs) * len(sequences)
    # log lines above the bar, and the bar closed before an error or Ctrl-C's line is printed
    with logging_redirect_tqdm(), tqdm(total=total, unit="seq", file=sys.stderr) as bar:
        done = run_experiment(specs, sequences, args.results_dir, workers=args.workers, resume=not args.no_resume,
                              on_done=lambda r: bar.update(1), ray_address=args.ray)
    print(f"ran {len(done)} sequence runs ({total - len(done)} already done) into {args.results_dir}")
    names = [s.name for s in specs]
    if args.compare:
        from .experiment import is_done

        found = sorted(p.name for p in Path(args.results_dir).iterdir() if p.is_dir())
        names += [n for n in found if n not in names and all(is_done(Path(args.results_dir), n, q) for q in sequences)]
    report = evaluate(args.results_dir, names, sequences)
    print(f"\n{title}: {len(sequences)} sequences, mean over sequences (fps: the tracker's update alone)\n{summary(report)}")
    if args.report:
        paths = write_report(report, args.report, title)
        print("report:", ", ".join(str(p) for p in paths))
    return 0
