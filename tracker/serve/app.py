"""The web side of ``siamtrack serve`` (aiohttp): one page, a JSON API and a WebSocket per source.

``{i}`` is a source's place on the command line: nothing a client sends names a file.

    GET  /                                   the page (static/index.html, static/app.js)
    GET  /api/sources                        every source: name, size, state, frame, targets
    GET  /api/sources/{i}/picture?after=V    the newest picture (JPEG, targets drawn) once its
                                             version (header X-Version) is not V; waits up to 10 s
    POST /api/sources/{i}/commands           a command (:mod:`tracker.serve.commands`) -> its reply
    GET  /api/sources/{i}/results            WebSocket: the JSON lines of ``track --results -``, as
                                             they are tracked, plus {"state": ...} when the state or
                                             the targets change; takes commands too
    GET  /api/sources/{i}/results.json       the results so far, as ``track --results r.json``
    GET  /api/sources/{i}/targets/{id}.txt   one target's got10k lines

The targets are drawn on the picture here, with ``siamtrack track --save``'s drawing, on the
very frame they were tracked in: at whatever rate a viewer takes pictures, a box never lags
or leads its picture, and any client that shows a JPEG shows the targets (the page draws
only the box being dragged). A picture is encoded once per frame that someone asks for,
off the event loop, and shared by every viewer; a slow viewer simply asks less often.

Safe by default: with a token every request needs it (``?token=`` or ``Authorization:
Bearer``); without one (a loopback bind) requests must name a loopback host, which keeps
other web sites out through DNS rebinding; a cross-origin request is refused either way.
Bodies and socket messages are capped at :data:`MAX_MESSAGE` bytes.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import signal
import threading
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Set, Tuple
from urllib.parse import urlsplit

import cv2
from aiohttp import WSCloseCode, WSMsgType, web

from ..errors import TrackerError
from ..video.output import draw, got10k_text, results_json
from .commands import MessageError, SessionTimeout, apply, parse
from .session import Session, Update

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_MESSAGE = 64 * 1024  # bytes of a request body or a socket message: a command is under 100
PICTURE_WAIT = 10.0  # seconds a picture request waits for a newer frame before it gets the same one again
JPEG_QUALITY = 80
FEED_LINES = 10_000  # results lines a socket may fall behind by; later ones are skipped (and counted) until it catches up
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SESSIONS = web.AppKey("sessions", list)
CHANNELS = web.AppKey("channels", list)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Feed:
    """What one socket has still to send. A consumer too slow for the tracker skips lines
    (and is told how many) rather than make anything wait or hold unbounded memory."""

    def __init__(self) -> None:
        self.messages: Deque[str] = deque()
        self.skipped = 0
        self.ready = asyncio.Event()
        self._status: Optional[Tuple[str, Tuple[int, ...]]] = None

    def push(self, update: Update) -> None:
        status = (update.state, tuple(sorted(r.id for r in update.targets)))
        if status != self._status:
            self._status = status
            self._put(json.dumps({"state": update.state, "frame": update.frame, "targets": list(status[1])}))
        for result in update.lines:
            self._put(json.dumps(result.to_json()))

    def _put(self, text: str) -> None:
        if len(self.messages) >= FEED_LINES:
            self.skipped += 1
            return
        self.messages.append(text)
        self.ready.set()

    async def take(self) -> List[str]:
        await self.ready.wait()
        self.ready.clear()
        out = list(self.messages)
        self.messages.clear()
        if self.skipped:
            out.insert(0, json.dumps({"skipped": self.skipped}))
            self.skipped = 0
        return out


class Channel:
    """A session's side of the event loop: wakes the picture requests, feeds the sockets,
    keeps the newest encoded picture."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.feeds: Set[Feed] = set()
        self._changed = asyncio.Event()
        self._jpeg: Tuple[int, bytes] = (-1, b"")
        self._encoding = asyncio.Lock()
        self._closing = False
        loop = asyncio.get_running_loop()
        session.add_listener(lambda update: loop.call_soon_threadsafe(self._on_update, update))

    def _on_update(self, update: Update) -> None:
        self._wake()
        for feed in self.feeds:
            feed.push(update)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()  # wakes every request waiting for a newer picture, once

    def close(self) -> None:
        """The server is stopping: picture requests stop waiting, now and from now on."""
        self._closing = True
        self._wake()

    async def picture(self, after: int) -> Tuple[Update, bytes]:
        """The newest picture once its version is not ``after`` (or after :data:`PICTURE_WAIT`)."""
        if self.session.latest.version == after and not self._closing:
            try:
                await asyncio.wait_for(self._changed.wait(), PICTURE_WAIT)
            except asyncio.TimeoutError:
                pass
        update = self.session.latest
        async with self._encoding:  # one encoding per version, however many viewers ask
            if self._jpeg[0] < update.version:
                jpeg = await asyncio.get_running_loop().run_in_executor(None, encode, update)
                self._jpeg = (update.version, jpeg)
            return update, self._jpeg[1]


