"""What every example script shares: its arguments, its output folder, its summary and its setup line.

Every script takes
    --out DIR   where its PNGs and summary.txt go (created if missing)
    --force     replace the files a previous run left in DIR; without it the script refuses, before training
    --quick     a few seconds on a small subset of the data: the mode tests/test_examples.py runs
    --seed N    every random draw of the run comes from numpy.random.default_rng(N)
Bad arguments exit with status 2 (argparse's convention), a refusal to overwrite with status 1.

Import this module before tinyae (the scripts do): it sets OMP_WAIT_POLICY first, see below.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# Threads that wait for each other lose badly on cores shared with other jobs: one waits, spinning,
# for another that the system has put to sleep. Measured on this machine (2 cores, load average 10-14):
#   Numba's OpenMP threads spinning (the default) vs passive: 1.5 s vs 0.35 s per step of the denoiser;
#   OpenBLAS on 2 threads vs 1: 145 ms vs 5 ms for (128, 784) @ (784, 512) and its transpose product.
# So the examples wait passively and keep BLAS on one thread. Both must be set before NumPy and Numba
# load their libraries; a value already in the environment wins (e.g. OPENBLAS_NUM_THREADS=2 when idle).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402  (after the environment variable on purpose)

from tinyae.argtypes import fraction, positive_float, positive_int  # noqa: E402,F401  (re-exported for the scripts)

SUMMARY = "summary.txt"
METRICS = "summary.json"


def make_parser(doc, name):
    """An ArgumentParser with the shared options; the script's docstring is its --help text."""
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs") / name,
                        help=f"folder for the PNGs and {SUMMARY} (default: runs/{name})")
    parser.add_argument("--force", action="store_true", help="overwrite files a previous run left in --out")
    parser.add_argument("--quick", action="store_true", help="a few seconds on a small subset (used by the tests)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    return parser


def add_fashion_mnist_option(parser):
    parser.add_argument("--fashion-mnist", type=Path, default=None, metavar="DIR",
                        help="folder holding the four Fashion-MNIST .gz files (default: the places "
                             "tinyae.datasets.load_fashion_mnist searches)")


def train_val_split(x, rng, train_size, val_size):
    """Disjoint random training and validation subsets of x (N, ...), drawn by one permutation."""
    order = rng.permutation(len(x))
    return x[order[:train_size]], x[order[train_size:train_size + val_size]]


def load_fashion(args, split, limit=None, dtype=np.float32):
    """(images, labels) of Fashion-MNIST, the first ``limit`` of them; a missing dataset exits with its message."""
    from tinyae.datasets import load_fashion_mnist
    from tinyae.errors import TinyAEError

    try:
        x, y = load_fashion_mnist(split, path=args.fashion_mnist, dtype=dtype, progress=False)
    except (OSError, TinyAEError) as err:
        sys.exit(f"error: {err}")
    return (x, y) if limit is None else (x[:limit], y[:limit])


def prepare_out(out, names, force):
    """Create ``out`` and make sure none of ``names`` (paths relative to it) exists, unless ``force``.

    Checked before any training, so a refusal costs nothing; exits with status 1 naming the files.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        sys.exit(f"error: --out {out} is a file, expected a folder")
    taken = [str(out / n) for n in names if (out / n).exists()]
    if taken and not force:
        more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
        sys.exit(f"error: {', '.join(taken[:3])}{more} already exist; pass --force to overwrite them")
    out.mkdir(parents=True, exist_ok=True)
    return out


def save(img, path, force):
    """Write a PIL image as PNG (tinyae.plots.save_png: atomic, refuses to overwrite unless force)."""
    from tinyae import plots

    plots.save_png(img, path, force=force)
    return path


def compact_pngs(paths):
    """Rewrite PNGs losslessly smaller: as 8-bit gray where R == G == B everywhere, zlib at its best level.

    The figures of image rows and manifolds are gray pictures in RGB files; gray needs a third of the bytes.
    """
    from PIL import Image

    from tinyae.checkpoint import write_atomic

    for path in paths:
        with Image.open(path) as im:
            im.load()
        if im.mode == "RGB":
            rgb = np.asarray(im)
            if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
                im = im.convert("L")
        write_atomic(path, lambda f: im.save(f, format="PNG", optimize=True), force=True)


def loss_curves(histories, title, part=None, ylabel=None):
    """One chart of train and validation loss per epoch for one or more runs.

    histories: {run name: tinyae.train.History}; with one run the series are "train" and "validation".
    part: plot this named term of the loss (e.g. "reconstruction") instead of the total.
    ylabel: the y axis' label (default: "loss", or the part's name).
    """
    from tinyae import plots

    series = {}
    for run, h in histories.items():
        train = h.loss if part is None else [p[part] for p in h.parts]
        val = h.val_loss if part is None else [p[part] for p in h.val_parts]
        prefix = "" if len(histories) == 1 else f"{run} "
        series[f"{prefix}train"] = train
        if val:
            series[f"{prefix}validation"] = val
    return plots.loss_curves(series, title=title, ylabel=ylabel or ("loss" if part is None else part))


def side_by_side(images, gap=16):
    """PIL images pasted left to right on white, tops aligned: two charts that are read together."""
    from PIL import Image

    images = [im.convert("RGB") for im in images]
    canvas = Image.new("RGB", (sum(im.width for im in images) + gap * (len(images) - 1),
                               max(im.height for im in images)), (255, 255, 255))
    x = 0
    for im in images:
        canvas.paste(im, (x, 0))
        x += im.width + gap
    return canvas


def psnr(mse):
    """Peak signal-to-noise ratio in dB of images in [0, 1]: 10 log10(1 / MSE)."""
    return float(10 * np.log10(1.0 / mse))


def batched(fn, x, batch_size=500):
    """fn applied to x in batches along axis 0 and concatenated: keeps big conv activations small."""
    return np.concatenate([fn(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def machine():
    """One line: CPU model, cores, load (other jobs share them), Numba threads, Python / NumPy / Numba versions."""
    import numba

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = f", load average {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {os.cpu_count()} cores{load}, {numba.config.NUMBA_NUM_THREADS} Numba threads; "
            f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}")


class Summary:
    """Numbers and setup lines of a run: printed as they come, written to summary.txt and summary.json.

    summary.txt is for people ("key: value" lines); summary.json holds the same values for programs.
    """

    def __init__(self, title):
        self.title, self.lines, self.values = title, [title, "=" * len(title)], {}
        self.start = time.perf_counter()
        print(title, flush=True)

    def note(self, text):
        self.lines.append(text)
        print(text, flush=True)

    def add(self, key, value, fmt="{}", unit=""):
        self.values[key] = value
        self.note(f"{key}: {fmt.format(value)}{' ' + unit if unit else ''}")

    def write(self, out, force):
        from tinyae.checkpoint import write_atomic

        self.add("total_seconds", round(time.perf_counter() - self.start, 1), "{}", "s")
        text = "\n".join(self.lines) + "\n"
        write_atomic(Path(out) / SUMMARY, lambda f: f.write(text.encode()), force=force)
        data = json.dumps(self.values, indent=1, default=float).encode()
        write_atomic(Path(out) / METRICS, lambda f: f.write(data), force=force)
