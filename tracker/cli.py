"""The ``siamtrack`` command: track, serve, train, convert (and more as sub-commands).

Every error a user can cause ends the same way: one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import List, NoReturn, Optional

from .errors import TrackerError

# a value that starts with "-" but is numbers, e.g. the box "-5,-5,20,20"
_NEGATIVE_NUMBERS = re.compile(r"^-[\d.]")
_NUMBER_OPTIONS = ("--init",)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: argparse's own print the whole usage first."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def join_negative_values(argv: List[str]) -> List[str]:
    """``--init -5,-5,20,20`` -> ``--init=-5,-5,20,20``: argparse takes a value that starts with
    "-" for an option (only ``--init=-5,...`` would work), and a box near the top-left corner
    of a frame may well start outside it."""
    out: List[str] = []
    for arg in argv:
        if out and out[-1] in _NUMBER_OPTIONS and _NEGATIVE_NUMBERS.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def quiet_opencv() -> None:
    """OpenCV's and FFmpeg's own log lines (``[mov,mp4 @ 0x...] moov atom not found``) would
    land in the middle of the progress bar; our errors say what went wrong instead. An
    environment variable set by the user wins."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read when FFmpeg is first used
    import cv2

    if os.environ["OPENCV_LOG_LEVEL"] == "ERROR":
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .eval import cli as eval_cli
    from .export import cli as export_cli
    from .models import cli as convert_cli
    from .serve import cli as serve_cli
    from .train import cli as train_cli
    from .video import cli as track_cli

    parser = Parser(prog="siamtrack", description="Real-time Siamese visual object tracking.")
    parser.add_argument("--version", action="version", version=f"siamtrack {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (and OpenCV's own log lines)")
    parser.add_argument("--list-models", action="store_true", help="print the shipped models (description, val AUC, fps) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    track_cli.add_parser(sub)
    train_cli.add_parser(sub)
    convert_cli.add_parser(sub)
    eval_cli.add_parser(sub)
    export_cli.add_parser(sub)
    serve_cli.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = join_negative_values(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            if args.list_models:
                from .video.cli import print_models

                return print_models()
            if args.command is not None:
                parser.print_help()
                return 2
            # `siamtrack` alone runs the embedded demo, like `siamtrack track`.
            args = parser.parse_args(argv + ["track"])
    except SystemExit as exc:  # --help, --version, a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        quiet_opencv()
    try:
        return int(args.func(args) or 0)
    except (TrackerError, OSError) as exc:  # bad input, or a file that cannot be read or written
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
