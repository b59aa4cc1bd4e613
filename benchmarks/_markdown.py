"""Shared by the benchmark scripts: print a markdown report and record it."""
from pathlib import Path
from typing import List


def publish(lines: List[str], out: str) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text)
