"""tinyae.kernels asks Numba for 512-bit vectors on AVX-512 CPUs, and leaves a user's own CPU settings alone;
its scratch buffers start on a cache line."""

import os
import subprocess
import sys

import numpy as np
import pytest
from numba.core import codegen

from tinyae.kernels._numba import _empty_aligned

SNIPPET = "import tinyae.kernels; from numba.core import config; print(config.CPU_FEATURES)"


def features_after_import(**env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU")}
    result = subprocess.run([sys.executable, "-c", SNIPPET], env=dict(environ, **env), check=True,
                            capture_output=True, text=True)
    return result.stdout.strip()


def test_512_bit_vectors_exactly_on_avx512_hosts():
    host = codegen.get_host_cpu_features()
    features = features_after_import()
    if "+avx512f" in host.split(","):
        assert features == host + ",-prefer-256-bit"
    else:
        assert features == "None"


def test_a_users_numba_cpu_features_win():
    assert features_after_import(NUMBA_CPU_FEATURES="+sse2") == "+sse2"


@pytest.mark.parametrize("shape", [(0,), (1,), (3, 5), (2, 4, 196, 64), (7, 1, 13)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_empty_aligned_starts_on_a_cache_line(shape, dtype):
    arrays = [_empty_aligned(shape, dtype) for _ in range(8)]  # eight allocations: malloc's 16-byte steps vary
    for a in arrays:
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert a.size == 0 or a.ctypes.data % 64 == 0  # an empty array has no first element to place
    a = arrays[0]
    a[...] = 1  # the whole array is usable memory
    assert a.sum() == a.size
