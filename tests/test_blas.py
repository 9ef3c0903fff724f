"""tinyae.blas: one BLAS thread inside the block, the caller's setting back afterwards."""

import numpy as np
import pytest

from tinyae import blas

functions = blas._thread_functions()
pytestmark = pytest.mark.skipif(functions is None, reason="NumPy is not linked to a bundled OpenBLAS here")


def test_one_thread_inside_and_the_callers_count_restored_after():
    get, set_ = functions
    before = get()
    set_(2)
    try:
        with blas.one_thread():
            assert get() == 1
            a = np.ones((64, 64))
            assert (a @ a == 64).all()
        assert get() == 2
        with pytest.raises(RuntimeError), blas.one_thread():
            raise RuntimeError("the count is restored on errors too")
        assert get() == 2
    finally:
        set_(before)
