"""Fashion-MNIST and MNIST: 28x28 grayscale images with labels 0-9, read from IDX files.

Both datasets ship as the same four gzipped IDX files (`train-images-idx3-ubyte.gz`,
`train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`), so one
loader serves both. For a split, the first folder that holds both of its files wins, in this order:

    1. `path`, when given (and then no other place),
    2. `$TINYAE_DATA/fashion-mnist`        (`$TINYAE_DATA/mnist` for MNIST),
    3. `/usr/share/datasets/fashion-mnist` (Debian's `dataset-fashion-mnist` package; none for MNIST),
    4. the user cache `<cache>/fashion-mnist`, where <cache> is `cache_dir` when given, else
       `$XDG_CACHE_HOME/tinyae`, else `~/.cache/tinyae`.

Nothing is downloaded unless download=True; the files then go into `path` when given, else into
the user cache. The base URL comes from the `base_url` argument, else `$TINYAE_FASHION_MNIST_URL`
(`$TINYAE_MNIST_URL`), else the upstream address below.

Checksums: a downloaded file is kept only if its SHA-256 is one of those in FASHION_MNIST_SHA256 /
MNIST_SHA256. For Fashion-MNIST two are accepted per file: the upstream gzip file (Zalando publishes
MD5s, 8d4fb7e6... for train-images; the SHA-256s here are those that independent projects pin for
the same files, not recomputed by us) and Debian's recompressed copy (hashed from the package),
whose gzip bytes differ while the decompressed IDX payload is the same dataset. MNIST pins the
upstream files as served by the CVDF mirror. Files found locally are not hashed: the IDX reader
still checks their structure, and the loader their shapes and labels.
"""

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyae.datasets.download import download_file
from tinyae.datasets.idx import read_idx
from tinyae.errors import DataError

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# file name -> accepted SHA-256 of the gzip file: (upstream, Debian's recompressed copy).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    ),
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    ),
}

# file name -> accepted SHA-256 of the upstream gzip file.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",),
}


@dataclass
class Source:
    """Where one dataset lives: its folder name, download address, system copy and checksums."""

    title: str
    name: str
    base_url: str
    url_env: str
    system_dir: str | None
    sha256: dict


FASHION_MNIST = Source(
    title="Fashion-MNIST",
    name="fashion-mnist",
    base_url="https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    url_env="TINYAE_FASHION_MNIST_URL",
    system_dir="/usr/share/datasets/fashion-mnist",
    sha256=FASHION_MNIST_SHA256,
)
MNIST = Source(
    title="MNIST",
    name="mnist",
    # The CVDF mirror: the original yann.lecun.com address often refuses downloads.
    base_url="https://storage.googleapis.com/cvdf-datasets/mnist/",
    url_env="TINYAE_MNIST_URL",
    system_dir=None,
    sha256=MNIST_SHA256,
)


def load_fashion_mnist(split="train", path=None, cache_dir=None, download=False, dtype=np.float32,
                       progress=True, base_url=None):
    """Fashion-MNIST as (images, labels); see the module docstring for where files are looked for.

    Args:
        split: "train" (60000 images) or "test" (10000 images).
        path: a folder holding the split's two IDX files; when given, the only place looked at.
        cache_dir: replaces the user cache folder (`~/.cache/tinyae`); the data sits in a
            `fashion-mnist` folder inside it.
        download: fetch missing files (checked by SHA-256) into `path` or the user cache.
        dtype: floating dtype of the images.
        progress: draw a download progress bar on stderr.
        base_url: where to download from; overrides `$TINYAE_FASHION_MNIST_URL`.

    Returns:
        images: (N, 1, 28, 28) array of `dtype`, pixel / 255, so in [0, 1]; 0 is the background.
        labels: (N,) int64 in 0..9, indices into CLASS_NAMES.
    """
    return load_idx_dataset(FASHION_MNIST, split, path, cache_dir, download, dtype, progress, base_url)


