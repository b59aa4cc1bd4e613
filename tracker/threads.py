"""How many threads the network runtime gets, chosen from what the machine can give.

A runtime's intra-op thread pool meets at a barrier after every operator. When another
process holds one of the cores, the thread scheduled there waits for its turn and every
other thread waits for it: measured on a 2-core CPU with one core busy, eager PyTorch at
2 threads ran 15x slower than at 1 (light_fc 63 -> 2.1 fps), and onnxruntime, OpenVINO
and OpenCV DNN gained nothing from their second thread (benchmarks/results/speed_under_load.md).
So a tracker counts the cores nobody else is using when it loads, runs that many threads,
and keeps checking while it tracks: each check re-reads the load and compares frame times,
and falls back to one thread whenever more were slower.
"""
from __future__ import annotations

import contextlib
import logging
import os
import statistics
import time
from collections import deque
from pathlib import Path
from typing import Callable, Deque, Dict, Iterator, Optional, Tuple

import cv2

log = logging.getLogger(__name__)


def _allowed_cpus() -> Tuple[int, ...]:
    """The CPUs this process may run on (its affinity; every CPU where that is unknown)."""
    try:
        return tuple(sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return tuple(range(os.cpu_count() or 1))


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    cores = len(_allowed_cpus())
    quota = _cgroup_quota()
    if quota is not None:
        cores = min(cores, max(1, int(quota + 0.5)))
    return max(1, cores)


def _cgroup_quota() -> Optional[float]:
    """The CPU quota in cores (cgroup v2 ``cpu.max`` or v1 ``cfs_quota_us``), None if unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _cpu_jiffies(cpus: Tuple[int, ...], count_niced: bool) -> Optional[Tuple[int, int]]:
    """(busy, total) clock ticks of ``cpus`` since boot, from /proc/stat (Linux); niced
    processes' time counts as busy only if ``count_niced``."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    busy = total = 0
    wanted = {f"cpu{c}" for c in cpus}
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4] - (0 if count_niced else ticks[1])
    return (busy, total) if total else None


class LoadSampler:
    """How many of this process's cores other processes keep busy, between two readings.

    The machine's busy time on our cores (/proc/stat) minus this process's own CPU time
    over the same interval: what is left is the neighbours'. Work at a lower priority than
    ours (niced) does not count: the scheduler gives us its core when we want it.
    """

    def __init__(self, cores: Optional[int] = None) -> None:
        self.cpus = _allowed_cpus()
        self.cores = cores or usable_cores()
        try:
            self.count_niced = os.getpriority(os.PRIO_PROCESS, 0) > 0  # niced ourselves: niced work competes
        except (AttributeError, OSError):
            self.count_niced = True
        self._last = self._reading()

    def _reading(self) -> Optional[Tuple[int, int, float]]:
        ticks = _cpu_jiffies(self.cpus, self.count_niced)
        if ticks is None:
            return None
        own = os.times()
        return ticks[0], ticks[1], own.user + own.system

    def others_busy(self) -> Optional[float]:
        """Cores' worth of other processes' work since the last call (None: not measurable)."""
        now = self._reading()
        last, self._last = self._last, now
        if now is None or last is None or now[1] <= last[1]:
            return None
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        elapsed_cores = (now[1] - last[1]) / len(self.cpus)  # ticks per core = wall time in ticks
        busy = (now[0] - last[0]) / elapsed_cores  # cores' worth, all processes
        ours = (now[2] - last[2]) * hz / elapsed_cores
        return max(0.0, busy - ours)

    def free_cores(self, settle_s: float = 0.0) -> float:
        """Usable cores not taken by others; ``settle_s`` > 0 waits that long for a fresh reading."""
        if settle_s > 0:
            self.others_busy()
            time.sleep(settle_s)
        others = self.others_busy()
        return float(self.cores) if others is None else max(0.0, self.cores - others)


def threads_for(free_cores: float, max_threads: int) -> int:
    """One thread per core nobody else keeps more than half busy; at least one."""
    return max(1, min(max_threads, int(free_cores + 0.5)))


class ThreadPolicy:
    """The thread count a tracker's runtime uses, and its correction while tracking.

    ``forced`` (``threads=`` of :func:`~tracker.load_tracker`) fixes the count. Otherwise the
    count starts from the free cores measured at load and is re-decided every
    ``check_every`` frames: fewer threads at once when the load rises; more when cores
    free up, kept only while their frames are faster than one thread's were; after a
    timed fall-back, more threads are tried again only after twice as many checks.
    ``apply`` is called with each new count (the runtime's own setter).
    """

    def __init__(self, max_threads: Optional[int] = None, forced: Optional[int] = None, check_every: int = 30,
                 sampler: Optional[LoadSampler] = None, settle_s: float = 0.05) -> None:
        self.max_threads = max(1, forced or max_threads or usable_cores())
        self.check_every = check_every
        self._sampler = None if forced else (sampler or LoadSampler())
        self._times: Deque[float] = deque(maxlen=check_every)
        self._median: Dict[int, float] = {}  # last median frame time at each count
        self._backoff = self._wait = 0
        self._apply: Callable[[int], None] = lambda n: None
        start = forced or threads_for(self._sampler.free_cores(settle_s), self.max_threads)
        self.threads = start
        log.debug("thread policy: %d thread(s) of %d", start, self.max_threads)

    @property
    def adaptive(self) -> bool:
        return self._sampler is not None and self.max_threads > 1

    def bind(self, apply: Callable[[int], None]) -> None:
        """Set the runtime's setter and give it the current count."""
        self._apply = apply
        apply(self.threads)

    def record(self, seconds: float) -> None:
        """One frame's time at the current count; may change the count."""
        if not self.adaptive:
            return
        self._times.append(seconds)
        if len(self._times) == self.check_every:
            self._decide()

    @contextlib.contextmanager
    def frame(self) -> Iterator[None]:
        """Time one frame for :meth:`record`, with OpenCV's process-wide pool (crops, resizes,
        OpenCV DNN) at no more than the current count and the caller's count restored after."""
        before = cv2.getNumThreads()
        scoped = 0 < self.threads < before
        if scoped:
            cv2.setNumThreads(self.threads)
        tic = time.perf_counter()
        try:
            yield
        finally:
            if scoped:
                cv2.setNumThreads(before)
        self.record(time.perf_counter() - tic)  # a failed frame is not timed

    def _decide(self) -> None:
        current = self.threads
        self._median[current] = statistics.median(self._times)
        self._times.clear()
        wanted = threads_for(self._sampler.free_cores(), self.max_threads)
        one = self._median.get(1)
        if current > 1 and one is not None:
            if self._median[current] > one:
                self._backoff = max(2, 2 * self._backoff)  # more threads were slower than one: back off
                self._wait = self._backoff
                self._set(1, f"{current} threads slower than 1 ({self._median[current] * 1e3:.1f} vs {one * 1e3:.1f} ms)")
                return
            self._backoff = 0  # more threads pay off: try them again at once next time
        if wanted < current:
            self._set(wanted, "other processes took cores")
        elif wanted > current:
            if self._wait > 0:
                self._wait -= 1
            else:
                self._set(wanted, "cores free again")

    def _set(self, threads: int, why: str) -> None:
        log.debug("thread policy: %d -> %d thread(s): %s", self.threads, threads, why)
        self.threads = threads
        self._apply(threads)
