"""``siamtrack track [SOURCE]``: track objects in a video, camera, stream or image folder.

With no SOURCE it runs the embedded demo: a generated clip tracked with the shipped
weights, writing ``runs/track/demo.mp4`` and ``runs/track/demo.txt``. The loop itself is
:func:`tracker.video.pipeline.track_video`; this module draws, writes and reports.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..config import load_overrides_file, parse_overrides
from ..errors import DeviceError, TrackerError
from ..outputs import VIDEO_SUFFIXES, writable_file, writable_video
from .demo import generate_clip
from .output import RESULT_SUFFIXES, JsonLines, RateMeter, ResultsFile, VideoOutput, draw
from .pipeline import TrackedVideo, track_video
from .sources import ArraySource

DEMO_DIR = Path("runs") / "track"


def results_target(text: str) -> str:
    if text != "-" and Path(text).suffix.lower() not in RESULT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r}: results go to a .txt or .json file, or - (JSON lines on stdout)")
    return text


class Once(argparse.Action):
    """An option that may be given once: argparse keeps the last of several silently, and
    ``--results - --results r.txt`` would then drop the results the user piped."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        previous = getattr(namespace, self.dest, None)
        if previous is not None:
            parser.error(f"{option_string} given twice ({previous} and {values}): one {option_string} per run")
        setattr(namespace, self.dest, values)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="track objects (no SOURCE: the embedded demo)")
    p.add_argument("source", nargs="?", help="video file, webcam index, rtsp/http URL, image folder or glob")
    p.add_argument("--init", action="append", default=[], metavar="X,Y,W,H",
                   help="a target's box on the first frame (0-based pixels); repeat for several targets")
    p.add_argument("--select", action="store_true", help="draw the targets' boxes with the mouse (needs a display)")
    add_model_arguments(p)
    p.add_argument("--save", action=Once, help=f"write the annotated video here ({', '.join(VIDEO_SUFFIXES)})")
    p.add_argument("--results", type=results_target, action=Once,
                   help="per-frame results: .txt (got10k x,y,w,h lines; one file per target when several), "
                        ".json (boxes, scores, ok), or - (a JSON line per frame and target on stdout)")
    p.add_argument("--show", action="store_true", help="show a window (q or Esc to stop)")
    p.add_argument("--max-frames", type=positive_int, default=None, help="stop after this many frames (>= 1)")
    p.add_argument("--list-models", action="store_true", help="print the shipped models (description, val AUC, fps) and exit")
    p.set_defaults(func=run)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """The options that choose and tune the model (``track`` and ``serve``)."""
    p.add_argument("--model", default=None, help="shipped model name (see `siamtrack track --list-models`)")
    p.add_argument("--weights", help="a siamtrack checkpoint (overrides the shipped weights)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    p.add_argument("--half", action="store_true", help="fp16 autocast on CUDA")
    p.add_argument("--backend", default="auto", choices=["auto", "torch", "onnxruntime", "openvino"],
                   help="network runtime (auto: the model's faster CPU runtime; onnxruntime where torch is not installed)")
    p.add_argument("--config", help="YAML of tracker hyper-parameters to override, e.g. {siamrpn: {lr: 0.4}}")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="tracker hyper-parameter, e.g. siamrpn.lr=0.4")


def model_options(args: argparse.Namespace) -> Tuple[Optional[str], Dict[str, Any]]:
    """The model's name and :func:`tracker.load_tracker`'s options from ``add_model_arguments``'
    options, each checked without loading anything."""
    from ..network import resolve_device
    from ..zoo import check_model_options

    name = args.model or (None if args.weights else default_model())
    overrides = load_overrides_file(args.config) if args.config else {}
    overrides.update(parse_overrides(args.overrides))
    check_model_options(name, args.weights, overrides)
    device = resolve_device(args.device)
    if args.half and not device.startswith("cuda"):
        raise DeviceError("--half is the fast CUDA path: it needs --device cuda")
    return name, {"weights": args.weights, "device": args.device, "backend": args.backend, "overrides": overrides, "half": args.half}


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


def select_with_mouse(frame: np.ndarray) -> List[Sequence[float]]:
    rects = cv2.selectROIs("siamtrack: draw each target, Enter after each, Esc when done", frame, showCrosshair=True)
    cv2.destroyAllWindows()
    boxes = [tuple(float(v) for v in r) for r in np.reshape(rects, (-1, 4)) if r[2] > 0 and r[3] > 0]
    if not boxes:
        raise TrackerError("no box was selected")
    return boxes


def show_window(image: np.ndarray) -> bool:
    cv2.imshow("siamtrack", image)
    return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)


def default_model() -> str:
    from ..zoo import DEFAULT_MODEL, list_models

    shipped = list_models()
    if not shipped:
        raise TrackerError("no shipped weights in weights/; pass --weights PATH (see README: training)")
    return DEFAULT_MODEL if DEFAULT_MODEL in shipped else shipped[0]


