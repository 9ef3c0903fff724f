"""What every kernel shares: Numba's code generation settings, thread control, argument checks, and
a stack array for register tiles."""

from contextlib import contextmanager

import numba
import numpy as np
from numba import types
from numba.core import cgutils, codegen, config
from numba.extending import intrinsic

from tinyae.errors import ShapeError


def _prefer_512_bit_vectors():
    """Let LLVM use the full 512-bit registers of an AVX-512 CPU in every kernel compiled from now on.

    LLVM tunes Intel's server cores to "prefer-256-bit" vectors, a rule from chips that slowed their
    clock for 512-bit math. The conv kernels' register tiles (conv.py) hold 24 vectors of
    accumulators; at 256 bits they hold half as many numbers. Measured here: the 64 -> 64 channel
    3x3 conv forward on 14x14, batch 128, 2 threads, 9.7 ms with 256-bit vectors and 6.7 ms with
    512-bit ones. Numba reads the features once, when it builds its code generator at the first
    compile in the process, so this runs at import and holds for every Numba function compiled
    after it, procgen's decoder included (its fixed-order sums give the same bytes at any vector
    width). It changes speed, and round-off only in the reassociated weight-gradient sums. A user's
    own NUMBA_CPU_NAME or NUMBA_CPU_FEATURES is left alone.
    """
    if config.CPU_NAME is not None or config.CPU_FEATURES is not None:
        return
    features = codegen.get_host_cpu_features()
    if "+avx512f" in features.split(","):
        config.CPU_FEATURES = features + ",-prefer-256-bit"


_prefer_512_bit_vectors()

_FLOATS = (np.float32, np.float64)
_FMA = {"contract"}  # allow a*b + c -> one fused multiply-add; changes results by < 1 ulp per step
_FMA_SUMS = {"contract", "reassoc"}  # also let LLVM split a long sum into vector lanes
_PARALLEL_WORK = 2_000_000  # multiply-adds (or pooled pixels x 64) below which one thread is faster


@contextmanager
def _threads_for(work):
    """Run a call with ``work`` multiply-adds on one thread if it is small, else on all of Numba's.

    Each parallel loop costs a thread wake-up and a barrier: ~10 us on an idle machine, but tens of
    milliseconds when other processes hold the cores (measured: a 2x3x5x5 conv took 50 ms on 2
    threads under load, 33 us on one). Gradient checks make thousands of such calls.
    """
    before = numba.get_num_threads()
    if work >= _PARALLEL_WORK or before == 1:  # nothing to change (set_num_threads costs ~3 us a call)
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _empty_aligned(shape, dtype, align=64):
    """np.empty(shape, dtype), but starting on an ``align``-byte boundary: a cache line, and one
    AVX-512 vector. NumPy's arrays start wherever malloc puts them (16-byte steps), so a kernel
    that loads whole vectors from rows of 64 bytes loads each across two cache lines three times
    in four. Measured on the wide weight gradient of the conv VAE's 64 -> 64 conv (batch 128,
    2 threads): 4.63 ms with its scratch aligned, 5.11 with it 16, 32 or 48 bytes off."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(size + align, dtype=np.uint8)
    start = -raw.ctypes.data % align
    return raw[start:start + size].view(dtype).reshape(shape)


@intrinsic
def _stack_array(typingctx, size, dtype):
    """A pointer to ``size`` uninitialised values of ``dtype`` on the stack (``size`` a constant).

    A tile of accumulators must live in registers for a whole reduction. Numba puts every array on
    the heap, where LLVM cannot see that nothing else reads it; a stack array indexed only at
    constant positions (once the tile loops are unrolled) is promoted to registers.
    """
    if not isinstance(size, types.IntegerLiteral):
        return None
    n = size.literal_value

    def codegen_(context, builder, signature, args):
        item = context.get_value_type(dtype.dtype)
        return cgutils.alloca_once(builder, item, size=context.get_constant(types.int64, n))
    # The signature keeps the literal size: with a plain int64, two sizes would share one signature,
    # and whichever compiled last would set the size of every tile in the process.
    return types.CPointer(dtype.dtype)(size, dtype), codegen_


# ----------------------------------------------------------------------------------------------
# Argument checks shared by the public functions
# ----------------------------------------------------------------------------------------------

def _check_array(name, a, ndim):
    if not isinstance(a, np.ndarray):
        raise ShapeError(f"{name}: expected a numpy array, got {type(a).__name__}")
    if a.ndim != ndim:
        raise ShapeError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    if a.dtype not in _FLOATS:
        raise ShapeError(f"{name}: expected float32 or float64, got {a.dtype}")


def _check_same_dtype(**arrays):
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        raise ShapeError(f"expected one dtype for all arrays, got {dtypes}")
