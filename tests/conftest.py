"""Suite-wide settings, applied before any test module imports numpy.

One BLAS thread: Numba's kernel threads and OpenBLAS's threads both spin while they wait, and on
a 2-core machine each steals the other's core (a test measured 13 s -> 94 s). Timings are kept out
of the tests, so nothing here changes what a test asserts. A caller's explicit setting wins.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
