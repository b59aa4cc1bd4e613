"""SiamFC post-processing (Bertinetto et al., ECCVW 2016), after siamfc-pytorch:
a scale pyramid of search crops, an upsampled response, a cosine window and a
damped scale update.

The crops differ: ours are exact sub-pixel warps, siamfc-pytorch's snap their corners to
whole pixels (up to half a pixel off centre), so the two part at the first frame even on
the same weights. Our centre also stays in the frame and on a 1/8-px grid, the box keeps a
minimum size and a scale penalty lowers a negative peak. ``siamfc.crop: siamfc-pytorch``
does none of that and tracks as siamfc-pytorch does, float32 centre and size included, to
give its boxes (its boxes are 1-based: ours plus one; benchmarks/reference_check.py).

``siamfc.scale_search: templates`` searches the same scales with one search crop and a
pyramid of template kernels made once at init: the backbone runs once per frame instead
of once per scale, which is most of a light model's work.
"""
from __future__ import annotations

import functools
from typing import List, Tuple

import cv2
import numpy as np

from ..config import SiamFCParams
from ..geometry import context_size, hann_window, square_crop
from .base import SiameseTracker, TargetState, TrackResult


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@functools.lru_cache(maxsize=None)
def _cubic_weights(factor: int) -> np.ndarray:
    """``cv2.resize``'s bicubic weights as a (7*factor, 7) matrix: row ``i`` makes the
    ``i``-th upsampled pixel of a 7-sample line from those samples."""
    impulses = np.eye(7, dtype=np.float32)
    return np.stack([cv2.resize(np.tile(impulses[:, k:k + 1], (1, 7)), (7 * factor, 7 * factor), interpolation=cv2.INTER_CUBIC)[:, 0]
                     for k in range(7)], axis=1)


def upsampled_peaks(maps: np.ndarray, factor: int) -> np.ndarray:
    """Each (h, w) map's highest value once upsampled (bicubic, as ``cv2.resize``) by
    ``factor``, searched within one cell of its highest cell, where a bicubic map peaks.
    Those pixels draw only on the 7x7 cells around the peak (the edge replicated, as
    ``cv2.resize`` does), so two small products give them: the scale choice of the full
    maps at a fraction of their resize."""
    weights = _cubic_weights(factor)
    height, width = maps.shape[1:]
    peaks = np.empty(len(maps), dtype=np.float32)
    for s, score in enumerate(maps):
        row, col = divmod(int(score.argmax()), width)
        # 3 replicated cells around the map: the 7x7 patch centred on any peak is a plain slice
        patch = cv2.copyMakeBorder(score, 3, 3, 3, 3, cv2.BORDER_REPLICATE)[row:row + 7, col:col + 7]
        # the upsampled pixels of the cells peak-1 .. peak+1 that lie inside the map
        near_rows = weights[(max(row - 1, 0) - row + 3) * factor:(min(row + 2, height) - row + 3) * factor]
        near_cols = weights[(max(col - 1, 0) - col + 3) * factor:(min(col + 2, width) - col + 3) * factor]
        peaks[s] = (near_rows @ patch @ near_cols.T).max()
    return peaks


def penalised(peaks: np.ndarray, penalties: np.ndarray) -> np.ndarray:
    """Peaks lowered by their penalty factors (<= 1): scaled where positive, divided where
    negative. SiamFC multiplies, which raises a negative logit: where the target is gone
    every peak is negative, and the penalised scales won every frame, so the box grew
    without end while it was lost."""
    return np.where(peaks >= 0, peaks * penalties, peaks / penalties)


def scale_factors(p: SiamFCParams) -> np.ndarray:
    """The scale pyramid's factors, ``scale_step`` to the powers ``-n//2 .. n//2``."""
    half = p.scale_num // 2
    return p.scale_step ** np.linspace(-half, half, p.scale_num)


