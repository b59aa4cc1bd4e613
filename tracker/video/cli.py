"""``siamtrack track [SOURCE]``: track an object in a video, camera, stream or image folder.

With no SOURCE it runs the embedded demo: a generated clip tracked with the shipped
weights, writing ``runs/track/demo.mp4`` and ``runs/track/demo.txt``.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ..config import load_overrides_file, parse_overrides
from ..errors import SourceError, TrackerError
from .demo import generate_clip
from .loop import track_frames
from .output import VideoOutput, write_results
from .sources import ArraySource, open_source

DEMO_DIR = Path("runs") / "track"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="track an object (no SOURCE: the embedded demo)")
    p.add_argument("source", nargs="?", help="video file, webcam index, rtsp/http URL, image folder or glob")
    p.add_argument("--init", help="initial box x,y,w,h (0-based pixels)")
    p.add_argument("--select", action="store_true", help="draw the initial box with the mouse (needs a display)")
    p.add_argument("--model", default=None, help="shipped model name (see `siamtrack track --list-models`)")
    p.add_argument("--weights", help="a siamtrack checkpoint (overrides the shipped weights)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    p.add_argument("--half", action="store_true", help="fp16 autocast on CUDA")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime"],
                   help="network runtime (auto: onnxruntime on the CPU when installed)")
    p.add_argument("--config", help="YAML of tracker hyper-parameters to override, e.g. {siamrpn: {lr: 0.4}}")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="tracker hyper-parameter, e.g. siamrpn.lr=0.4")
    p.add_argument("--save", help="write the annotated video here (.mp4 or .avi)")
    p.add_argument("--results", help="write per-frame boxes here (.txt: got10k x,y,w,h lines; .json: boxes, scores, ok)")
    p.add_argument("--show", action="store_true", help="show a window (q or Esc to stop)")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.add_argument("--list-models", action="store_true", help="print the shipped models and exit")
    p.set_defaults(func=run)


def parse_box(text: str) -> Sequence[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise TrackerError(f"--init must be x,y,w,h numbers, got {text!r}") from None
    if len(values) != 4:
        raise TrackerError(f"--init must be 4 numbers x,y,w,h, got {len(values)}")
    return values


def has_display() -> bool:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        cv2.namedWindow("siamtrack-probe", cv2.WINDOW_NORMAL)
        cv2.destroyWindow("siamtrack-probe")
        return True
    except cv2.error:
        return False


def select_with_mouse(frame: np.ndarray) -> Sequence[float]:
    x, y, w, h = cv2.selectROI("siamtrack: select the target, then Enter", frame, showCrosshair=True)
    cv2.destroyAllWindows()
    if w <= 0 or h <= 0:
        raise TrackerError("no box was selected")
    return (float(x), float(y), float(w), float(h))


def show_window(image: np.ndarray) -> bool:
    cv2.imshow("siamtrack", image)
    return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)


def default_model() -> str:
    from ..zoo import DEFAULT_MODEL, list_models

    shipped = list_models()
    if not shipped:
        raise TrackerError("no shipped weights in weights/; pass --weights PATH (see README: training)")
    return DEFAULT_MODEL if DEFAULT_MODEL in shipped else shipped[0]


def run(args: argparse.Namespace) -> int:
    from ..zoo import list_models, load_tracker

    if args.list_models:
        print("\n".join(list_models()) or "(no shipped models)")
        return 0
    demo = args.source is None
    if args.init and args.select:
        raise TrackerError("give either --init or --select, not both")
    if (args.select or args.show) and not has_display():
        raise TrackerError("--select/--show need a display (none found: DISPLAY is unset or OpenCV has no GUI); use --init x,y,w,h and --save out.mp4 instead")
    name = args.model or (None if args.weights else default_model())
    overrides = load_overrides_file(args.config) if args.config else {}
    overrides.update(parse_overrides(args.overrides))
    tracker = load_tracker(name, weights=args.weights, device=args.device, backend=args.backend, overrides=overrides,
                           half=args.half)

    if demo:
        clip = generate_clip()
        source = ArraySource(clip.frames, "demo", clip.fps)
        init_box = tuple(clip.boxes[0])
        save = args.save or str(DEMO_DIR / "demo.mp4")
        results = args.results or str(DEMO_DIR / "demo.txt")
    else:
        source = open_source(args.source)
        if not args.init and not args.select:
            raise TrackerError("give the initial box with --init x,y,w,h (or --select with a display)")
        init_box = parse_box(args.init) if args.init else None
        save, results = args.save, args.results

    video = VideoOutput(save, source.fps or 30.0) if save else None
    frames = iter(source)
    if args.max_frames:
        frames = (f for i, f in zip(range(args.max_frames), frames))
    total = source.frame_count if not args.max_frames else min(args.max_frames, source.frame_count or args.max_frames)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="frame", disable=source.live, file=sys.stderr)
    # Ctrl-C sets a flag the loop checks between frames, so no library call can swallow it
    # and the output files are always closed properly.
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        summary = track_frames(
            tracker, frames, init_box=init_box, select_box=select_with_mouse if args.select else None,
            video=video, show=show_window if args.show else None, on_frame=lambda i: bar.update(1),
            stop=lambda: bool(interrupted),
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
        if video is not None:
            video.close()
        source.close()
        if args.show:
            cv2.destroyAllWindows()
    if summary.frames == 0:
        raise SourceError(f"no frames were read from {args.source}")
    if results:
        meta = {"source": "demo" if demo else str(args.source), "model": name or str(args.weights), "frames": summary.frames, "tracker_fps": round(summary.tracker_fps, 2)}
        write_results(results, summary.boxes, summary.scores, summary.oks, meta)
    what = "demo clip" if demo else source.name
    print(f"tracked {summary.frames} frames of {what} with {name or args.weights}: "
          f"{summary.tracker_fps:.1f} fps (tracker), {summary.fps:.1f} fps (end to end)")
    if save:
        print(f"annotated video: {save}")
    if results:
        print(f"results: {results}")
    return 130 if summary.interrupted and not demo and not args.show else 0
