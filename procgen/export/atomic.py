"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

import os
import tempfile
from pathlib import Path


def write_bytes(path, data):
    """Write `data` to `path` through a temporary file in the same folder and os.replace.

    The temporary file sits beside the target because os.replace is only atomic within one file system.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path, text):
    """Write `text` as UTF-8 with '\\n' line ends, atomically (see write_bytes)."""
    return write_bytes(path, text.encode("utf-8"))
