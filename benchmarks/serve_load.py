#!/usr/bin/env python3
"""Does serving slow tracking down? Four file sources x four targets, tracked by four pools.

Three ways, each round in a rotated order, in one process on the same clips, trackers and targets:
- alone: each pool through ``track_video`` in a thread of its own, no server;
- sessions: ``siamtrack serve``'s sessions (files played as fast as tracking goes), no server;
- served: the same sessions in the aiohttp app on a loopback port, with ``--viewers`` viewers
  connected from another process, each pulling every source's pictures (one request at a time,
  as the page does) and reading every source's results WebSocket.
Tracking frames/s = frames tracked by the four pools / wall seconds from the start until the
last source ends. Acceptance: served >= 0.8x alone; served / sessions is the server's own cost.

    python benchmarks/serve_load.py [--frames 150] [--rounds 6] [--viewers 3] [--out benchmarks/results/serve_load.md]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Tuple

import aiohttp
import cv2

from _markdown import publish, table
from tracker import load_tracker, track_video
from tracker.serve import Session, SessionConfig
from tracker.serve.app import create_app, running
from tracker.threads import usable_cores
from tracker.video.demo import generate_targets_clip

SOURCES, TARGETS = 4, 4


def write_clips(folder: Path, frames: int) -> List[Tuple[str, list]]:
    """Four different generated clips of four objects each: (path, first-frame boxes)."""
    clips = []
    for k in range(SOURCES):
        clip = generate_targets_clip(num_targets=TARGETS, num_frames=frames, seed=20 + k)
        path = folder / f"clip{k}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (clip.frames[0].shape[1], clip.frames[0].shape[0]))
        for frame in clip.frames:
            writer.write(frame)
        writer.release()
        clips.append((str(path), [b[0].tolist() for b in clip.boxes]))
    return clips


def alone(clips, trackers) -> Tuple[int, float]:
    """The four pools through track_video, a thread each: (frames, seconds)."""
    videos = [track_video(path, boxes, tracker) for (path, boxes), tracker in zip(clips, trackers)]
    start = threading.Barrier(len(videos) + 1)

    def run(video) -> None:
        start.wait()
        for _ in video:
            pass

    threads = [threading.Thread(target=run, args=(v,)) for v in videos]
    for t in threads:
        t.start()
    start.wait()
    tic = time.perf_counter()
    for t in threads:
        t.join()
    return sum(v.frames for v in videos), time.perf_counter() - tic


async def view(url: str, sources: int, stop, counts) -> None:
    """One viewer: every source's pictures, one request at a time, and its results socket."""
    async with aiohttp.ClientSession() as http:
        async def pictures(i: int) -> None:
            after = -1
            while True:
                async with http.get(f"{url}/api/sources/{i}/picture", params={"after": after}) as response:
                    await response.read()
                    after = int(response.headers["X-Version"])
                counts[0] += 1

        async def lines(i: int) -> None:
            async with http.ws_connect(f"{url}/api/sources/{i}/results") as ws:
                async for _ in ws:
                    counts[1] += 1

        tasks = [asyncio.ensure_future(f(i)) for i in range(sources) for f in (pictures, lines)]
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def viewer_process(url: str, sources: int, stop, counts) -> None:
    asyncio.run(view(url, sources, stop, counts))


def open_sessions(clips, trackers) -> List[Session]:
    return [Session(path, tracker, SessionConfig(speed=0, paused=True)) for (path, _), tracker in zip(clips, trackers)]


def unserved(clips, trackers) -> Tuple[int, float, List[Tuple[int, int]]]:
    """The four pools as serve's sessions, no server: (frames, seconds, no viewers)."""
    sessions = open_sessions(clips, trackers)
    for session in sessions:
        session.start()
    try:
        return track_served(sessions, clips, [])
    finally:
        for session in sessions:
            session.close()


def served(clips, trackers, viewers: int) -> Tuple[int, float, List[Tuple[int, int]]]:
    """The four pools as serve's sessions, viewers connected: (frames, seconds, per viewer (pictures, lines))."""
    sessions = open_sessions(clips, trackers)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    counts = [context.Array("l", 2) for _ in range(viewers)]
    with running(create_app(sessions)) as url:
        processes = [context.Process(target=viewer_process, args=(url, len(sessions), stop, c)) for c in counts]
        for p in processes:
            p.start()
        try:
            return track_served(sessions, clips, counts)
        finally:
            stop.set()
            for p in processes:
                p.join(30)


