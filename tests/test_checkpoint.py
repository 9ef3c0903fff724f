"""Checkpoints: bit-identical round trips, and a clear CheckpointError for every way a file can be wrong."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

from tinyae import checkpoint
from tinyae.checkpoint import SPEC_KEY, check_arrays_match, load, save
from tinyae.errors import CheckpointError


def sample_arrays():
    rng = np.random.default_rng(0)
    return {
        "enc.0.W": rng.standard_normal((5, 3)).astype(np.float32),
        "enc.0.b": rng.standard_normal(3),  # float64
        "steps": np.array(1234567890123, dtype=np.int64),  # 0-d
        "labels": rng.integers(0, 255, size=(2, 3, 4), dtype=np.uint8),
        "mask": rng.random(7) < 0.5,
        "empty": np.zeros((0, 4), dtype=np.float32),
        "transposed": np.arange(12, dtype=np.int32).reshape(3, 4).T,  # not C-contiguous
    }


SPEC = {"kind": "vae", "latent": 2, "layers": [{"type": "Dense", "units": 64}], "note": "größe", "lr": 1e-3}


def write_npz(path, members):
    """An .npz written by plain numpy: how a damaged or foreign file is made for the tests."""
    with open(path, "wb") as f:
        np.savez(f, **members)


def spec_member(document):
    return np.frombuffer(json.dumps(document).encode(), dtype=np.uint8)


def rewrite_zip(path, edit):
    """Rewrite the archive with edit(name, bytes) -> bytes | None (None drops the member); CRCs stay valid."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            data = edit(name, data)
            if data is not None:
                zf.writestr(name, data)


def test_round_trip_is_bit_identical(tmp_path):
    arrays = sample_arrays()
    save(tmp_path / "m.npz", arrays, SPEC)
    loaded, spec = load(tmp_path / "m.npz")
    assert spec == SPEC
    assert list(loaded) == list(arrays)
    for name, a in arrays.items():
        assert loaded[name].dtype == a.dtype
        assert loaded[name].shape == a.shape
        assert loaded[name].tobytes() == np.ascontiguousarray(a).tobytes()


def test_file_is_a_plain_npz_with_the_spec_as_uint8_json(tmp_path):
    save(tmp_path / "m.npz", {"W": np.ones((2, 2))}, {"a": 1})
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W", SPEC_KEY]
        document = json.loads(npz[SPEC_KEY].tobytes())
    assert document["format"] == "tinyae-checkpoint"
    assert document["version"] == 1
    assert document["spec"] == {"a": 1}
    assert document["arrays"]["W"]["shape"] == [2, 2]
    assert len(document["arrays"]["W"]["sha256"]) == 64


def test_spec_json_conventions(tmp_path):
    save(tmp_path / "m.npz", {}, {"shape": (1, 28, 28), "beta": np.float32(0.5), "n": np.int64(3)})
    _, spec = load(tmp_path / "m.npz")
    assert spec == {"shape": [1, 28, 28], "beta": 0.5, "n": 3}
    assert type(spec["n"]) is int


@pytest.mark.parametrize("spec", [{"f": object()}, {"x": float("nan")}, ["not", "a", "dict"]])
def test_spec_that_is_not_json_is_refused(tmp_path, spec):
    with pytest.raises(CheckpointError, match="spec"):
        save(tmp_path / "m.npz", {}, spec)
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("name", ["", SPEC_KEY, 3])
def test_bad_array_names_are_refused(tmp_path, name):
    with pytest.raises(CheckpointError, match="names"):
        save(tmp_path / "m.npz", {name: np.zeros(2)}, {})


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.array([{}, 1], dtype=object), np.array([b"x"])])
def test_saving_non_numeric_arrays_is_refused(tmp_path, value):
    with pytest.raises(CheckpointError, match="'bad' has dtype"):
        save(tmp_path / "m.npz", {"bad": value}, {})
    assert not (tmp_path / "m.npz").exists()


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load(tmp_path / "nope.npz")


def test_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a file"):
        load(tmp_path)


def test_not_a_zip(tmp_path):
    (tmp_path / "m.npz").write_text("hello, I am a text file")
    with pytest.raises(CheckpointError, match="not an .npz"):
        load(tmp_path / "m.npz")


@pytest.mark.parametrize("cut", [1, 21, 22, 100, 0.5, 0.9])
def test_truncated_file(tmp_path, cut):
    path = tmp_path / "m.npz"
    save(path, sample_arrays(), SPEC)
    data = path.read_bytes()
    keep = len(data) - cut if isinstance(cut, int) else int(len(data) * cut)
    path.write_bytes(data[:keep])
    with pytest.raises(CheckpointError, match="truncated"):
        load(path)


def test_flipped_byte_inside_an_array_is_detected(tmp_path):
    path = tmp_path / "m.npz"
    save(path, sample_arrays(), SPEC)

    def flip_last_byte(name, data):
        return data[:-1] + bytes([data[-1] ^ 0x01]) if name == "enc.0.W.npy" else data

    rewrite_zip(path, flip_last_byte)
    with pytest.raises(CheckpointError, match=r"'enc.0.W' has sha256"):
        load(path)


