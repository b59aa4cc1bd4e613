"""The ``siamtrack`` command: track, train, convert (and more as sub-commands)."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from .errors import TrackerError


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .eval import cli as eval_cli
    from .export import cli as export_cli
    from .models import cli as convert_cli
    from .train import cli as train_cli
    from .video import cli as track_cli

    parser = argparse.ArgumentParser(prog="siamtrack", description="Real-time Siamese visual object tracking.")
    parser.add_argument("--version", action="version", version=f"siamtrack {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    track_cli.add_parser(sub)
    train_cli.add_parser(sub)
    convert_cli.add_parser(sub)
    eval_cli.add_parser(sub)
    export_cli.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        if args.command is None:
            # `siamtrack` alone runs the embedded demo, like `siamtrack track`.
            args = parser.parse_args(["track"] + (argv or []))
        else:
            parser.print_help()
            return 2
    try:
        return int(args.func(args) or 0)
    except TrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
