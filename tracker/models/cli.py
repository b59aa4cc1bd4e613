"""``siamtrack convert``: public checkpoints (siamfc-pytorch, pysot) -> siamtrack checkpoints."""
from __future__ import annotations

import argparse

# the layouts convert.py reads (importing it needs torch; the parser must not)
LAYOUTS = ("pysot-alex-dwxcorr", "siamfc-pytorch")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a siamfc-pytorch or pysot checkpoint")
    p.add_argument("checkpoint", help="the public .pth file")
    p.add_argument("--layout", required=True, choices=LAYOUTS)
    p.add_argument("--out", required=True, help="siamtrack checkpoint to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..extras import require_torch

    require_torch("siamtrack convert")
    from .checkpoint import save_checkpoint
    from .convert import convert_file

    ckpt = convert_file(args.checkpoint, args.layout)
    save_checkpoint(args.out, ckpt.build(), ckpt.meta)
    print(f"wrote {args.out} ({ckpt.config.name}); use it with --weights {args.out}")
    return 0
