"""Evaluation: metrics, the sequence runner, benchmark adapters and reports."""
from .metrics import SequenceScore, score_sequence
from .runner import SequenceRun, run_sequence

__all__ = ["SequenceScore", "score_sequence", "SequenceRun", "run_sequence"]