def load_mnist(split="train", path=None, cache_dir=None, download=False, dtype=np.float32,
               progress=True, base_url=None):
    """MNIST handwritten digits, exactly as load_fashion_mnist (data folder `mnist`, labels are the digits)."""
    return load_idx_dataset(MNIST, split, path, cache_dir, download, dtype, progress, base_url)


def load_idx_dataset(source, split, path, cache_dir, download, dtype, progress, base_url):
    """The loader behind load_fashion_mnist and load_mnist, for the dataset described by `source`."""
    if split not in SPLIT_FILES:
        raise ValueError(f"{source.title}: expected split 'train' or 'test', found {split!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"{source.title}: expected a floating dtype for the images, found {dtype}")
    names = SPLIT_FILES[split]

    places = candidate_folders(source, path, cache_dir)
    folder = next((f for f, _ in places if all((f / n).is_file() for n in names)), None)
    if folder is None:
        if not download:
            raise DataError(not_found_message(source, split, places))
        # With `path` the candidates are just `path`; otherwise the last one is the user cache.
        folder = places[-1][0]
        url = base_url or os.environ.get(source.url_env) or source.base_url
        for name in names:
            if not (folder / name).is_file():
                download_file(url.rstrip("/") + "/" + name, folder / name, source.sha256[name], progress=progress)

    images_path, labels_path = (str((folder / n).resolve()) for n in names)
    images_u8, labels_u8 = read_split(images_path, labels_path, _stamp(images_path), _stamp(labels_path))
    # (N, 28, 28) -> (N, 1, 28, 28): one grayscale channel, NCHW.
    images = np.empty((len(images_u8), 1, 28, 28), dtype=dtype)
    # One pass, computed in `dtype`: a true division, so 255 maps to exactly 1.0.
    np.divide(images_u8[:, None], 255, out=images, dtype=dtype)
    return images, labels_u8.astype(np.int64)


def candidate_folders(source, path, cache_dir):
    """[(folder, why it is looked at)] in lookup order; the last one is where downloads go."""
    if path is not None:
        return [(Path(path), "the path argument")]
    places = []
    if os.environ.get("TINYAE_DATA"):
        places.append((Path(os.environ["TINYAE_DATA"]) / source.name, "$TINYAE_DATA"))
    if source.system_dir is not None:
        places.append((Path(source.system_dir), f"Debian's dataset-{source.name} package"))
    places.append((user_cache_dir(cache_dir) / source.name, "the user cache"))
    return places


def user_cache_dir(cache_dir=None):
    """`cache_dir`, else `$XDG_CACHE_HOME/tinyae`, else `~/.cache/tinyae`."""
    if cache_dir is not None:
        return Path(cache_dir)
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says to ignore a relative value.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "tinyae"
    return Path.home() / ".cache" / "tinyae"


def not_found_message(source, split, places):
    """The offline error: every place looked at and the two ways to get the data."""
    files = " and ".join(SPLIT_FILES[split])
    where = "\n".join(f"  {folder}  ({why})" for folder, why in places)
    how = "pass download=True to fetch it (checked by SHA-256)"
    if source.system_dir is not None:
        how = f"install it with `sudo apt-get install dataset-{source.name}`, or " + how
    return f"{source.title} {split} split not found: expected {files} in one of\n{where}\nTo get it, {how}."


def _stamp(path):
    """(modification time, size): part of the cache key, so a replaced file is read again."""
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=4)
def read_split(images_path, labels_path, images_stamp, labels_stamp):
    """Read and check one split's IDX files once per process; returns read-only uint8 arrays.

    images: (N, 28, 28) uint8, labels: (N,) uint8 in 0..9. The stamps only key the cache.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), found {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path}: expected uint8 labels of shape (N,), found {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: expected labels 0..9, found {labels.max()}")
    # Shared by every caller through the cache: read-only so nobody changes another's data.
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels
