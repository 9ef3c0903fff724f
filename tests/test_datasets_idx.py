"""IDX reader and writer: round trips, the exact bytes on disk, and every kind of damaged file."""

import gzip
import os

import numpy as np
import pytest

from tinyae.datasets.idx import read_idx, write_idx
from tinyae.errors import DataError


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_keeps_values_shape_and_dtype(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind == "f":
        array = rng.standard_normal((3, 4, 5)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True, dtype=dtype)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    assert back.dtype.isnative
    assert back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)


def test_raw_file_has_the_documented_big_endian_layout(tmp_path):
    path = write_idx(tmp_path / "a.idx", np.array([[1, 256, -2]], dtype=np.int32), compress=False)
    expected = (
        bytes([0, 0, 0x0C, 2])                      # magic: int32, 2 dimensions
        + bytes([0, 0, 0, 1]) + bytes([0, 0, 0, 3])  # shape (1, 3)
        + bytes([0, 0, 0, 1]) + bytes([0, 0, 1, 0]) + bytes([0xFF, 0xFF, 0xFF, 0xFE])
    )
    assert path.read_bytes() == expected


def test_compressed_file_is_gzip_and_reproducible(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    a = write_idx(tmp_path / "a.gz", array).read_bytes()
    b = write_idx(tmp_path / "b.gz", array).read_bytes()
    assert a[:2] == b"\x1f\x8b"
    assert a == b, "no time stamp in the gzip header: same array, same bytes"


def test_gzip_is_detected_by_content_not_by_name(tmp_path):
    array = np.arange(6, dtype=np.uint8)
    raw_named_gz = write_idx(tmp_path / "raw.gz", array, compress=False)
    gz_named_raw = write_idx(tmp_path / "gz.idx", array, compress=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)


def test_read_array_is_writable_and_independent(tmp_path):
    path = write_idx(tmp_path / "a.idx", np.zeros((2, 2), np.uint8))
    a = read_idx(path)
    a[0, 0] = 7
    assert read_idx(path)[0, 0] == 0


def test_existing_file_is_kept_without_force(tmp_path):
    path = tmp_path / "a.idx"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="force=True"):
        write_idx(path, np.zeros(3, np.uint8))
    assert path.read_bytes() == b"mine"
    write_idx(path, np.arange(3, dtype=np.uint8), force=True)
    np.testing.assert_array_equal(read_idx(path), [0, 1, 2])
    assert os.listdir(tmp_path) == ["a.idx"], "no temporary file left behind"


@pytest.mark.parametrize("array", [np.zeros(3, np.uint16), np.zeros(3, bool), np.zeros(3, np.int64), np.float32(1.0)])
def test_write_rejects_what_idx_cannot_hold(tmp_path, array):
    with pytest.raises(DataError, match="expected"):
        write_idx(tmp_path / "a.idx", array)
    assert os.listdir(tmp_path) == []


def _raw(tmp_path, array):
    return write_idx(tmp_path / "good.idx", array, compress=False).read_bytes()


def _damaged(tmp_path, data, compress=False):
    path = tmp_path / ("bad.gz" if compress else "bad.idx")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_wrong_magic_names_file_and_bytes(tmp_path, compress):
    data = bytearray(_raw(tmp_path, np.zeros((2, 2), np.uint8)))
    data[0] = 0x42
    path = _damaged(tmp_path, bytes(data), compress)
    with pytest.raises(DataError, match=r"bad\..*magic bytes 00 00.*found 42 00 08 02"):
        read_idx(path)


def test_unknown_type_code(tmp_path):
    data = bytearray(_raw(tmp_path, np.zeros((2, 2), np.uint8)))
    data[2] = 0x0A
    with pytest.raises(DataError, match="type code.*found 0x0A"):
        read_idx(_damaged(tmp_path, bytes(data)))


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload_reports_expected_and_found_length(tmp_path, compress):
    data = _raw(tmp_path, np.zeros((4, 3, 3), np.uint8))  # 4 + 12 header + 36 payload = 52 bytes
    path = _damaged(tmp_path, data[:-1], compress)
    with pytest.raises(DataError, match=r"truncated: shape \(4, 3, 3\) of uint8 needs 52 bytes, found 51"):
        read_idx(path)


def test_trailing_bytes_are_an_error(tmp_path):
    data = _raw(tmp_path, np.zeros(5, np.int16)) + b"\x00"
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(_damaged(tmp_path, data))


def test_dimensions_that_disagree_with_the_data(tmp_path):
    data = bytearray(_raw(tmp_path, np.zeros((2, 28, 28), np.uint8)))
    data[11] = 27  # second dimension 28 -> 27: the header now promises fewer bytes than follow
    with pytest.raises(DataError, match=r"shape \(2, 27, 28\)"):
        read_idx(_damaged(tmp_path, bytes(data)))


@pytest.mark.parametrize("data", [b"", b"\x00\x00", b"\x00\x00\x08\x03\x00\x00\x00\x01"])
def test_truncated_header(tmp_path, data):
    with pytest.raises(DataError, match="bad.idx"):
        read_idx(_damaged(tmp_path, data))


def test_zero_dimensions_is_an_error(tmp_path):
    with pytest.raises(DataError, match="at least 1 dimension"):
        read_idx(_damaged(tmp_path, b"\x00\x00\x08\x00\x07"))


def test_cut_gzip_stream(tmp_path):
    gz = write_idx(tmp_path / "good.gz", np.arange(1000, dtype=np.int32)).read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataError, match=r"cut\.gz.*not a complete gzip stream"):
        read_idx(path)


def test_garbage_after_gzip_magic(tmp_path):
    path = tmp_path / "junk.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(100)))
    with pytest.raises(DataError, match=r"junk\.gz.*gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope.gz")
