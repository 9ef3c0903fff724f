"""Exceptions a user can cause. Each message names the thing, what was expected and what was found."""


class TinyAEError(Exception):
    """Base class of every error tinyae raises on purpose."""


class ShapeError(TinyAEError, ValueError):
    """An array reached a layer or loss with the wrong shape, dtype, or non-finite values."""


class CheckpointError(TinyAEError, ValueError):
    """A checkpoint file is missing, corrupt, truncated, of another version, or does not fit the model."""


class DataError(TinyAEError, ValueError):
    """A dataset file or folder is missing, corrupt, truncated, or fails its checksum."""
