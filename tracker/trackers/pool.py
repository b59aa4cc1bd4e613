"""Many targets, one batched network call per frame.

A :class:`TrackerPool` wraps one tracker (its network, config and post-processing) and
holds any number of targets, in one stream or several. ``update`` crops every target's
search region, runs the search branch once on the whole batch against the stacked cached
templates, and hands each target its slice of the outputs - the same post-processing as
a single tracker, so the same boxes. Where the runtime allows (onnxruntime on the CPU) and
the thread policy gives it several threads, the targets are split over that many worker
threads instead, each running the one-target graph and the post-processing on one core: for
small graphs that is up to 1.3x faster than one call on every thread (benchmarks/results/pool_one_target.md).
"""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..errors import InvalidFrameError, TrackerError
from .base import SiameseTracker, TargetState, TrackResult


class TrackerPool:
    def __init__(self, tracker: SiameseTracker) -> None:
        self.tracker = tracker
        self._targets: Dict[int, Tuple[Hashable, TargetState]] = {}
        self._ids = itertools.count()
        self._stacked: Optional[Tuple[List[int], Tuple[np.ndarray, ...]]] = None
        self._workers: Optional[ThreadPoolExecutor] = None
        self._worker_count = 0

    def __len__(self) -> int:
        return len(self._targets)

    @property
    def ids(self) -> List[int]:
        return list(self._targets)

    def add(self, frame: Any, box: Sequence[float], stream: Hashable = 0) -> int:
        """Start tracking ``box`` in ``frame`` of ``stream``; returns the new target's id."""
        state = self.tracker.new_target(frame, box)
        target_id = next(self._ids)
        self._targets[target_id] = (stream, state)
        self._stacked = None
        return target_id

    def remove(self, target_id: int) -> None:
        if target_id not in self._targets:
            raise TrackerError(f"no target with id {target_id}")
        del self._targets[target_id]
        self._stacked = None

    def _kernels(self) -> Tuple[List[int], Tuple[np.ndarray, ...]]:
        if self._stacked is None:
            ids = list(self._targets)
            parts = [self._targets[i][1].kernels for i in ids]
            self._stacked = (ids, tuple(np.concatenate(group, axis=0) for group in zip(*parts)))
        return self._stacked

    def update(self, frames: Union[Any, Mapping[Hashable, Any]]) -> Dict[int, TrackResult]:
        """One frame (single stream) or ``{stream: frame}``; returns ``{target id: result}``.

        Targets whose stream has no frame in this call keep their state and are not returned.
        """
        if not self._targets:
            return {}
        if not isinstance(frames, Mapping):
            streams = {s for s, _ in self._targets.values()}
            if len(streams) > 1:
                raise InvalidFrameError("targets span several streams: pass {stream: frame}")
            frames = {next(iter(streams)): frames}
        with self.tracker.frame_threads():
            results = self._update(frames)
        return {i: results[i] for i in self._targets if i in results}

    def _update(self, frames: Mapping[Hashable, Any]) -> Dict[int, TrackResult]:
        images = {}
        ids, kernels = self._kernels()
        # targets whose crops have the same count and size share one forward (a target
        # re-detecting in long-term mode searches a larger crop and is batched apart)
        groups: Dict[tuple, List[Tuple[int, int, List[np.ndarray]]]] = {}
        for row, i in enumerate(ids):
            stream, state = self._targets[i]
            if stream not in frames:
                continue
            if stream not in images:
                images[stream] = self.tracker.check_frame(frames[stream], state)
            target_crops = self.tracker.search_crops(images[stream], state)
            groups.setdefault((len(target_crops), target_crops[0].shape), []).append((row, i, target_crops))
        results = {}
        lanes = self._lanes()
        for members in groups.values():
            if lanes is not None and len(members) > 1:
                results.update(self._in_parallel(lanes, members, kernels))
                continue
            rows = [row for row, _, _ in members]
            group_kernels = kernels
            if len(rows) != len(ids):
                group_kernels = tuple(k[rows] for k in kernels)
            crops = [c for _, _, target_crops in members for c in target_crops]
            per_target = len(members[0][2])
            outputs = self.tracker.net.track(self.tracker.batch(crops), *group_kernels)
            for n, (_, i, _) in enumerate(members):
                part = [o[n * per_target : (n + 1) * per_target] for o in outputs]
                results[i] = self.tracker.locate(self._targets[i][1], part)
        return results

    def _lanes(self) -> Optional[Tuple[Any, int]]:
        """(a one-thread view of the network, how many threads to run it on), or None when
        the policy gives one thread or the runtime has no such view (torch, CUDA, OpenCV DNN)."""
        policy = self.tracker.thread_policy
        single = getattr(self.tracker.net, "single_threaded", None)
        if policy is None or policy.threads < 2 or single is None:
            return None
        view = single()
        if view is None:
            return None
        if self._worker_count != policy.threads:
            if self._workers is not None:
                self._workers.shutdown(wait=False)
            self._workers = ThreadPoolExecutor(policy.threads, thread_name_prefix="siamtrack-pool")
            self._worker_count = policy.threads
        return view, policy.threads

    def _in_parallel(self, lanes: Tuple[Any, int], members, kernels) -> Dict[int, TrackResult]:
        view, count = lanes

        def run(share) -> Dict[int, TrackResult]:
            done = {}
            for row, i, target_crops in share:
                outputs = view.track(self.tracker.batch(target_crops), *(k[row : row + 1] for k in kernels))
                done[i] = self.tracker.locate(self._targets[i][1], list(outputs))
            return done

        before = cv2.getNumThreads()
        cv2.setNumThreads(1)  # each worker's resizes on its own core
        try:
            results: Dict[int, TrackResult] = {}
            for part in self._workers.map(run, [members[w::count] for w in range(count)]):
                results.update(part)
            return results
        finally:
            cv2.setNumThreads(before)
