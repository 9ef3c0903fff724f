"""One BLAS thread for tinyae's matrix products, so NumPy's OpenBLAS never competes with Numba's threads.

After each multithreaded call, OpenBLAS keeps its worker threads spinning for a while, waiting for
the next one. tinyae's conv kernels run on Numba's threads in that time, and on a 2-core machine
the two pools fight over the cores. Measured on the conv VAE of benchmarks/train_speed.py (batch
128, float32, 2 cores): 416 training images/s with OpenBLAS on 2 threads, 714 with 1. The Dense
layers' products are small next to the convs (and on the dense-only autoencoder one thread was as
fast as two), so tinyae runs them on one thread and gives the user's setting back afterwards.
Dense layers whose n_out is a multiple of 32 split their products over Numba's own threads
instead, when there are two or more (tinyae/kernels/dense_tiles.py).

This reaches NumPy's own OpenBLAS through its thread-count functions. With another BLAS (MKL,
Accelerate) the functions are not found and nothing changes.
"""

import ctypes
import glob
import os
from contextlib import contextmanager
from functools import cache

import numpy as np

# (library file pattern, get-threads symbol, set-threads symbol), newest NumPy wheels first
_OPENBLAS = [
    ("libscipy_openblas64_*", "scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("libscipy_openblas*", "scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("libopenblas*", "openblas_get_num_threads", "openblas_set_num_threads"),
]


@cache
def _thread_functions():
    """(get, set) for the OpenBLAS bundled with NumPy, or None if there is none to be found."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for pattern, get_name, set_name in _OPENBLAS:
        for path in glob.glob(os.path.join(libs, pattern + ".so*")):
            try:
                lib = ctypes.CDLL(path)  # already loaded by NumPy: this returns the same library
                return getattr(lib, get_name), getattr(lib, set_name)
            except (OSError, AttributeError):
                continue
    return None


@contextmanager
def one_thread():
    """Run the block with NumPy's BLAS on one thread, then restore the thread count it had."""
    functions = _thread_functions()
    if functions is None:
        yield
        return
    get, set_ = functions
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)
