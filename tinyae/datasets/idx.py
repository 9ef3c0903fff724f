"""IDX files: the array format of MNIST and Fashion-MNIST, read and written with NumPy.

Layout (all integers big-endian):

    byte 0, 1   0x00 0x00                      magic, part 1: always zero
    byte 2      type code                      0x08 uint8, 0x09 int8, 0x0B int16,
                                               0x0C int32, 0x0D float32, 0x0E float64
    byte 3      ndim                           number of dimensions, 1..255
    4 * ndim    d_0, d_1, ..., d_{ndim-1}      each an unsigned 32-bit size
    payload     prod(d) items of the type      C order, big-endian

So a file of 60000 Fashion-MNIST images starts ``00 00 08 03 | 00 00 ea 60 | 00 00 00 1c | 00 00 00 1c``
and is followed by exactly 60000 * 28 * 28 bytes. The files are usually gzipped; the reader tells
the two apart by the gzip magic bytes ``1f 8b``, not by the file name.
"""

import gzip
import math
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from tinyae.errors import DataError

# IDX type code -> big-endian NumPy dtype.
TYPE_CODES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path):
    """Read an IDX file (gzipped or raw) into a native-endian ndarray of shape (d_0, ..., d_{ndim-1}).

    Every field is checked: the two zero magic bytes, the type code, the number of dimensions and
    that the payload holds exactly prod(d) items. A corrupt, truncated or badly gzipped file raises
    DataError naming the file, what was expected and what was found.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(
                f"IDX file {path} starts like gzip (1f 8b) but is not a complete gzip stream: {err}"
            ) from None
    return _parse_idx(raw, path)


def _parse_idx(raw, path):
    """Decode the bytes of one uncompressed IDX file; `path` only names the file in errors."""
    if len(raw) < 4:
        raise DataError(f"IDX file {path}: expected a 4-byte magic number, found only {len(raw)} bytes")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"IDX file {path}: expected magic bytes 00 00 <type> <ndim>, found {raw[:4].hex(' ')} "
            "(not an IDX file, or a compressed format other than gzip)"
        )
    code, ndim = raw[2], raw[3]
    if code not in TYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in TYPE_CODES)
        raise DataError(f"IDX file {path}: expected a type code in ({known}), found 0x{code:02X}")
    if ndim == 0:
        raise DataError(f"IDX file {path}: expected at least 1 dimension, found 0")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"IDX file {path}: expected a {header}-byte header for {ndim} dimensions, found {len(raw)} bytes in all"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = TYPE_CODES[code]
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "has trailing bytes"
        raise DataError(
            f"IDX file {path} {state}: shape {shape} of {dtype.name} needs {expected} bytes, found {len(raw)}"
        )
    # A copy in native byte order: writable, and independent of the file's bytes.
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array, compress=True, force=False):
    """Write `array` (any shape with 1 to 255 dimensions) as an IDX file, gzipped when `compress`.

    The dtype must be one IDX knows: uint8, int8, int16, int32, float32 or float64. The file is
    written to a temporary file beside `path` and renamed into place, so a crash never leaves half
    a file; an existing file is replaced only with force=True. The gzip header carries no time
    stamp, so the same array always gives the same bytes. Returns the path as a Path.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in TYPE_CODES.items()}
    if array.dtype.newbyteorder("=") not in codes:
        known = ", ".join(d.name for d in codes)
        raise DataError(f"write_idx {path}: expected an array of dtype in ({known}), found {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise DataError(f"write_idx {path}: expected 1 to 255 dimensions, found {array.ndim}")
    if any(d >= 2**32 for d in array.shape):
        raise DataError(f"write_idx {path}: expected every dimension < 2**32, found shape {array.shape}")
    if path.exists() and not force:
        raise FileExistsError(f"write_idx: {path} already exists; pass force=True to replace it")

    code = codes[array.dtype.newbyteorder("=")]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=TYPE_CODES[code]).tobytes()
    if compress:
        payload = gzip.compress(payload, mtime=0)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