def print_models() -> int:
    """``--list-models``: one line a shipped model, what to choose it by."""
    from ..zoo import DEFAULT_MODEL, model_infos

    infos = model_infos()
    if not infos:
        print("(no shipped models)")
    width = max((len(i.name) for i in infos), default=0)
    for i in infos:
        auc = f"val AUC {i.val_auc:.3f}" if i.val_auc is not None else "val AUC  -   "
        fps = f"{i.fps:4.0f} fps" if i.fps is not None else "   - fps"
        print(f"{i.name:<{width}}  {auc}  {fps}  {i.description}{'  [default]' if i.name == DEFAULT_MODEL else ''}")
    if infos:
        print("val AUC: success AUC on 29 real sequences (sot/val); fps: end to end at 640x480 on a 2-core CPU")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list_models:
        return print_models()
    # every argument is checked before the video is opened or the model loaded
    demo = args.source is None
    if args.init and args.select:
        raise TrackerError("give either --init or --select, not both")
    if not demo and not args.init and not args.select:
        raise TrackerError("give the initial box with --init x,y,w,h (or --select with a display)")
    boxes = [parse_box(b) for b in args.init] or None
    if (args.select or args.show) and not has_display():
        raise TrackerError("--select/--show need a display (none found: DISPLAY is unset or OpenCV has no GUI); use --init x,y,w,h and --save out.mp4 instead")
    name, load_options = model_options(args)
    save, results = args.save, args.results
    if demo:
        save, results = save or str(DEMO_DIR / "demo.mp4"), results or str(DEMO_DIR / "demo.txt")
    # the outputs too: a bad path fails now, not after the whole clip has been tracked
    if save:
        writable_video(save, "--save")
    if results is not None and results != "-":
        writable_file(results, "--results")
    source: Union[str, ArraySource] = args.source
    if demo:
        clip = generate_clip()
        source, boxes = ArraySource(clip.frames, "demo", clip.fps), [clip.boxes[0]]
    interrupted: List[int] = []
    tracked = track_video(source, boxes, name, select=select_with_mouse if args.select else None, stop=lambda: bool(interrupted),
                          **load_options)
    writer = None if results is None else JsonLines(sys.stdout) if results == "-" else ResultsFile(results)
    video = VideoOutput(save, tracked.source.fps or 30.0) if save else None
    # Ctrl-C sets a flag the loop checks between frames, so no library call can swallow it
    # and the output files are always closed properly.
    previous = signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        loop(tracked, writer, video, args)
    finally:
        signal.signal(signal.SIGINT, previous)
        tracked.close()
        if video is not None:
            video.close()
        if args.show:
            cv2.destroyAllWindows()
    meta = {"source": "demo" if demo else str(args.source), "model": name or str(args.weights), "frames": tracked.frames,
            "targets": len(tracked.pool), "dropped_frames": tracked.dropped_frames, "tracker_fps": round(tracked.tracker_fps, 2)}
    written = writer.close(meta) if writer is not None else []
    report = sys.stderr if results == "-" else sys.stdout  # stdout carries the results then
    what = "demo clip" if demo else tracked.source.name
    targets = f"{len(tracked.pool)} targets in " if len(tracked.pool) > 1 else ""
    print(f"tracked {targets}{tracked.frames} frames of {what} with {name or args.weights}: "
          f"{tracked.tracker_fps:.1f} fps (tracker), {tracked.fps:.1f} fps (end to end)", file=report)
    if tracked.source.live:
        print(f"dropped {tracked.dropped_frames} frames: only the newest frame is tracked when tracking is slower than the source",
              file=report)
    if save:
        print(f"annotated video: {save}", file=report)
    if written:
        print(f"results: {', '.join(str(p) for p in written)}", file=report)
    return 130 if interrupted and not demo and not args.show else 0


def loop(tracked: TrackedVideo, writer: Union[ResultsFile, JsonLines, None], video: Optional[VideoOutput],
         args: argparse.Namespace) -> None:
    """Write, draw and show every tracked frame, with a progress bar for files."""
    from tqdm import tqdm

    total = tracked.source.frame_count
    total = min(args.max_frames, total) if args.max_frames and total else (total or args.max_frames)
    bar = tqdm(total=total, unit="frame", disable=tracked.source.live, file=sys.stderr)
    rate = RateMeter()
    try:
        for _, frame, targets in tracked:
            if tracked.frames > 1:
                rate.add(tracked.last_update_seconds)
            if writer is not None:
                try:
                    writer.add(targets)
                except BrokenPipeError:  # the program reading stdout has gone: nothing left to do
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    break
            if video is not None or args.show:
                annotated = draw(frame, targets, rate.fps)
                if video is not None:
                    video.write(annotated)
                if args.show and not show_window(annotated):
                    break
            bar.update(1)
            if args.max_frames and tracked.frames >= args.max_frames:
                break
    finally:
        bar.close()
