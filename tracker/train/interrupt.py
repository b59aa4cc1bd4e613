"""Ctrl-C during training: the step under way finishes, then the run stops with its state
saved at that step, so ``--resume`` loses nothing (a KeyboardInterrupt raised mid-step would
leave the weights of a step the saved iteration count does not include)."""
from __future__ import annotations

import signal
import threading
from typing import Any, Optional


class StopRequest:
    """Within ``with StopRequest() as stop``, the first SIGINT sets ``stop.requested`` and
    puts the previous handler back, so a second Ctrl-C interrupts at once. Outside the main
    thread (where Python cannot take signals), or where SIGINT is ignored, it only ever reads False."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Optional[Any] = None
        self._installed = False

    def __enter__(self) -> "StopRequest":
        # not where Ctrl-C is ignored (nohup, a background job): it must stay so
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        self._restore()

    def _restore(self) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.default_int_handler)
            self._installed = False

    def __exit__(self, *exc: Any) -> None:
        self._restore()


def ignore_sigint(worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the training process: a worker it ended would fail
    the step that waits for its batch, before the state could be saved."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
