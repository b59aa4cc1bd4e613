"""Training pairs (template crop, search crop, target box in the search crop).

Three kinds, mixed by :class:`PairConfig`:

* supervised: two frames of one annotated sequence at most ``max_gap`` apart;
* self-supervised: one frame (annotated or from an unannotated clip) and a random
  object box, the search crop made different by strong shift/scale/aspect/blur/colour/
  flip/grayscale augmentation - how Siamese trackers learn from unlabeled video;
* negative (SiamRPN): template and search from different sequences;
* copy-paste (``copy_paste`` of the supervised ones): the search frame's object cut out and
  pasted into another scene, often beside a pasted look-alike (:mod:`.copy_paste`); as a
  negative, only the look-alike is pasted.

Every item is a pure function of ``(seed, epoch, index)``, so an interrupted run that
resumes sees exactly the pairs it would have seen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import CropAugment, augmented_crop, to_gray
from .copy_paste import Cutout, composite, read_mask
from .frames import FrameCache
from .sequence import Sequence


@dataclass(frozen=True)
class PairConfig:
    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    max_gap: int = 100
    min_box: float = 8.0  # pixels; smaller targets are not used
    template: CropAugment = field(default_factory=lambda: CropAugment(shift=4, scale=0.05, color=1.0))
    search: CropAugment = field(default_factory=lambda: CropAugment(shift=64, scale=0.18, blur=0.2, color=1.0))
    self_search: CropAugment = field(default_factory=lambda: CropAugment(shift=64, scale=0.3, aspect=0.25, blur=0.3, color=1.0))
    flip: float = 0.3
    gray: float = 0.05
    self_supervised: float = 0.3
    negative: float = 0.0
    copy_paste: float = 0.0  # of the supervised pairs (negatives included)
    distractor: float = 0.5  # of the copy-paste pairs: a look-alike pasted beside the target


class FrameSource:
    """A sequence plus where its frames come from (files via a cache, or decoded clip frames)."""

    def __init__(self, name: str, boxes: np.ndarray, visible: np.ndarray, frames=None, paths=None, cache: Optional[FrameCache] = None) -> None:
        self.name, self.boxes, self.visible = name, boxes, visible
        self._frames, self._paths, self._cache = frames, paths, cache

    def __len__(self) -> int:
        return len(self.boxes)

    def frame(self, index: int) -> np.ndarray:
        if self._frames is not None:
            return self._frames[index]
        return self._cache.get(self._paths[index])

    def mask(self, index: int) -> Optional[np.ndarray]:
        """The object's mask in frame ``index``, where the data set has masks (DAVIS)."""
        return read_mask(self._paths[index]) if self._paths is not None else None

    @classmethod
    def from_sequence(cls, seq: Sequence, cache: FrameCache, min_box: float) -> "FrameSource":
        ok = seq.visible & (seq.boxes[:, 2] >= min_box) & (seq.boxes[:, 3] >= min_box)
        return cls(seq.name, seq.boxes, ok, paths=seq.frames, cache=cache)

    @classmethod
    def from_clip(cls, name: str, frames: List[np.ndarray]) -> "FrameSource":
        n = len(frames)
        return cls(name, np.full((n, 4), np.nan), np.zeros(n, dtype=bool), frames=frames)


