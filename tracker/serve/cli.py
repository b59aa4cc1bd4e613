"""``siamtrack serve SOURCE [SOURCE ...]``: track in a web page.

Every argument is checked first, then each source is opened and its model loaded (a bad
source is one line and exit code 2, like ``track``), then the server listens. Binding
anything but a loopback address needs a token: one is generated (printed once) unless
``--token`` gives it.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import re
import secrets
from typing import List

from ..extras import require_aiohttp
from ..video.cli import add_model_arguments, model_options
from .session import Session, SessionConfig

TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.~-]{16,200}")


def port_number(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535; 0: any free port)")
    return int(text)


def speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be >= 0 (0: as fast as tracking goes), got {text}")
    return value


def token(text: str) -> str:
    if not TOKEN_CHARS.fullmatch(text):
        raise argparse.ArgumentTypeError("a token is 16 to 200 characters among A-Z a-z 0-9 _ . ~ - (it travels in URLs)")
    return text


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="track in a web page: draw targets with the mouse, watch them, download the results")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="video file, webcam index, rtsp/http URL, image folder or glob; several for several pictures")
    add_model_arguments(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=port_number, default=8080, help="port to listen on (default 8080; 0: any free port)")
    p.add_argument("--token", type=token,
                   help="the token every request must carry (generated and printed when --host is not loopback)")
    p.add_argument("--speed", type=speed, default=1.0,
                   help="file sources play at their frame rate times this (default 1; 0: as fast as tracking goes)")
    p.add_argument("--paused", action="store_true",
                   help="file sources start paused on their first frame, to draw the targets there")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    require_aiohttp("siamtrack serve")
    from ..threads import usable_cores
    from ..zoo import load_tracker
    from .app import create_app, serve

    name, load_options = model_options(args)
    secret = args.token or (None if is_loopback(args.host) else secrets.token_urlsafe(24))
    config = SessionConfig(speed=args.speed, paused=args.paused)
    # each source tracks in a thread of its own: its runtime gets at most its share of the cores
    share = max(1, usable_cores() // len(args.sources))
    sessions: List[Session] = []
    try:
        for source in args.sources:
            tracker = load_tracker(name, max_threads=share, **load_options)
            sessions.append(Session(source, tracker, config, model=name or str(args.weights)))
    except BaseException:
        for session in sessions:
            session.close()
        raise
    app = create_app(sessions, secret)
    host = f"[{args.host}]" if ":" in args.host else args.host

    def ready(port: int) -> None:
        query = f"/?token={secret}" if secret else "/"
        names = ", ".join(f"{i}: {s.name}" for i, s in enumerate(sessions))
        print(f"serving {names} on http://{host}:{port}{query}  (Ctrl-C to stop)", flush=True)
        if secret and not args.token:
            print(f"token (generated, shown only now): {secret}", flush=True)

    asyncio.run(serve(app, args.host, args.port, ready, access_log=args.verbose))
    return 0