class SiamFCTracker(SiameseTracker):
    def new_target(self, frame, box) -> TargetState:
        p = self.config.siamfc
        state = super().new_target(frame, box)
        if p.crop == "siamfc-pytorch":  # its centre and size are float32 arrays, rounded so at every move
            state.center, state.size = state.center.astype(np.float32), state.size.astype(np.float32)
        z_sz = context_size(state.size, p.context)
        state.extra["z_sz"] = z_sz
        state.extra["x_sz"] = z_sz * p.instance_size / p.exemplar_size
        return state

    def exemplar_crop(self, image: np.ndarray, state: TargetState, scale: float = 1.0) -> np.ndarray:
        """The exemplar crop; ``scale`` > 1 crops a region that much smaller, so the target
        looks that much larger (the template of a target grown by ``scale``)."""
        p = self.config.siamfc
        return square_crop(image, state.center, context_size(state.size, p.context) / scale, p.exemplar_size, state.avg_color, p.crop)

    def template_kernels(self, image: np.ndarray, state: TargetState) -> Tuple[np.ndarray, ...]:
        if self.config.siamfc.scale_search == "crops":
            return super().template_kernels(image, state)
        # one call per crop: exported template graphs take one
        kernels = np.concatenate([self.net.template(self.batch([self.exemplar_crop(image, state, f)]))[0]
                                  for f in self.scale_factors])
        # equal norms: a tighter crop holds more of the target, and its kernel would win the
        # scale choice by its energy alone (val AUC 0.467 unequalised, 0.513 equalised)
        norms = np.linalg.norm(kernels.reshape(len(kernels), -1), axis=1)
        kernels = kernels * (norms[len(norms) // 2] / np.maximum(norms, 1e-12)).reshape(-1, 1, 1, 1)
        return (kernels.reshape(1, -1, *kernels.shape[2:]).astype(np.float32),)  # (1, S*C, h, w): S maps per crop

    @property
    def scale_factors(self) -> np.ndarray:
        factors = getattr(self, "_scale_factors", None)
        if factors is None:
            factors = self._scale_factors = scale_factors(self.config.siamfc)
        return factors

    def search_crops(self, image: np.ndarray, state: TargetState) -> List[np.ndarray]:
        p = self.config.siamfc
        x_sz = state.extra["x_sz"]
        if self.searching(state):  # one wide crop at the current scale
            size = self.lost_search_size(state, p.instance_size, p.context)
            return [square_crop(image, state.center, x_sz * size / p.instance_size, size, state.avg_color, p.crop)]
        factors = self.scale_factors if p.scale_search == "crops" else (1.0,)
        return [square_crop(image, state.center, x_sz * f, p.instance_size, state.avg_color, p.crop) for f in factors]

    def _weighted_window(self, size: int) -> np.ndarray:
        """The cosine window, summing to one, times ``window_influence`` (float32, cached)."""
        window = getattr(self, "_window_cache", None)
        if window is None or window.shape[0] != size:
            window = hann_window(size)
            window = (window * (self.config.siamfc.window_influence / window.sum())).astype(np.float32)
            self._window_cache = window
        return window

    def locate(self, state: TargetState, outputs: List[np.ndarray]) -> TrackResult:
        p, lost = self.config.siamfc, self.config.lost
        searching = self.searching(state)
        factors = np.ones(1) if searching else self.scale_factors
        by_crops = p.scale_search == "crops"
        raw = outputs[0][:, 0] if by_crops else outputs[0][0]  # (S, r, r): a map per scale
        if searching and not by_crops:  # re-detection keeps the current scale: the middle kernel's map
            raw = raw[p.scale_num // 2 : p.scale_num // 2 + 1]
        up = raw.shape[-1] * p.response_up
        reference = p.crop == "siamfc-pytorch"
        penalise = np.multiply if reference else penalised  # it multiplies a negative peak too
        penalties = np.ones(len(raw), dtype=np.float32)
        if not searching:
            penalties[np.arange(len(raw)) != len(raw) // 2] = p.scale_penalty
        # a scale's penalty lowers its peak, so it changes the scale choice and nothing after
        if by_crops:  # the paper's pyramid, as siamfc-pytorch: the scale whose upsampled map peaks highest
            # the maps as the channels of one image: one resize call, a third of the time of one per map
            stacked = cv2.resize(np.ascontiguousarray(raw.transpose(1, 2, 0)), (up, up), interpolation=cv2.INTER_CUBIC)
            maps = cv2.split(stacked) if stacked.ndim == 3 else [stacked]
            scale_id = int(np.argmax(penalise(np.array([m.max() for m in maps], dtype=np.float32), penalties)))
            chosen = maps[scale_id]
        else:  # the fast path: each map upsampled only around its own peak, the chosen one in full
            # (the resize of all three was half of this method's time)
            scale_id = int(np.argmax(penalise(upsampled_peaks(raw, p.response_up), penalties)))
            chosen = cv2.resize(raw[scale_id], (up, up), interpolation=cv2.INTER_CUBIC)

        response = chosen - chosen.min()
        response /= response.sum() + 1e-16
        if not searching and reference:  # its blend is float64 (a float32 one can flip a near-tie of two cells)
            window = hann_window(up)
            response = (1 - p.window_influence) * response + p.window_influence * (window / window.sum())
        elif not searching:  # no motion prior while re-detecting
            response *= 1 - p.window_influence
            response += self._weighted_window(up)
        peak = np.array(np.unravel_index(response.argmax(), response.shape), dtype=np.float64)
        score = _sigmoid(float(raw[scale_id].max()))

        # while re-detecting, only a confident peak counts as the target found again
        confident = score >= (lost.recover_threshold if searching else lost.threshold)
        if confident or not lost.longterm:  # a short-term tracker always follows its best peak
            # displacement: response grid -> search crop -> image (rows are y, columns x)
            disp = (peak - (up - 1) / 2.0) * p.total_stride / p.response_up
            disp *= state.extra["x_sz"] * (factors[scale_id] if by_crops else 1.0) / p.instance_size
            self.move_center(state, disp[::-1])
            scale = (1 - p.scale_lr) + p.scale_lr * factors[scale_id]
            size = state.size * scale
            state.size = size.astype(state.size.dtype) if reference else np.maximum(size, p.min_size)
            state.extra["z_sz"] *= scale
            state.extra["x_sz"] *= scale
        if lost.longterm:
            state.extra["lost"] = not confident
        return TrackResult(box=state.box, score=score, ok=confident)
