"""Run siamtrack trackers inside the official ``got10k`` toolkit (PyPI 0.1.3).

``Got10kTracker`` is a ``got10k.trackers.Tracker``, so ``ExperimentGOT10k`` / ``ExperimentOTB``
run it and write their own reports. The release needs care on modern Python, handled here
rather than by editing site-packages:

* it imports ``six`` without declaring it: ``six`` is in our ``eval`` extra;
* its VOT code uses ``np.NaN``, removed in numpy 2: the alias is restored before import;
* ``ExperimentOTB`` downloads every OTB sequence it does not find: :class:`LocalExperimentOTB`
  runs on the sequences present instead;
* ``Tracker.track`` opens RGB PIL images lazily, so JPEG decoding lands inside the timed
  ``update``: our ``track`` decodes with OpenCV (truncated files rejected) outside the timed ``init``/``update``.
"""
from __future__ import annotations

from typing import List, Optional

import cv2
import numpy as np

if not hasattr(np, "NaN"):  # got10k 0.1.3 (VOT experiments) still spells it this way
    np.NaN = np.nan

from got10k.experiments import ExperimentOTB  # noqa: E402
from got10k.trackers import Tracker  # noqa: E402

from ..data.readers import read_otb  # noqa: E402
from ..data.sequence import Sequence  # noqa: E402
from .experiment import TrackerSpec  # noqa: E402
from .runner import run_sequence  # noqa: E402


def _to_bgr(image) -> np.ndarray:
    """PIL RGB image (what the toolkit hands over) or a BGR array -> BGR array."""
    if isinstance(image, np.ndarray):
        return image
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


class Got10kTracker(Tracker):
    def __init__(self, spec: TrackerSpec) -> None:
        super().__init__(name=spec.name, is_deterministic=True)
        self.spec = spec
        self._tracker = spec.build()

    def init(self, image, box) -> None:
        self._tracker.init(_to_bgr(image), tuple(float(v) for v in box))

    def update(self, image) -> np.ndarray:
        return np.array(self._tracker.update(_to_bgr(image)).box)

    def track(self, img_files: List[str], box, visualize: bool = False):
        boxes = np.full((len(img_files), 4), np.nan)
        boxes[0] = box
        run = run_sequence(self._tracker, Sequence(self.name, list(img_files), boxes))
        return run.boxes, run.times


class _LocalOTB:
    """The toolkit's dataset interface over the OTB sequences found on disk."""

    def __init__(self, root: str, names: Optional[List[str]] = None) -> None:
        seqs = read_otb(root)
        if names:
            seqs = [s for s in seqs if s.name in names]
        self.seq_names = [s.name for s in seqs]
        self._seqs = seqs

    def __len__(self) -> int:
        return len(self._seqs)

    def __getitem__(self, index):
        seq = self._seqs[index] if isinstance(index, int) else self._seqs[self.seq_names.index(index)]
        return seq.frames, seq.boxes


class LocalExperimentOTB(ExperimentOTB):
    """``ExperimentOTB`` on the sequences present under ``root`` - never downloads."""

    def __init__(self, root: str, version="local", result_dir: str = "results", report_dir: str = "reports", names: Optional[List[str]] = None) -> None:
        import os

        self.dataset = _LocalOTB(root, names)
        self.result_dir = os.path.join(result_dir, f"OTB{version}")
        self.report_dir = os.path.join(report_dir, f"OTB{version}")
        self.nbins_iou = 21
        self.nbins_ce = 51