def random_object_box(shape: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A plausible object box for self-supervision: 8-40% of the frame's side, any aspect."""
    height, width = shape
    side = np.sqrt(width * height) * rng.uniform(0.08, 0.4)
    aspect = np.exp(rng.uniform(-0.8, 0.8))
    w = float(np.clip(side * np.sqrt(aspect), 8, width * 0.9))
    h = float(np.clip(side / np.sqrt(aspect), 8, height * 0.9))
    x = rng.uniform(0, max(width - w, 1))
    y = rng.uniform(0, max(height - h, 1))
    return np.array([x, y, w, h])


class SourceList:
    """A list of :class:`FrameSource` seen as a frame set: sequence ``i`` is ``sources[i]``.

    The small-set path (frames in a :class:`FrameCache`, clips decoded in memory)."""

    def __init__(self, sources: List[FrameSource]) -> None:
        self.sources = sources
        self.annotated = [i for i, s in enumerate(sources) if s.visible.sum() >= 2]

    def __len__(self) -> int:
        return len(self.sources)

    def visible(self, seq: int) -> np.ndarray:
        return self.sources[seq].visible

    def box(self, seq: int, k: int) -> np.ndarray:
        return self.sources[seq].boxes[k]

    def frame(self, seq: int, k: int) -> np.ndarray:
        return self.sources[seq].frame(k)

    def mask(self, seq: int, k: int) -> Optional[np.ndarray]:
        return self.sources[seq].mask(k)

    def self_frame(self, seq: int, rng: np.random.Generator) -> np.ndarray:
        """A frame for a self-supervised pair: any frame of the sequence."""
        source = self.sources[seq]
        return source.frame(int(rng.integers(len(source))))


class PairDataset(Dataset):
    """``len`` pairs per epoch; item ``i`` of epoch ``e`` is deterministic given the seed.

    ``sources`` is a list of :class:`FrameSource` or any frame set with the methods of
    :class:`SourceList` (``annotated``, ``visible``, ``box``, ``frame``, ``self_frame``)."""

    def __init__(self, sources, config: PairConfig, length: int, seed: int = 0) -> None:
        self.frames = SourceList(sources) if isinstance(sources, list) else sources
        self.config = config
        self.length = length
        self.seed = seed
        self.epoch = 0
        self.annotated = self.frames.annotated
        if not len(self.annotated) and config.self_supervised < 1.0:
            raise ValueError("supervised pairs need at least one sequence with two visible targets")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        c = self.config
        draw = rng.random()
        negative = False
        if draw < c.self_supervised or not len(self.annotated):
            z, x, box = self._self_pair(rng)
        else:
            negative = rng.random() < c.negative and len(self.annotated) > 1
            pasted = c.copy_paste > 0 and len(self.annotated) > 1 and rng.random() < c.copy_paste
            z, x, box = (self._copy_paste_pair if pasted else self._supervised_pair)(rng, negative)
        if rng.random() < c.gray:
            z, x = to_gray(z), to_gray(x)
        return {
            "z": torch.from_numpy(np.ascontiguousarray(z.transpose(2, 0, 1))),
            "x": torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))),
            "box": torch.from_numpy(box),
            "negative": torch.tensor(negative),
        }

    def _template(self, rng: np.random.Generator):
        """A sequence (its position ``a`` in ``annotated`` and its index), a search frame ``j``
        at most ``max_gap`` from the template's, whether both crops are mirrored, and the
        template crop."""
        c, frames = self.config, self.frames
        a = int(rng.integers(len(self.annotated)))
        seq = self.annotated[a]
        valid = np.flatnonzero(frames.visible(seq))
        i = int(rng.choice(valid))
        j = int(rng.choice(valid[np.abs(valid - i) <= c.max_gap]))
        flip = rng.random() < c.flip
        z, _ = augmented_crop(frames.frame(seq, i), frames.box(seq, i), c.exemplar_size, c.exemplar_size, c.context, c.template, rng, flip)
        return a, seq, j, flip, z

    def _other_sequence(self, rng: np.random.Generator, a: int) -> int:
        """Any other annotated sequence, drawn in O(1): skip over position ``a``."""
        r = int(rng.integers(len(self.annotated) - 1))
        return self.annotated[r + (r >= a)]

    def _supervised_pair(self, rng: np.random.Generator, negative: bool):
        c, frames = self.config, self.frames
        a, seq, j, flip, z = self._template(rng)
        if negative:
            seq = self._other_sequence(rng, a)
            j = int(rng.choice(np.flatnonzero(frames.visible(seq))))
        x, box = augmented_crop(frames.frame(seq, j), frames.box(seq, j), c.instance_size, c.exemplar_size, c.context, c.search, rng, flip)
        return z, x, box

    def _copy_paste_pair(self, rng: np.random.Generator, negative: bool):
        c, frames = self.config, self.frames
        a, seq, j, flip, z = self._template(rng)
        other = self._other_sequence(rng, a)
        k = int(rng.choice(np.flatnonzero(frames.visible(other))))
        target = None if negative else Cutout.from_frame(frames.frame(seq, j), frames.box(seq, j), frames.mask(seq, j))
        with_distractor = negative or rng.random() < c.distractor
        distractor = Cutout.from_frame(frames.frame(other, k), frames.box(other, k), frames.mask(other, k)) if with_distractor else None
        size = frames.box(seq, j)[2:] * np.exp(rng.uniform(-0.3, 0.3))
        scene = frames.self_frame(int(rng.integers(len(frames))), rng)
        image, target_box, distractor_box = composite(scene, target, tuple(size), distractor, rng)
        centre_box = distractor_box if negative else target_box
        if centre_box is None:  # nothing left of the cut-out: an ordinary pair
            return self._supervised_pair(rng, negative)
        x, box = augmented_crop(image, centre_box, c.instance_size, c.exemplar_size, c.context, c.search, rng, flip)
        return z, x, box

    def _self_pair(self, rng: np.random.Generator):
        c = self.config
        image = self.frames.self_frame(int(rng.integers(len(self.frames))), rng)
        box = random_object_box(image.shape[:2], rng)
        flip = rng.random() < 0.5  # both crops: a mirrored search crop would show the head a mirrored target
        z, _ = augmented_crop(image, box, c.exemplar_size, c.exemplar_size, c.context, c.template, rng, flip)
        x, crop_box = augmented_crop(image, box, c.instance_size, c.exemplar_size, c.context, c.self_search, rng, flip)
        return z, x, crop_box