def encode(update: Update) -> bytes:
    picture = draw(update.image, update.targets, update.fps, each=True)
    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return data.tobytes()


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (404, 405, 413 ...) in the API's shape: ``{"error": ...}``."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error(exc.status, exc.text or exc.reason)


def guard(token: Optional[str]) -> Callable:
    """The middleware that lets a request in: the token when there is one, else a loopback
    Host; and no cross-origin request."""
    expected = None if token is None else token.encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            return error(403, "cross-origin request refused")
        if expected is None:
            if _hostname(request.host) not in LOOPBACK:
                return error(403, f"this server answers requests for {', '.join(LOOPBACK)} only")
            return await handler(request)
        given = request.query.get("token") or _bearer(request.headers.get("Authorization", ""))
        if not secrets.compare_digest(given.encode(), expected):
            return error(401, "missing or wrong token: add ?token=... or an Authorization: Bearer header")
        return await handler(request)

    return check


def _hostname(host: str) -> str:
    return urlsplit(f"//{host}").hostname or ""


def _bearer(header: str) -> str:
    kind, _, value = header.partition(" ")
    return value.strip() if kind.lower() == "bearer" else ""


def channel_of(request: web.Request) -> Channel:
    channels = request.app[CHANNELS]
    text = request.match_info["source"]
    if not text.isdigit() or int(text) >= len(channels):
        raise web.HTTPNotFound(text=f"no source {text[:20]!r}: the sources are 0 to {len(channels) - 1}")
    return channels[int(text)]


def describe(index: int, session: Session) -> Dict[str, Any]:
    update = session.latest
    return {"index": index, "name": session.name, "live": session.live, "width": session.width, "height": session.height,
            "fps": session.fps, "frame_count": session.frame_count, "state": update.state, "frame": update.frame,
            "version": update.version, "error": session.error, "targets": [r.to_json() for r in update.targets]}


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def sources(request: web.Request) -> web.Response:
    return web.json_response([describe(i, c.session) for i, c in enumerate(request.app[CHANNELS])])


async def picture(request: web.Request) -> web.Response:
    channel = channel_of(request)
    after = request.query.get("after", "-1")
    if not re.fullmatch(r"-?\d{1,18}", after):
        return error(400, f"after must be a picture's version (a whole number), got {after[:20]!r}")
    update, jpeg = await channel.picture(int(after))
    return web.Response(body=jpeg, content_type="image/jpeg",
                        headers={"X-Version": str(update.version), "X-Frame": str(update.frame), "Cache-Control": "no-store"})


async def command(request: web.Request) -> web.Response:
    channel = channel_of(request)
    try:
        message = parse(await request.text())
    except MessageError as exc:
        return error(400, str(exc))
    try:
        return web.json_response(await apply(channel.session, message))
    except SessionTimeout as exc:
        return error(503, str(exc))
    except TrackerError as exc:
        return error(400, " ".join(str(exc).split()))


