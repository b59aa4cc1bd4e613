"""What every Siamese tracker shares: input checks, crop batches, template caching.

Numpy and OpenCV only: the network sits behind :class:`~tracker.network.Network`
(numpy in, numpy out), so the same post-processing runs on every runtime. Per-target
state lives in a small :class:`TargetState`, separate from the tracker object, so a pool
can batch many targets through the same network call and still run exactly the
post-processing of the single-target tracker.
"""
from __future__ import annotations

import abc
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..config import ModelConfig
from ..errors import InvalidFrameError, NotInitializedError
from ..geometry import Box, context_size, cxcywh_to_xywh, snap_to_crop_grid, xywh_to_cxcywh
from ..inputs import as_bgr_frame, validate_box
from ..network import Network, as_network, resolve_device
from ..threads import ThreadPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackResult:
    """Outcome of one ``update``: the box ``(x, y, w, h)`` (0-based floats), a confidence
    in ``[0, 1]``, and ``ok`` - whether the tracker believes it still has the target."""

    box: Box
    score: float
    ok: bool


@dataclass
class TargetState:
    """Mutable per-target state: position, size, padding colour and cached template kernels."""

    center: np.ndarray
    size: np.ndarray
    avg_color: Tuple[float, float, float]
    frame_shape: Tuple[int, int]
    kernels: Tuple[np.ndarray, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def box(self) -> Box:
        return cxcywh_to_xywh(self.center, self.size)


class SiameseTracker(abc.ABC):
    """``init(frame, box)`` once, then ``update(frame)`` every frame."""

    def __init__(self, net: Any, config: ModelConfig, device: Any = "cpu", thread_policy: Optional[ThreadPolicy] = None) -> None:
        """``net``: a :class:`~tracker.network.Network`, or a torch module (run on ``device``)."""
        self.config = config
        self.device = resolve_device(device)
        self.net: Network = as_network(net, self.device)
        self._state: Optional[TargetState] = None
        # CPU runtimes get a thread count that follows the machine's load (tracker.threads)
        self.thread_policy = None
        if self.device == "cpu":
            self.thread_policy = thread_policy or ThreadPolicy()
            self.thread_policy.bind(getattr(self.net, "set_threads", lambda threads: None))  # a runtime without a count of its own

    # -- public API -------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return self._state is not None

    @property
    def state(self) -> TargetState:
        if self._state is None:
            raise NotInitializedError("update() called before init(frame, box)")
        return self._state

    def init(self, frame: Any, box: Sequence[float]) -> None:
        """Start tracking the object inside ``box`` (x, y, w, h) of ``frame``."""
        self._state = self.new_target(frame, box)

    def update(self, frame: Any) -> TrackResult:
        """Locate the target in the next frame."""
        state = self.state
        with self.frame_threads():
            image = self.check_frame(frame, state)
            outputs = self.net.track(self.batch(self.search_crops(image, state)), *state.kernels)
            return self.locate(state, list(outputs))

    def frame_threads(self):
        """A frame's context: timed for the thread policy, OpenCV's pool scoped to its count."""
        return self.thread_policy.frame() if self.thread_policy is not None else contextlib.nullcontext()

    # -- steps shared with the batched pool ---------------------------------
    def new_target(self, frame: Any, box: Sequence[float]) -> TargetState:
        image = as_bgr_frame(frame)
        x, y, w, h = validate_box(box, image.shape)
        cxcywh = xywh_to_cxcywh((x, y, w, h))
        avg = cv2.mean(image)[:3]
        state = TargetState(
            center=cxcywh[:2].copy(), size=cxcywh[2:].copy(), avg_color=tuple(avg), frame_shape=image.shape[:2]
        )
        state.kernels = self.template_kernels(image, state)
        return state

    def template_kernels(self, image: np.ndarray, state: TargetState) -> Tuple[np.ndarray, ...]:
        """The target's cached kernels: the template branch on its exemplar crop."""
        return tuple(self.net.template(self.batch([self.exemplar_crop(image, state)])))

    @staticmethod
    def check_frame(frame: Any, state: TargetState) -> np.ndarray:
        image = as_bgr_frame(frame)
        if image.shape[:2] != state.frame_shape:
            raise InvalidFrameError(
                f"frame size changed mid-stream from {state.frame_shape[1]}x{state.frame_shape[0]} to "
                f"{image.shape[1]}x{image.shape[0]}; call init() again for a new stream"
            )
        return image

    def batch(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """uint8 HxWx3 BGR crops -> one (N, H, W, 3) uint8 batch in the network's channel order."""
        batch = np.stack(crops)
        return batch[..., ::-1] if self.config.input_order == "rgb" else batch

    def searching(self, state: TargetState) -> bool:
        """A long-term tracker that has lost its target re-detects over a wider crop."""
        return self.config.lost.longterm and state.extra.get("lost", False)

    def lost_search_size(self, state: TargetState, instance_size: int, context: float) -> int:
        """The search crop's side while re-detecting: same scale as tracking, large enough to
        reach every corner of the frame (capped by ``lost.lost_instance_size``), on the
        network's stride grid."""
        exemplar = self.config.tracking.exemplar_size
        whole_frame = exemplar * 2 * max(state.frame_shape) / context_size(state.size, context)
        size = min(self.config.lost.lost_instance_size, max(instance_size, whole_frame))
        stride = self.config.total_stride
        return int(instance_size + np.ceil((size - instance_size) / stride) * stride)

    def move_center(self, state: TargetState, shift: np.ndarray) -> None:
        """Shift the target's centre by ``shift`` (x, y), kept inside the frame and on the
        crop grid (see :func:`~tracker.geometry.snap_to_crop_grid`). A reference crop moves it
        as its library does, to give its boxes: pysot clamps it to the frame, siamfc-pytorch
        does not; neither snaps it. The centre keeps its dtype (siamfc-pytorch's is float32)."""
        crop = self.config.tracking.crop
        center = state.center + shift
        if crop != "siamfc-pytorch":
            height, width = state.frame_shape
            center = np.clip(center, 0, [width, height])
        state.center = (snap_to_crop_grid(center) if crop == "exact" else center).astype(state.center.dtype)

    @abc.abstractmethod
    def exemplar_crop(self, image: np.ndarray, state: TargetState) -> np.ndarray:
        """The template crop around the initial box."""

    @abc.abstractmethod
    def search_crops(self, image: np.ndarray, state: TargetState) -> List[np.ndarray]:
        """The search crop(s) around the last position (one per scale)."""

    @abc.abstractmethod
    def locate(self, state: TargetState, outputs: List[np.ndarray]) -> TrackResult:
        """Turn this target's network outputs into a new state and a result."""
