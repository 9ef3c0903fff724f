"""Checkpoints: one ``.npz`` file holding named numeric arrays and a JSON spec, and nothing else.

An ``.npz`` is a zip archive of ``.npy`` files, one per array. A checkpoint adds one more member,
``__tinyae_spec__``: the UTF-8 bytes of a JSON document stored as a ``uint8`` array::

    {"format": "tinyae-checkpoint", "version": 1,
     "arrays": {"enc.0.W": {"shape": [784, 64], "dtype": "<f4", "sha256": "9c1e..."}, ...},
     "spec": {...what the caller passed to save...}}

Why this layout:
- No pickle anywhere: ``np.load(..., allow_pickle=False)`` cannot run code from a file someone sent you.
- The sha256 of every array's bytes makes silent corruption and tampering visible at load time
  (the zip's own CRC-32 is recomputed by anyone who rewrites the archive, so it proves nothing).
- The file is written to a temporary file in the same directory, flushed to disk, then renamed over
  the destination, so a crash leaves either the old file or the new one, never half of one.
"""

import hashlib
import json
import os
import uuid
import zipfile
from pathlib import Path

import numpy as np

from tinyae.errors import CheckpointError

FORMAT = "tinyae-checkpoint"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
SPEC_KEY = "__tinyae_spec__"
# bool, signed and unsigned integers, floats, complex: everything with plain, portable bytes.
NUMERIC_KINDS = "biufc"


def write_atomic(path, write, force=False):
    """Create or replace the file ``path`` all at once; ``write(f)`` writes the content to a binary file ``f``.

    The content goes to a temporary file in the same directory (so the final rename never crosses
    file systems), is fsync'ed, and only then takes the name ``path``. Parent directories are created.
    On any failure the temporary file is removed and an existing ``path`` is left untouched.

    Raises ``FileExistsError`` if ``path`` exists and ``force`` is false.
    """
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists; pass force=True to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    # open(..., "x") rather than tempfile.mkstemp: mkstemp makes the file private (0600) whatever the umask.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _sha256(a):
    """Hex sha256 of the array's bytes in C order (shape and dtype are recorded beside it)."""
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _check_numeric(name, a, where):
    if a.dtype.kind not in NUMERIC_KINDS:
        raise CheckpointError(
            f"{where}: array {name!r} has dtype {a.dtype}; a checkpoint holds only numeric arrays "
            f"(bool, int, uint, float, complex)"
        )


def _json_scalar(obj):
    """Let numpy scalars (np.float32(0.1), np.int64(3)) into the spec as plain Python numbers."""
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def save(path, arrays, spec, force=False):
    """Write ``arrays`` (name -> numeric ndarray) and ``spec`` (a JSON-serializable dict) to ``path``.

    The spec goes through JSON, so tuples come back as lists and dict keys must be strings;
    numpy scalars are stored as Python numbers. NaN and infinity are refused (they are not JSON).

    Raises ``FileExistsError`` if ``path`` exists and ``force`` is false, and ``CheckpointError`` for a
    name that is not a non-empty string or is the reserved ``__tinyae_spec__``, a non-numeric array,
    or a spec that is not a JSON-serializable dict.
    """
    if not isinstance(spec, dict):
        raise CheckpointError(f"checkpoint spec must be a dict, got {type(spec).__name__}")
    manifest = {}
    members = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == SPEC_KEY:
            raise CheckpointError(f"array names must be non-empty strings other than {SPEC_KEY!r}, got {name!r}")
        a = np.asarray(value)
        _check_numeric(name, a, f"saving {path}")
        manifest[name] = {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _sha256(a)}
        members[name] = a
    document = {"format": FORMAT, "version": VERSION, "arrays": manifest, "spec": spec}
    try:
        text = json.dumps(document, default=_json_scalar, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint spec for {path} is not JSON-serializable: {err}") from err
    members[SPEC_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    def write(f):
        # What np.savez does, spelled out: one uncompressed .npy member per array.
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            for name, a in members.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, a, allow_pickle=False)

    write_atomic(path, write, force=force)


def _read_members(path):
    """Every member of the .npz as an ndarray, without ever unpickling."""
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} is not an .npz (zip) archive, or it is truncated")
    members = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in npz.files:
                try:
                    members[name] = npz[name]
                except ValueError as err:
                    if "allow_pickle" not in str(err):
                        raise
                    raise CheckpointError(
                        f"checkpoint {path}: array {name!r} holds Python objects, which would need pickle "
                        f"to load; a checkpoint holds only numeric arrays"
                    ) from err
    except CheckpointError:
        raise
    except Exception as err:  # zipfile, zlib and numpy each have their own ways to fail on a damaged file
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated: {type(err).__name__}: {err}") from err
    return members


