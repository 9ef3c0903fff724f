"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Both delegate to tinyae.checkpoint.write_atomic (temporary file beside the target, fsync, os.replace,
permissions from the umask). Overwrite policy is decided by the callers, before any write starts.
"""

from tinyae.checkpoint import write_atomic


def write_bytes(path, data):
    """Write `data` to `path` atomically, replacing an existing file."""
    write_atomic(path, lambda f: f.write(data), force=True)
    return path


def write_text(path, text):
    """Write `text` as UTF-8 with '\\n' line ends, atomically (see write_bytes)."""
    return write_bytes(path, text.encode("utf-8"))
