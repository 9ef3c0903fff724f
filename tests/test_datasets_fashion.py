"""Fashion-MNIST / MNIST loading and the checked download, against a local HTTP server on 127.0.0.1."""

import hashlib
import http.server
import os
import socket
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from tinyae.datasets import fashion_mnist as fm
from tinyae.datasets.download import download_file
from tinyae.datasets.idx import write_idx
from tinyae.errors import DataError

TRAIN_IMAGES, TRAIN_LABELS = fm.SPLIT_FILES["train"]
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; under /short/ it announces 100 bytes more than it sends, then hangs up."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.startswith("/short/"):
            return super().do_GET()
        body = Path(self.directory, self.path.removeprefix("/short/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + 100))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


@pytest.fixture
def server(tmp_path):
    """(base URL, folder it serves) for a threaded HTTP server bound to 127.0.0.1."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", served
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the real environment, Debian folder or home cache unless it asks for them."""
    for name in ("TINYAE_DATA", "TINYAE_FASHION_MNIST_URL", "TINYAE_MNIST_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(fm.FASHION_MNIST, "system_dir", str(tmp_path / "no-debian"))


def make_split(folder, n, seed, split="train", label=None):
    """Write a small split's two IDX files; return (images uint8 (n,28,28), labels uint8 (n,), sha256 per file)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8) if label is None else np.full(n, label, np.uint8)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = fm.SPLIT_FILES[split]
    write_idx(folder / names[0], images)
    write_idx(folder / names[1], labels)
    digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}
    return images, labels, digests


def trust(monkeypatch, digests, table=fm.FASHION_MNIST_SHA256):
    for name, digest in digests.items():
        monkeypatch.setitem(table, name, (digest,))


def test_download_with_good_checksum_loads_and_is_cached(server, tmp_path, monkeypatch, capfd):
    url, served = server
    images, labels, digests = make_split(served, 7, seed=1)
    trust(monkeypatch, digests)
    x, y = fm.load_fashion_mnist(cache_dir=tmp_path / "cache", download=True, base_url=url)

    assert x.shape == (7, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 0] * 255, images.astype(np.float32))
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    cached = tmp_path / "cache" / "fashion-mnist"
    assert sorted(os.listdir(cached)) == sorted(digests)
    err = capfd.readouterr().err
    assert f"{TRAIN_IMAGES} [" in err and "100%" in err

    # Now offline: the cache answers, no server needed.
    x2, y2 = fm.load_fashion_mnist(cache_dir=tmp_path / "cache", base_url="http://127.0.0.1:9/")
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_wrong_checksum_raises_and_leaves_nothing(server, tmp_path, monkeypatch):
    url, served = server
    _, _, digests = make_split(served, 3, seed=2)
    monkeypatch.setitem(fm.FASHION_MNIST_SHA256, TRAIN_IMAGES, ("0" * 64,))
    with pytest.raises(DataError, match=f"checksum mismatch.*{'0' * 64}.*found {digests[TRAIN_IMAGES]}"):
        fm.load_fashion_mnist(cache_dir=tmp_path / "cache", download=True, base_url=url, progress=False)
    assert os.listdir(tmp_path / "cache" / "fashion-mnist") == []


def test_server_404_is_a_clear_error(server, tmp_path, monkeypatch):
    url, served = server
    trust(monkeypatch, make_split(served, 3, seed=3, split="train")[2])
    with pytest.raises(DataError, match=rf"{url}t10k-images-idx3-ubyte.gz: expected HTTP 200.* 404"):
        fm.load_fashion_mnist("test", cache_dir=tmp_path / "cache", download=True, base_url=url, progress=False)
    assert os.listdir(tmp_path / "cache" / "fashion-mnist") == []


def test_connection_closed_early_leaves_nothing(server, tmp_path):
    url, served = server
    (served / "blob").write_bytes(b"x" * 5000)
    dest = tmp_path / "dl" / "blob"
    with pytest.raises(DataError, match="short/blob: expected 5100 bytes, the connection closed after 5000"):
        download_file(url + "short/blob", dest, "0" * 64, progress=False)
    assert os.listdir(tmp_path / "dl") == []


def test_unreachable_server_says_offline(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The socket is closed again: nothing listens on that port.
    with pytest.raises(DataError, match="could not connect.*offline"):
        download_file(f"http://127.0.0.1:{port}/f", tmp_path / "f", "0" * 64, progress=False)
    assert os.listdir(tmp_path) == []


def test_download_file_keeps_an_existing_file_without_force(server, tmp_path):
    url, served = server
    (served / "blob").write_bytes(b"new")
    digest = hashlib.sha256(b"new").hexdigest()
    dest = tmp_path / "out" / "blob"
    dest.parent.mkdir()
    dest.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="force=True"):
        download_file(url + "blob", dest, digest, progress=False)
    assert dest.read_bytes() == b"mine"
    download_file(url + "blob", dest, ["1" * 64, digest.upper()], progress=False, force=True)
    assert dest.read_bytes() == b"new"
    assert os.listdir(tmp_path / "out") == ["blob"]


def test_download_file_rejects_a_malformed_digest(tmp_path):
    with pytest.raises(ValueError, match="64 hex"):
        download_file("http://127.0.0.1:9/x", tmp_path / "x", "abc")


def test_not_found_offline_names_every_place_and_both_remedies(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYAE_DATA", str(tmp_path / "data"))
    with pytest.raises(DataError) as info:
        fm.load_fashion_mnist("test", cache_dir=tmp_path / "cache")
    message = str(info.value)
    for expected in ("t10k-images-idx3-ubyte.gz", str(tmp_path / "data" / "fashion-mnist"),
                     str(tmp_path / "no-debian"), str(tmp_path / "cache" / "fashion-mnist"),
                     "apt-get install dataset-fashion-mnist", "download=True"):
        assert expected in message


def test_explicit_path_is_the_only_place_looked_at(tmp_path, monkeypatch):
    make_split(tmp_path / "cache" / "fashion-mnist", 2, seed=4)
    with pytest.raises(DataError, match="the path argument") as info:
        fm.load_fashion_mnist(path=tmp_path / "empty", cache_dir=tmp_path / "cache")
    assert "user cache" not in str(info.value)


def test_lookup_order_path_then_env_then_debian_then_cache(tmp_path, monkeypatch):
    make_split(tmp_path / "explicit", 2, seed=5, label=1)
    make_split(tmp_path / "data" / "fashion-mnist", 2, seed=5, label=2)
    make_split(tmp_path / "debian", 2, seed=5, label=3)
    make_split(tmp_path / "xdg" / "tinyae" / "fashion-mnist", 2, seed=5, label=4)
    monkeypatch.setenv("TINYAE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(fm.FASHION_MNIST, "system_dir", str(tmp_path / "debian"))

    assert fm.load_fashion_mnist(path=tmp_path / "explicit")[1][0] == 1
    assert fm.load_fashion_mnist()[1][0] == 2
    monkeypatch.delenv("TINYAE_DATA")
    assert fm.load_fashion_mnist()[1][0] == 3
    monkeypatch.setattr(fm.FASHION_MNIST, "system_dir", str(tmp_path / "gone"))
    assert fm.load_fashion_mnist()[1][0] == 4


def test_env_base_url_and_xdg_cache_and_path_download(server, tmp_path, monkeypatch):
    url, served = server
    trust(monkeypatch, make_split(served, 3, seed=6)[2])
    monkeypatch.setenv("TINYAE_FASHION_MNIST_URL", url.rstrip("/"))
    fm.load_fashion_mnist(download=True, progress=False)
    assert (tmp_path / "xdg" / "tinyae" / "fashion-mnist" / TRAIN_LABELS).is_file()
    fm.load_fashion_mnist(path=tmp_path / "mine", download=True, progress=False)
    assert (tmp_path / "mine" / TRAIN_IMAGES).is_file()


def test_mnist_goes_through_the_same_code(server, tmp_path, monkeypatch, capfd):
    url, served = server
    images, labels, digests = make_split(served, 4, seed=7, split="test")
    trust(monkeypatch, digests, fm.MNIST_SHA256)
    monkeypatch.setenv("TINYAE_MNIST_URL", url)
    x, y = fm.load_mnist("test", download=True, progress=False, dtype=np.float64)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(np.round(x[:, 0] * 255), images)
    np.testing.assert_array_equal(y, labels)
    assert (tmp_path / "xdg" / "tinyae" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()
    assert capfd.readouterr().err == "", "progress=False draws nothing"
    with pytest.raises(DataError, match="download=True") as info:
        fm.load_mnist("train")
    assert "apt-get" not in str(info.value), "Debian has no MNIST package to suggest"


def test_images_and_labels_that_disagree(tmp_path):
    folder = tmp_path / "d"
    make_split(folder, 5, seed=8)
    write_idx(folder / TRAIN_LABELS, np.zeros(4, np.uint8), force=True)
    with pytest.raises(DataError, match="holds 5 images but .* holds 4 labels"):
        fm.load_fashion_mnist(path=folder)


def test_wrong_image_shape_and_label_range(tmp_path):
    make_split(tmp_path / "a", 3, seed=9)
    write_idx(tmp_path / "a" / TRAIN_IMAGES, np.zeros((3, 28, 27), np.uint8), force=True)
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\), found uint8 \(3, 28, 27\)"):
        fm.load_fashion_mnist(path=tmp_path / "a")
    make_split(tmp_path / "b", 3, seed=9)
    write_idx(tmp_path / "b" / TRAIN_LABELS, np.array([0, 10, 2], np.uint8), force=True)
    with pytest.raises(DataError, match="labels 0..9, found 10"):
        fm.load_fashion_mnist(path=tmp_path / "b")


def test_decoded_arrays_are_cached_but_callers_get_their_own_copy(tmp_path):
    make_split(tmp_path / "d", 3, seed=10)
    x1, y1 = fm.load_fashion_mnist(path=tmp_path / "d")
    hits = fm.read_split.cache_info().hits
    x1[:] = -1
    y1[:] = -1
    x2, y2 = fm.load_fashion_mnist(path=tmp_path / "d")
    assert fm.read_split.cache_info().hits == hits + 1
    assert x2.min() >= 0 and y2.min() >= 0


def test_a_replaced_file_is_read_again(tmp_path):
    make_split(tmp_path / "d", 3, seed=11)
    assert len(fm.load_fashion_mnist(path=tmp_path / "d")[0]) == 3
    make_split(tmp_path / "d2", 5, seed=11)
    for name in fm.SPLIT_FILES["train"]:
        os.replace(tmp_path / "d2" / name, tmp_path / "d" / name)
    assert len(fm.load_fashion_mnist(path=tmp_path / "d")[0]) == 5


@pytest.mark.parametrize("kwargs, match", [({"split": "val"}, "split"), ({"dtype": np.uint8}, "floating dtype")])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fm.load_fashion_mnist(path=tmp_path, **kwargs)


def test_class_names():
    assert len(fm.CLASS_NAMES) == 10
    assert fm.CLASS_NAMES[0] == "T-shirt/top" and fm.CLASS_NAMES[9] == "Ankle boot"


@pytest.mark.skipif(not (DEBIAN_DIR / TRAIN_IMAGES).is_file(), reason="apt-get install dataset-fashion-mnist")
@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_real_debian_data(split, n):
    x, y = fm.load_fashion_mnist(split, path=DEBIAN_DIR)
    assert x.shape == (n, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    # Fashion-MNIST is balanced: every class has a tenth of the split.
    np.testing.assert_array_equal(np.bincount(y, minlength=10), np.full(10, n // 10))
    for name in fm.SPLIT_FILES[split]:
        digest = hashlib.sha256((DEBIAN_DIR / name).read_bytes()).hexdigest()
        assert digest in fm.FASHION_MNIST_SHA256[name], f"Debian's {name} would fail the download check"
