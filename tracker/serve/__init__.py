"""``siamtrack serve``: track in a web page, for machines without a screen.

:mod:`.session` tracks each source in a thread of its own (no web code, no aiohttp);
:mod:`.commands` checks and applies what clients send; :mod:`.app` is the aiohttp server
and :mod:`.cli` the sub-command. See docs/serve.md.
"""
from .session import Session, SessionConfig, Update

__all__ = ["Session", "SessionConfig", "Update"]
