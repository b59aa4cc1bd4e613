"""The VOT toolkit's Python tracker protocol (``traxpython``).

The toolkit starts the tracker process and talks to it through a ``vot.VOT`` handle:
``region()`` gives the initial region, ``frame()`` the next image path (None at the end),
and ``report(region, confidence)`` returns our answer. ``trackers.ini``::

    [siamtrack_light]
    label = siamtrack_light
    protocol = traxpython
    command = from tracker.eval.vot_adapter import main; main("light")
    paths = /path/to/siamtrack

(``vot.py`` comes with the toolkit's Python integration and must be importable.)
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

from ..data.sequence import read_image


def region_to_box(region: Any) -> Tuple[float, float, float, float]:
    """A ``vot.Rectangle`` (x, y, width, height) or ``vot.Polygon`` (points) -> x, y, w, h."""
    if hasattr(region, "width"):
        return (float(region.x), float(region.y), float(region.width), float(region.height))
    points = getattr(region, "points", None)
    if points:
        xs = [float(p.x if hasattr(p, "x") else p[0]) for p in points]
        ys = [float(p.y if hasattr(p, "y") else p[1]) for p in points]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    raise ValueError(f"unsupported VOT region {region!r}")


def run(handle: Any, tracker: Any, rectangle: Callable[..., Any], read_image: Callable[[str], Any] = read_image) -> int:
    """Serve one sequence over ``handle``; returns the number of frames tracked."""
    region = handle.region()
    path = handle.frame()
    if not path:
        return 0
    tracker.init(read_image(path), region_to_box(region))
    frames = 1
    while True:
        path = handle.frame()
        if not path:
            break
        result = tracker.update(read_image(path))
        handle.report(rectangle(*result.box), float(result.score))
        frames += 1
    return frames


def main(model: Optional[str] = None, weights: Optional[str] = None, region_format: str = "rectangle") -> None:
    """Entry point for ``trackers.ini`` (``model`` None: the default shipped model)."""
    import vot  # provided by the VOT toolkit's Python integration

    from ..zoo import load_tracker

    handle = vot.VOT(region_format)
    run(handle, load_tracker(model, weights=weights), vot.Rectangle)
    if hasattr(handle, "quit"):
        handle.quit()
