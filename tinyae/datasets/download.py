"""Download one file with urllib, check its SHA-256, and only then put it in place.

The file is streamed into a temporary file in the destination's folder while its SHA-256 is
computed, and renamed onto the destination with os.replace only when the digest is one of the
accepted ones. os.replace is atomic within one file system, so the destination is either absent
or complete and verified: a lost connection, a wrong checksum or Ctrl-C leave nothing behind.
"""

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tinyae.errors import DataError

CHUNK = 1 << 16


def download_file(url, dest, sha256, progress=True, timeout=60.0, force=False):
    """Fetch `url` into the file `dest`, keeping it only if its SHA-256 is accepted.

    Args:
        url: an http://, https:// or file:// address.
        dest: the file to create; its folder is made if missing.
        sha256: the accepted hex digest, or several (e.g. the upstream file and a repackaged one).
        progress: draw a progress bar on stderr.
        timeout: seconds to wait for the server on each read.
        force: replace `dest` if it exists (otherwise FileExistsError).

    Returns `dest` as a Path. Raises DataError naming the URL for an HTTP error, a connection that
    fails or closes early, and a checksum that matches none of the accepted digests.
    """
    dest = Path(dest)
    accepted = _accepted_digests(sha256)
    if dest.exists() and not force:
        raise FileExistsError(f"download_file: {dest} already exists; pass force=True to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise DataError(f"downloading {url}: expected HTTP 200, the server answered {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise DataError(f"downloading {url}: could not connect ({reason}); are you offline?") from None

    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with response, os.fdopen(fd, "wb") as out:
            total = _content_length(response)
            bar = ProgressBar(dest.name, total) if progress else None
            digest, size = _copy_and_hash(response, out, url, bar)
        if total is not None and size != total:
            raise DataError(f"downloading {url}: expected {total} bytes, the connection closed after {size}")
        if digest not in accepted:
            raise DataError(
                f"downloading {url}: checksum mismatch, expected SHA-256 in {sorted(accepted)}, found {digest}; "
                "the file was discarded"
            )
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise
    return dest


def _accepted_digests(sha256):
    """One hex digest or several -> a set of lower-case 64-character hex strings."""
    digests = {sha256} if isinstance(sha256, str) else set(sha256)
    digests = {d.lower() for d in digests}
    for d in digests:
        if len(d) != 64 or any(c not in "0123456789abcdef" for c in d):
            raise ValueError(f"download_file: expected SHA-256 digests as 64 hex characters, found {d!r}")
    if not digests:
        raise ValueError("download_file: expected at least one SHA-256 digest, found none")
    return digests


def _content_length(response):
    """The size the server announced, or None (file:// answers and chunked replies may not say)."""
    length = response.headers.get("Content-Length")
    return int(length) if length is not None and length.isdigit() else None


def _copy_and_hash(response, out, url, bar):
    """Stream the response body into `out`; return (sha256 hex digest, bytes copied)."""
    h = hashlib.sha256()
    size = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as err:
            raise DataError(f"downloading {url}: the connection failed after {size} bytes ({err!r})") from None
        if not chunk:
            break
        h.update(chunk)
        out.write(chunk)
        size += len(chunk)
        if bar is not None:
            bar.update(size)
    if bar is not None:
        bar.close(size)
    return h.hexdigest(), size


class ProgressBar:
    """`name [#######.......]  35%  9.2/26.4 MB` on one stderr line, redrawn at most 10 times a second."""

    WIDTH = 30

    def __init__(self, name, total, stream=None):
        self.name = name
        self.total = total
        # Looked up now, not at import, so a redirected sys.stderr (pytest's capsys) is honoured.
        self.stream = stream if stream is not None else sys.stderr
        self.last_draw = float("-inf")

    def update(self, done):
        now = time.monotonic()
        if now - self.last_draw >= 0.1:
            self.last_draw = now
            self._draw(done)

    def close(self, done):
        self._draw(done)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, done):
        mb = done / 1e6
        if self.total:
            filled = min(self.WIDTH, self.WIDTH * done // self.total)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = f"{self.name} [{bar}] {100 * done // self.total:3d}%  {mb:.1f}/{self.total / 1e6:.1f} MB"
        else:
            text = f"{self.name}  {mb:.1f} MB"
        self.stream.write("\r" + text)
        self.stream.flush()