async def results_socket(request: web.Request) -> web.WebSocketResponse:
    channel = channel_of(request)
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=30)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    feed = Feed()
    feed.push(channel.session.latest)  # where the source stands, before any line
    channel.feeds.add(feed)
    sender = asyncio.create_task(_send(ws, feed))
    try:
        async for message in ws:  # a message over MAX_MESSAGE closes the socket with 1009 (message too big)
            if message.type == WSMsgType.TEXT:
                await ws.send_json(await _answer(channel.session, message.data))
            elif message.type == WSMsgType.BINARY:
                await ws.send_json({"error": "send commands as JSON text messages"})
    finally:
        channel.feeds.discard(feed)
        sender.cancel()
    return ws


async def _answer(session: Session, text: str) -> Dict[str, Any]:
    try:
        return await apply(session, parse(text))
    except TrackerError as exc:
        return {"error": " ".join(str(exc).split())}


async def _send(ws: web.WebSocketResponse, feed: Feed) -> None:
    try:
        while not ws.closed:
            for text in await feed.take():
                await ws.send_str(text)
    except ConnectionResetError:  # the client went away mid-send: the reading side ends the socket
        pass


async def results_download(request: web.Request) -> web.Response:
    session = channel_of(request).session
    text = await asyncio.get_running_loop().run_in_executor(
        None, lambda: results_json(session.results(), session.meta()))
    return web.Response(text=text, content_type="application/json", headers=_attachment(f"{session.name}.json"))


async def target_download(request: web.Request) -> web.Response:
    session = channel_of(request).session
    target = int(request.match_info["target"])
    text = await asyncio.get_running_loop().run_in_executor(None, lambda: got10k_text(session.results(), target))
    if not text:
        return error(404, f"{session.name} has no results for target {target}")
    return web.Response(text=text, content_type="text/plain", headers=_attachment(f"{session.name}_{target}.txt"))


def _attachment(filename: str) -> Dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{re.sub(r"[^A-Za-z0-9_.-]", "_", filename)}"'}


def create_app(sessions: Sequence[Session], token: Optional[str] = None) -> web.Application:
    """The server for ``sessions``: it starts them when it starts and closes them when it stops."""
    app = web.Application(middlewares=[errors_as_json, guard(token)], client_max_size=MAX_MESSAGE)
    app[SESSIONS] = list(sessions)
    app[SOCKETS] = weakref.WeakSet()
    app.router.add_get("/", index)
    app.router.add_static("/static", STATIC)
    app.router.add_get("/api/sources", sources)
    app.router.add_get("/api/sources/{source}/picture", picture)
    app.router.add_post("/api/sources/{source}/commands", command)
    app.router.add_get("/api/sources/{source}/results", results_socket)
    app.router.add_get("/api/sources/{source}/results.json", results_download)
    app.router.add_get(r"/api/sources/{source}/targets/{target:\d{1,9}}.txt", target_download)
    app.on_startup.append(_start)
    app.on_shutdown.append(_close_connections)
    app.on_cleanup.append(_stop)
    return app


async def _start(app: web.Application) -> None:
    app[CHANNELS] = [Channel(s) for s in app[SESSIONS]]  # listening before the first frame
    for session in app[SESSIONS]:
        session.start()


async def _close_connections(app: web.Application) -> None:
    for channel in app[CHANNELS]:
        channel.close()
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


async def _stop(app: web.Application) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(None, s.close) for s in app[SESSIONS]))


async def serve(app: web.Application, host: str, port: int, ready: Callable[[int], None], access_log: bool = False) -> None:
    """Run ``app`` on ``host:port`` until SIGINT or SIGTERM; ``ready(port)`` once it listens
    (the port the system chose for ``port=0``)."""
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access") if access_log else None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        ready(runner.addresses[0][1])
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def running(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """``app`` served by an event loop in a thread of its own while the block runs (a program
    that embeds the server, the tests, the benchmark); yields its URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    try:
        loop.run_until_complete(web.TCPSite(runner, host, port).start())
    except BaseException:
        loop.run_until_complete(runner.cleanup())
        loop.close()
        raise
    thread = threading.Thread(target=loop.run_forever, name="siamtrack-serve-loop", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{runner.addresses[0][1]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
