"""The commands a web client sends, checked and applied to a session.

The same JSON objects arrive on a source's WebSocket and in ``POST /api/sources/{i}/commands``:

    {"op": "add", "box": [x, y, w, h]}    -> {"done": "add", "target": 3, "frame": 41, "box": [x, y, w, h]}
    {"op": "remove", "target": 3}         -> {"done": "remove", "target": 3}
    {"op": "pause" | "resume" | "restart"} -> {"done": "pause", "state": "paused"}

Anything else is answered with ``{"error": "..."}``. Boxes must be JSON numbers: a string
that happens to hold digits is refused like any other non-number.
"""
from __future__ import annotations

import asyncio
import json
import numbers
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union

from ..errors import TrackerError
from .session import Session

OPS = ("add", "remove", "pause", "resume", "restart")
COMMAND_SECONDS = 10.0  # a session applies commands between frames: only a stalled stream takes this long


class MessageError(TrackerError):
    """A client's message that is not a command: not JSON, an unknown op, a box that is not four numbers."""


class SessionTimeout(TrackerError):
    """A session did not apply a command in time (a stream that stopped delivering frames)."""


@dataclass(frozen=True)
class Command:
    op: str
    box: Optional[Tuple[float, float, float, float]] = None  # add
    target: Optional[int] = None  # remove


def parse(text: Union[str, bytes]) -> Command:
    """A message's text as a :class:`Command`, or a :class:`MessageError` saying what is wrong."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets
        raise MessageError('not JSON: send an object such as {"op": "add", "box": [x, y, w, h]}') from None
    return as_command(message)


def as_command(message: Any) -> Command:
    if not isinstance(message, dict):
        raise MessageError('a command is a JSON object such as {"op": "add", "box": [x, y, w, h]}')
    op = message.get("op")
    if op not in OPS:
        raise MessageError(f"unknown op {str(op)[:40]!r}: one of {', '.join(OPS)}")
    if op == "add":
        box = message.get("box")
        if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) for v in box):
            raise MessageError(f"box must be 4 numbers [x, y, w, h], got {json.dumps(box)[:80]}")
        return Command(op, box=tuple(float(v) for v in box))
    if op == "remove":
        target = message.get("target")
        if not isinstance(target, int) or isinstance(target, bool):
            raise MessageError(f"target must be a target's id (a whole number), got {json.dumps(target)[:80]}")
        return Command(op, target=target)
    return Command(op)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


async def apply(session: Session, command: Command) -> Dict[str, Any]:
    """Have ``session`` apply ``command``; its reply (a :class:`TrackerError` when it cannot be done)."""
    if command.op == "add":
        done = session.add(command.box)
    elif command.op == "remove":
        done = session.remove(command.target)
    else:
        done = getattr(session, command.op)()
    try:
        value = await asyncio.wait_for(asyncio.wrap_future(done), COMMAND_SECONDS)
    except asyncio.TimeoutError:
        raise SessionTimeout(f"{session.name} did not apply the command within {COMMAND_SECONDS:.0f} s (no frames coming?)") from None
    if command.op == "add":
        return {"done": "add", "target": value.id, "frame": value.frame, "box": value.to_json()["box"]}
    if command.op == "remove":
        return {"done": "remove", "target": command.target}
    return {"done": command.op, "state": value}
