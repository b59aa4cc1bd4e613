"""Checks that what a command will write can be written, made before the work starts.

A results file, a report folder or a training run that cannot be written should fail in the
first second, naming the user's path and the reason, not after minutes of tracking (and not
naming the temporary file the final write goes through).
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Union

from .errors import OutputError

# the containers the annotated-video writer opens (mp4v in the first three, MJPG in the others)
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv")

PathLike = Union[str, "os.PathLike[str]"]


def writable_dir(path: PathLike, option: str = "") -> Path:
    """``path`` as a folder files can be created in (it, or its parents, may not exist yet:
    they are created by the write). Nothing is left behind."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise _error(path, option, os.strerror(errno.ENOTDIR))
    _probe(folder, path, option)
    return folder


def writable_file(path: PathLike, option: str = "") -> Path:
    """``path`` as a file that can be written (created, or replaced through a temporary
    file beside it)."""
    target = Path(path)
    if str(path) in ("", "-"):
        raise OutputError(f"{_prefix(option)}a file name is needed here, got {str(path)!r}")
    if target.is_dir():
        raise _error(path, option, os.strerror(errno.EISDIR))
    if target.exists() and not os.access(target, os.W_OK):
        raise _error(path, option, os.strerror(errno.EACCES))
    _probe(target.parent, path, option)
    return target


def writable_video(path: PathLike, option: str = "--save") -> Path:
    """``path`` as an annotated video OpenCV can write: a known container, a writable place."""
    if str(path) == "-":
        raise OutputError(f"{_prefix(option)}a video cannot go to stdout (-); give a file such as out.mp4")
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise OutputError(f"{_prefix(option)}unknown video extension {suffix or '(none)'} in {path} (use {', '.join(VIDEO_SUFFIXES)})")
    return writable_file(path, option)


def _probe(folder: Path, user_path: PathLike, option: str) -> None:
    """Create and remove a file in the deepest existing folder of ``folder``: permissions,
    read-only file systems and a path through a regular file all fail here, for root too."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: what the write would follow is missing
            break
        existing = existing.parent
    if not existing.is_dir():
        raise _error(user_path, option, os.strerror(errno.ENOTDIR) if existing.exists() else os.strerror(errno.ENOENT))
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".siamtrack-write-check-")
    except OSError as exc:
        raise _error(user_path, option, exc.strerror or str(exc)) from None
    os.close(fd)
    os.unlink(probe)


def _prefix(option: str) -> str:
    return f"{option}: " if option else ""


def _error(path: PathLike, option: str, reason: str) -> OutputError:
    return OutputError(f"{_prefix(option)}cannot write {path}: {reason}")
