"""Shared by the benchmark scripts that probe an RPN head: the models named on the command line."""
from tracker.trackers.siamrpn import SiamRPNTracker
from tracker.zoo import load_tracker


def load_rpn_tracker(spec: str, not_rpn: str) -> SiamRPNTracker:
    """``NAME`` (shipped weights) or ``NAME=CHECKPOINT`` on eager PyTorch; exits with
    ``not_rpn`` (why the probe does not apply) when the model is not an RPN tracker."""
    name, _, weights = spec.partition("=")
    tracker = load_tracker(name, weights=weights or None, backend="torch")
    if not isinstance(tracker, SiamRPNTracker):
        raise SystemExit(f"{name}: not an RPN tracker ({not_rpn})")
    return tracker