def test_dropped_member_is_detected(tmp_path):
    path = tmp_path / "m.npz"
    save(path, sample_arrays(), SPEC)
    rewrite_zip(path, lambda name, data: None if name == "mask.npy" else data)
    with pytest.raises(CheckpointError, match=r"missing from the archive \['mask'\]"):
        load(path)


def test_added_member_is_detected(tmp_path):
    path = tmp_path / "m.npz"
    save(path, {"W": np.zeros(3)}, SPEC)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ones(2))
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("sneaky.npy", buf.getvalue())
    with pytest.raises(CheckpointError, match=r"not in the spec \['sneaky'\]"):
        load(path)


def test_object_array_npz_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    document = {"format": "tinyae-checkpoint", "version": 1, "arrays": {}, "spec": {}}
    write_npz(path, {"evil": np.array([{"a": 1}, None], dtype=object), SPEC_KEY: spec_member(document)})
    with pytest.raises(CheckpointError, match="'evil' holds Python objects"):
        load(path)


def test_non_numeric_array_in_file_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    words = np.array(["cat", "dog"])
    entry = {"shape": [2], "dtype": words.dtype.str, "sha256": checkpoint._sha256(words)}
    document = {"format": "tinyae-checkpoint", "version": 1, "arrays": {"words": entry}, "spec": {}}
    write_npz(path, {"words": words, SPEC_KEY: spec_member(document)})
    with pytest.raises(CheckpointError, match="'words' has dtype <U3"):
        load(path)


def test_npz_without_spec(tmp_path):
    write_npz(tmp_path / "m.npz", {"W": np.zeros(3)})
    with pytest.raises(CheckpointError, match="not a tinyae checkpoint"):
        load(tmp_path / "m.npz")


def test_bad_json(tmp_path):
    write_npz(tmp_path / "m.npz", {SPEC_KEY: np.frombuffer(b'{"format": "tinyae-', dtype=np.uint8)})
    with pytest.raises(CheckpointError, match="not valid UTF-8 JSON"):
        load(tmp_path / "m.npz")


@pytest.mark.parametrize(
    "fmt, version, found",
    [("tinyae-checkpoint", 2, "format 'tinyae-checkpoint' version 2"), ("keras", 1, "format 'keras' version 1")],
)
def test_wrong_format_or_version(tmp_path, fmt, version, found):
    document = {"format": fmt, "version": version, "arrays": {}, "spec": {}}
    write_npz(tmp_path / "m.npz", {SPEC_KEY: spec_member(document)})
    with pytest.raises(CheckpointError) as info:
        load(tmp_path / "m.npz")
    assert found in str(info.value)
    assert "reads format 'tinyae-checkpoint' versions [1]" in str(info.value)


def test_overwrite_is_refused_without_force(tmp_path):
    path = tmp_path / "m.npz"
    save(path, {"W": np.zeros(3)}, {"v": 1})
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="force=True"):
        save(path, {"W": np.ones(3)}, {"v": 2})
    assert path.read_bytes() == before
    save(path, {"W": np.ones(3)}, {"v": 2}, force=True)
    arrays, spec = load(path)
    assert spec == {"v": 2}
    np.testing.assert_array_equal(arrays["W"], np.ones(3))


def test_parent_directories_are_created(tmp_path):
    save(tmp_path / "runs" / "a" / "m.npz", {"W": np.zeros(1)}, {})
    assert load(tmp_path / "runs" / "a" / "m.npz")[1] == {}


def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save(path, {"W": np.zeros(3)}, {"v": 1})
    before = path.read_bytes()
    real_write_array = np.lib.format.write_array
    calls = []

    def write_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first array is already in the temp file
            raise OSError("disk full")
        real_write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save(path, {"W": np.ones(3), "b": np.ones(2)}, {"v": 2}, force=True)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_failure_at_rename_leaves_no_temp(tmp_path, monkeypatch):
    def fail_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(checkpoint.os, "replace", fail_replace)
    with pytest.raises(OSError, match="rename failed"):
        save(tmp_path / "m.npz", {"W": np.zeros(3)}, {})
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_written_file_follows_the_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        save(tmp_path / "m.npz", {"W": np.zeros(3)}, {})
    finally:
        os.umask(umask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


def test_check_arrays_match_accepts_a_fitting_checkpoint():
    arrays = {"W": np.zeros((3, 2), np.float32), "b": np.zeros(2, np.float32)}
    check_arrays_match({"W": ((3, 2), np.float32), "b": ([2], None)}, arrays)


def test_check_arrays_match_lists_every_problem():
    arrays = {"W": np.zeros((3, 2), np.float32), "b": np.zeros(2, np.float64), "extra": np.zeros(1)}
    expected = {"W": ((3, 4), np.float32), "b": ((2,), np.float32), "gamma": ((2,), np.float32)}
    with pytest.raises(CheckpointError) as info:
        check_arrays_match(expected, arrays)
    message = str(info.value)
    assert "missing arrays ['gamma']" in message
    assert "unexpected arrays ['extra']" in message
    assert "'W' has shape (3, 2), the model expects (3, 4)" in message
    assert "'b' has dtype float64, the model expects float32" in message
