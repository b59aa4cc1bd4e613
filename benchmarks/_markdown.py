"""Shared by the benchmark scripts: print a markdown report and record it."""
from pathlib import Path
from typing import List


def publish(lines: List[str], out: str) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text)


def table(header: List[str], rows) -> List[str]:
    """Markdown table lines: a header and one row per sequence of already formatted cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
