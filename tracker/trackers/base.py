"""What every Siamese tracker shares: input checks, crops to tensors, template caching.

Per-target state lives in a small :class:`TargetState`, separate from the tracker
object, so a pool can batch many targets through the same network call and still
run exactly the post-processing of the single-target tracker.
"""
from __future__ import annotations

import abc
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from ..config import ModelConfig
from ..errors import DeviceError, InvalidFrameError, NotInitializedError
from ..geometry import Box, context_size, cxcywh_to_xywh, snap_to_crop_grid, xywh_to_cxcywh
from ..inputs import as_bgr_frame, validate_box
from ..models import SiameseNet
from ..models.cuda import HostStaging
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
    kernels: Tuple[torch.Tensor, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def box(self) -> Box:
        return cxcywh_to_xywh(self.center, self.size)


def resolve_device(device: Union[str, torch.device, None]) -> torch.device:
    """``None``/``"auto"`` picks CUDA when present; an unavailable device is a clear error."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(f"unknown device {device!r} (cpu, cuda, cuda:N or auto)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        raise DeviceError(f"device {str(device)!r} was requested but no CUDA device is available (torch {torch.__version__} is {build})")
    if dev.type not in ("cpu", "cuda"):
        raise DeviceError(f"device {str(device)!r} is not supported (cpu, cuda, cuda:N or auto)")
    return dev


class SiameseTracker(abc.ABC):
    """``init(frame, box)`` once, then ``update(frame)`` every frame."""

    def __init__(self, net: SiameseNet, config: ModelConfig, device: Union[str, torch.device, None] = "cpu",
                 thread_policy: Optional[ThreadPolicy] = None) -> None:
        self.config = config
        self.device = resolve_device(device)
        self.net = net.to(self.device).eval()
        self._state: Optional[TargetState] = None
        self._staging = HostStaging(self.device) if self.device.type == "cuda" else None
        # CPU runtimes get a thread count that follows the machine's load (tracker.threads)
        self.thread_policy = None
        if self.device.type == "cpu":
            self.thread_policy = thread_policy or ThreadPolicy()
            self.thread_policy.bind(getattr(self.net, "set_threads", torch.set_num_threads))

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
            crops = self.search_crops(image, state)
            with torch.inference_mode():
                outputs = self.net.track(self.to_tensor(crops), *state.kernels)
            return self.locate(state, [o.float().cpu().numpy() for o in outputs])

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

    def template_kernels(self, image: np.ndarray, state: TargetState) -> Tuple[torch.Tensor, ...]:
        """The target's cached kernels: the template branch on its exemplar crop."""
        with torch.inference_mode():
            return tuple(self.net.template(self.to_tensor([self.exemplar_crop(image, state)])))

    @staticmethod
    def check_frame(frame: Any, state: TargetState) -> np.ndarray:
        image = as_bgr_frame(frame)
        if image.shape[:2] != state.frame_shape:
            raise InvalidFrameError(
                f"frame size changed mid-stream from {state.frame_shape[1]}x{state.frame_shape[0]} to "
                f"{image.shape[1]}x{image.shape[0]}; call init() again for a new stream"
            )
        return image

    def to_tensor(self, crops: Sequence[np.ndarray]) -> torch.Tensor:
        """uint8 HxWx3 BGR crops -> float (N, 3, H, W) in the network's channel order.

        The result is an NHWC buffer seen as NCHW: channels-last for PyTorch's convolutions.
        On the CPU the conversion is numpy's (one thread): a tiny torch op costs milliseconds
        when its thread pool has to wait for a core that another process holds. On a GPU the
        uint8 bytes travel (4x less than floats), asynchronously from page-locked memory.
        """
        batch = np.stack(crops)
        if self.config.input_order == "rgb":
            batch = batch[..., ::-1]
        if self.device.type == "cpu":
            return torch.from_numpy(batch.astype(np.float32)).permute(0, 3, 1, 2)
        tensor = self._staging.upload(batch)  # upload bytes from pinned memory, convert there
        return tensor.permute(0, 3, 1, 2).float()

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
        stride = self.config.anchors.stride if self.config.tracker == "siamrpn" else self.config.siamfc.total_stride
        return int(instance_size + np.ceil((size - instance_size) / stride) * stride)

    @staticmethod
    def move_center(state: TargetState, shift: np.ndarray) -> None:
        """Shift the target's centre by ``shift`` (x, y), kept inside the frame and on the
        crop grid (see :func:`~tracker.geometry.snap_to_crop_grid`)."""
        height, width = state.frame_shape
        state.center = snap_to_crop_grid(np.clip(state.center + shift, 0, [width, height]))

    @abc.abstractmethod
    def exemplar_crop(self, image: np.ndarray, state: TargetState) -> np.ndarray:
        """The template crop around the initial box."""

    @abc.abstractmethod
    def search_crops(self, image: np.ndarray, state: TargetState) -> List[np.ndarray]:
        """The search crop(s) around the last position (one per scale)."""

    @abc.abstractmethod
    def locate(self, state: TargetState, outputs: List[np.ndarray]) -> TrackResult:
        """Turn this target's network outputs into a new state and a result."""
