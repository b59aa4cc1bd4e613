"""Content digests of files (torch-free): shipped weights against the manifest, pinned
ImageNet weights, and what an evaluation's results depend on."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Union


def sha256_of(path: Union[str, Path]) -> str:
    """The file's sha256 (hex), read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of_files(paths: Iterable[Union[str, Path]]) -> str:
    """One sha256 over several files' names and contents, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode() + b"\0" + bytes.fromhex(sha256_of(path)))
    return digest.hexdigest()
