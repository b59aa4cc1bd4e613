#!/usr/bin/env python3
"""Does serving slow tracking down? Four file sources x four targets, tracked by four pools.

Served: ``siamtrack serve``'s sessions (files played as fast as tracking goes) in its aiohttp
app on a loopback port, with ``--viewers`` viewers connected in another process, each pulling
every source's pictures (one request at a time, as the page does) and reading every source's
results WebSocket. Alone: the same four pools, each through ``track_video`` in a thread of
its own, no server. Tracking frames/s = frames tracked by the four pools / wall seconds from
the start until the last source ends. The two alternate ``--rounds`` times in one process on
the same clips, trackers and targets; acceptance: served >= 0.8x alone.

    python benchmarks/serve_load.py [--frames 300] [--rounds 3] [--viewers 3] [--out benchmarks/results/serve_load.md]
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
from aiohttp import web

from _markdown import publish, table
from tracker import load_tracker, track_video
from tracker.serve import Session, SessionConfig
from tracker.serve.app import create_app
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


def served(clips, trackers, viewers: int) -> Tuple[int, float, List[Tuple[int, int]]]:
    """The four pools as serve's sessions, viewers connected: (frames, seconds, per viewer (pictures, lines))."""
    sessions = [Session(path, tracker, SessionConfig(speed=0, paused=True)) for (path, _), tracker in zip(clips, trackers)]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(sessions), access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    server = threading.Thread(target=loop.run_forever, daemon=True)
    server.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    counts = [context.Array("l", 2) for _ in range(viewers)]
    processes = [context.Process(target=viewer_process, args=(url, len(sessions), stop, c)) for c in counts]
    try:
        for p in processes:
            p.start()
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
    finally:
        stop.set()
        for p in processes:
            p.join(30)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        server.join(10)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=300, help="frames per clip")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--viewers", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/serve_load.md")
    args = p.parse_args()

    trackers = [load_tracker() for _ in range(SOURCES)]
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as folder:
        clips = write_clips(Path(folder), args.frames)
        alone(clips, trackers)  # warm-up: graphs, thread policies, file cache
        for r in range(args.rounds):
            frames_a, seconds_a = alone(clips, trackers)
            frames_s, seconds_s, views = served(clips, trackers, args.viewers)
            fps_a, fps_s = frames_a / seconds_a, frames_s / seconds_s
            ratios.append(fps_s / fps_a)
            pictures = ", ".join(f"{n / seconds_s:.0f}" for n, _ in views)
            lines = ", ".join(f"{m / seconds_s:.0f}" for _, m in views)
            rows.append([r + 1, f"{fps_a:.1f}", f"{fps_s:.1f}", f"{fps_s / fps_a:.2f}x", pictures, lines])
            print(f"round {r + 1}: alone {fps_a:.1f} frames/s, served {fps_s:.1f} frames/s ({fps_s / fps_a:.2f}x)", file=sys.stderr)
    median = statistics.median(ratios)
    command = " ".join(["python benchmarks/serve_load.py"] + sys.argv[1:])
    lines = ["# `siamtrack serve` under load: tracking frames/s with viewers vs without the server", "",
             f"`{command}`: {SOURCES} file sources (generated {args.frames}-frame 640x360 clips, mp4) x {TARGETS} targets, "
             f"the default model (`load_tracker()`), {args.viewers} viewers in another process, each pulling every source's "
             "pictures and reading its results socket; alone: the same four pools through `track_video`, a thread each. "
             f"Alternating, {args.rounds} rounds, one process, {cv2.getNumberOfCPUs()} CPUs.", "",
             *table(["round", "alone (frames/s)", "served (frames/s)", "served / alone",
                     "pictures/s each viewer got (all sources)", "results lines/s each viewer got"], rows), "",
             f"Median served / alone: **{median:.2f}x** (acceptance >= 0.8x: {'met' if median >= 0.8 else 'NOT met'})."]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