def _read_document(path, members):
    """The JSON document under SPEC_KEY, checked for format and version."""
    if SPEC_KEY not in members:
        raise CheckpointError(
            f"checkpoint {path} has no {SPEC_KEY!r} member: it is an .npz file but not a tinyae checkpoint"
        )
    raw = members.pop(SPEC_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"checkpoint {path}: {SPEC_KEY!r} must be a 1-D uint8 array, got {raw.dtype} {raw.shape}")
    try:
        document = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"checkpoint {path}: the spec is not valid UTF-8 JSON: {err}") from err
    if not isinstance(document, dict):
        raise CheckpointError(f"checkpoint {path}: the spec must be a JSON object, got {type(document).__name__}")
    found = (document.get("format"), document.get("version"))
    if found[0] != FORMAT or found[1] not in SUPPORTED_VERSIONS:
        raise CheckpointError(
            f"checkpoint {path} has format {found[0]!r} version {found[1]!r}; "
            f"this tinyae reads format {FORMAT!r} versions {list(SUPPORTED_VERSIONS)}"
        )
    if not isinstance(document.get("arrays"), dict) or not isinstance(document.get("spec"), dict):
        raise CheckpointError(f"checkpoint {path}: the spec lacks its 'arrays' or 'spec' object")
    return document


def load(path):
    """Read a checkpoint written by ``save``: returns ``(arrays, spec)``, both as they were saved.

    Every array is checked against the shape, dtype and sha256 recorded at save time.
    Raises ``CheckpointError`` for a missing file, a file that is not a zip, a truncated or corrupt
    archive, a missing or unreadable spec, another format or version, arrays holding Python objects
    or non-numeric data, arrays missing from or added to the archive, and any digest mismatch.
    """
    path = Path(path)
    members = _read_members(path)
    document = _read_document(path, members)
    manifest = document["arrays"]
    missing = sorted(set(manifest) - set(members))
    extra = sorted(set(members) - set(manifest))
    if missing or extra:
        raise CheckpointError(f"checkpoint {path}: arrays missing from the archive {missing}, not in the spec {extra}")
    for name, a in members.items():
        _check_numeric(name, a, f"checkpoint {path}")
        entry = manifest[name]
        found = {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _sha256(a)}
        for field in ("shape", "dtype", "sha256"):
            if found[field] != entry.get(field):
                raise CheckpointError(
                    f"checkpoint {path}: array {name!r} has {field} {found[field]}, the spec recorded "
                    f"{entry.get(field)}; the file was modified or damaged after it was saved"
                )
    return members, document["spec"]


def check_arrays_match(expected, arrays):
    """Raise ``CheckpointError`` unless ``arrays`` has exactly the names, shapes and dtypes a model expects.

    expected: name -> (shape, dtype); a dtype of None accepts any dtype.
    arrays:   name -> ndarray, e.g. the first value returned by ``load``.
    Every problem is listed in one message: missing names, unexpected names, shape and dtype mismatches.
    """
    problems = []
    missing = [name for name in expected if name not in arrays]
    extra = [name for name in arrays if name not in expected]
    if missing:
        problems.append(f"missing arrays {missing}")
    if extra:
        problems.append(f"unexpected arrays {extra}")
    for name, (shape, dtype) in expected.items():
        if name not in arrays:
            continue
        a = arrays[name]
        if tuple(a.shape) != tuple(shape):
            problems.append(f"{name!r} has shape {tuple(a.shape)}, the model expects {tuple(shape)}")
        if dtype is not None and a.dtype != np.dtype(dtype):
            problems.append(f"{name!r} has dtype {a.dtype}, the model expects {np.dtype(dtype)}")
    if problems:
        raise CheckpointError("checkpoint does not fit the model: " + "; ".join(problems))