def track_served(sessions, clips, counts) -> Tuple[int, float, List[Tuple[int, int]]]:
    """Once every viewer (if any) has every source's first picture: the targets added, all
    resumed at once, timed to the last end."""
    while any(c[0] < len(sessions) for c in counts):  # every viewer has every source's first picture
        time.sleep(0.05)
    for session, (_, boxes) in zip(sessions, clips):
        for box in boxes:
            session.add(box).result(10)
    tic = time.perf_counter()
    for session in sessions:
        session.resume().result(10)
    while any(s.latest.state != "ended" for s in sessions):
        time.sleep(0.005)
    seconds = time.perf_counter() - tic
    frames = sum(s.latest.frame + 1 for s in sessions)
    return frames, seconds, [(c[0], c[1]) for c in counts]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=150, help="frames per clip")
    p.add_argument("--rounds", type=int, default=6, help="a multiple of 3: each arm first, second and third equally often")
    p.add_argument("--viewers", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/serve_load.md")
    args = p.parse_args()

    # as `siamtrack serve` loads them: each pool at most its share of the cores
    trackers = [load_tracker(max_threads=max(1, usable_cores() // SOURCES)) for _ in range(SOURCES)]
    arms = {"alone": lambda c: alone(c, trackers) + ([],), "sessions": lambda c: unserved(c, trackers),
            "served": lambda c: served(c, trackers, args.viewers)}
    names = list(arms)
    fps = {name: [] for name in names}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        clips = write_clips(Path(folder), args.frames)
        alone(clips, trackers)  # warm-up: graphs, file cache
        for r in range(args.rounds):
            order = names[r % 3:] + names[: r % 3]
            views: List[Tuple[float, float]] = []
            for name in order:
                frames, seconds, got = arms[name](clips)
                fps[name].append(frames / seconds)
                if got:
                    views = [(n / seconds, m / seconds) for n, m in got]
            row = {name: fps[name][-1] for name in names}
            rows.append([r + 1, " > ".join(order), *(f"{row[n]:.1f}" for n in names), f"{row['served'] / row['alone']:.2f}x",
                         f"{row['served'] / row['sessions']:.2f}x", ", ".join(f"{n:.0f}" for n, _ in views),
                         ", ".join(f"{m:.0f}" for _, m in views)])
            print(f"round {r + 1}: " + ", ".join(f"{n} {row[n]:.1f}" for n in names) + " frames/s", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in fps.items()}
    ratio = statistics.median([s / a for s, a in zip(fps["served"], fps["alone"])])
    own = statistics.median([s / a for s, a in zip(fps["served"], fps["sessions"])])
    command = " ".join(["python benchmarks/serve_load.py"] + sys.argv[1:])
    lines = ["# `siamtrack serve` under load: tracking frames/s with viewers vs without the server", "",
             f"`{command}`: {SOURCES} file sources (generated {args.frames}-frame 640x360 clips, mp4) x {TARGETS} targets, "
             "the default model (`load_tracker(max_threads=cores // 4)`, as `serve` loads it). Alone: each pool through "
             "`track_video` in a thread of its own; sessions: serve's sessions, no server; served: the sessions in the app "
             f"with {args.viewers} viewers in another process, each pulling every source's pictures (one request at a time) and "
             f"reading its results socket. {args.rounds} rounds in rotated order, one process, {usable_cores()} usable cores "
             "(shared with other work: single rounds are noisy, compare the medians).", "",
             *table(["round", "order", "alone (frames/s)", "sessions (frames/s)", "served (frames/s)", "served / alone",
                     "served / sessions", "pictures/s each viewer got (all sources)", "results lines/s each viewer got"], rows), "",
             f"Medians: alone {median['alone']:.1f}, sessions {median['sessions']:.1f}, served {median['served']:.1f} frames/s. "
             f"Median served / alone: **{ratio:.2f}x** (acceptance >= 0.8x: {'met' if ratio >= 0.8 else 'NOT met'}); "
             f"served / sessions (the server's and the viewers' own cost): {own:.2f}x."]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
