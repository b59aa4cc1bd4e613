"""Exceptions raised for bad input.

Every error a user can cause is a ``TrackerError`` (a ``ValueError``), so one
``except ValueError`` catches them all while the subclass names the problem.
"""


class TrackerError(ValueError):
    """Base class of every input error the library raises."""


class InvalidFrameError(TrackerError):
    """A frame is None, empty, of the wrong dtype/shape, or changed size mid-stream."""


class InvalidBoxError(TrackerError):
    """A box has NaN/inf values, zero or negative size, or lies outside the frame."""


class NotInitializedError(TrackerError):
    """``update`` was called before ``init``."""


class CheckpointError(TrackerError):
    """A checkpoint is missing, truncated, corrupt, or belongs to another model."""


class UnknownModelError(TrackerError):
    """A model name that ``load_tracker`` does not know."""


class SourceError(TrackerError):
    """A video source (file, camera, URL, image folder) cannot be opened or read."""


class DatasetError(TrackerError):
    """A dataset on disk is missing files or has malformed annotations."""


class ConfigError(TrackerError):
    """A config file or override names an unknown key or holds a malformed value."""


class DeviceError(TrackerError):
    """A device that does not exist here (``"cuda"`` on a CPU machine, a misspelt name) or
    an option that needs one (``half=True`` without CUDA)."""


class MissingDependencyError(TrackerError):
    """A feature that needs an optional package that is not installed (PyTorch for training,
    export, ``backend="torch"``, CUDA and ``.pt`` checkpoints); the message names the extra."""


class OutputError(TrackerError):
    """A file or folder a command would write cannot be written (checked before the work)."""
