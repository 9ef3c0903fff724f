"""A Dense layer's three matrix products on register tiles, over Numba's threads.

Shapes: x (N, K), W (K, M), y (N, M), with M a multiple of 32 (the 32 columns of a tile):
    forward      y[i, j]  = sum_k x[i, k] W[k, j]        (then + b, and max(., 0) with the ReLU)
    weights      dW[k, j] = sum_i x[i, k] dz[i, j]       dz = dL/d(x W + b), (N, M)
    input        dx[i, k] = sum_j dz[i, j] W[k, j]
NumPy's OpenBLAS runs these on one thread in tinyae (tinyae/blas.py explains why: its spinning
workers fight Numba's), so the conv VAE's Dense(12544 -> 32), three products of 51 M multiply-adds
each, took 2.8 ms of its training step on one core while the other waited. These kernels split
each product over the threads:
    forward  8 rows of x x 32 columns of W (16 AVX-512 registers of float32), summed over a share
             of k; each thread sums its own share into its own (N, M) part, added up afterwards
             (no two threads add into one cell). k runs in chunks of 1024, so a chunk of 32
             columns of W (128 KB) stays in the L2 cache while every row of x passes over it.
    weights  8 values of k x 32 columns, summed over i; threads take blocks of 8 k's.
    input    8 rows of dz x 48 values of k, summed over j, on W^T: each block of k's (384 for
             M = 32, 48 KB of W) is transposed into the thread's scratch first, so the tile reads
             contiguous rows; threads take blocks of k's.
The 8 x 32 tiles step two rows at a time, both reading one vector of W (or dz): one row per step
left a 32-cell loop small enough for LLVM to unroll before its vectorizer saw it, and the tile ran
on scalars (tinyae/kernels/conv_tiles.py has the same narrow tile). Rows of x past the last
multiple of 8, and k's past the last multiple of 8 in the weight gradient, take plain loops.
Measured on the conv VAE's 128 x 12544 x 32 products, float32, 2 threads, each alone (ms):
forward 0.31, weights 0.54, input 0.63, against OpenBLAS on one thread 0.88 / 0.86 / 1.03 and
PyTorch on two 0.38 / 0.60 / 0.31. The input gradient is bound by writing its 6.4 MB: the same
kernel without the stores ran in 0.20 ms. (Splitting each product into one BLAS call per thread
through Numba's np.dot also ran the forward in 0.58 ms, but Numba cannot cache a function that
calls BLAS: every process would compile it again.)
"""

import numba
import numpy as np
from numba import njit, prange
from numba.np.numpy_support import carray

from tinyae.kernels._numba import _FMA, _stack_array, _threads_for
from tinyae.kernels.dense import THIN_INPUTS

TILE_OUTPUTS = 32  # Dense layers whose n_out is a multiple of this use these kernels (tiles_pay)
_ROWS, _COLS = 8, 32
_TILE = _ROWS * _COLS
_K_CHUNK = 1024  # forward: k's per chunk of W kept in the L2 cache
_IN_COLS = 48  # input gradient: k's per tile (3 vectors)
_IN_TILE = _ROWS * _IN_COLS
_IN_BLOCK_CELLS = 12288  # input gradient: a block of W^T, up to 8 tiles of k's wide, holds about this many (48 KB)


@njit(parallel=True, cache=True, fastmath=_FMA)
def _forward_parts(x, w, parts):
    """parts[t] = sum over k in share t of x[:, k] W[k, :]: y = parts.sum(0). x (N, K), w (K, M)."""
    n, k_in = x.shape
    m = w.shape[1]
    n_parts = parts.shape[0]
    n_tiled = n - n % _ROWS
    xf, wf = x.reshape(-1), w.reshape(-1)  # flat, for unsigned offsets
    for t in prange(n_parts):
        lo, hi = t * k_in // n_parts, (t + 1) * k_in // n_parts
        acc = carray(_stack_array(_TILE, x.dtype), (_ROWS, _COLS))
        out = parts[t]
        out[:] = 0
        for k0 in range(lo, hi, _K_CHUNK):
            k1 = min(k0 + _K_CHUNK, hi)
            for j0 in range(0, m, _COLS):
                for i0 in range(0, n_tiled, _ROWS):
                    for a in range(_ROWS):
                        for c in range(_COLS):
                            acc[a, c] = out[i0 + a, j0 + c]
                    for k in range(k0, k1):
                        o = np.uint64(k * m + j0)
                        for a in range(0, _ROWS, 2):
                            x0 = xf[np.uint64((i0 + a) * k_in + k)]
                            x1 = xf[np.uint64((i0 + a + 1) * k_in + k)]
                            for c in range(_COLS):
                                v = wf[o + np.uint64(c)]
                                acc[a, c] += x0 * v
                                acc[a + 1, c] += x1 * v
                    for a in range(_ROWS):
                        for c in range(_COLS):
                            out[i0 + a, j0 + c] = acc[a, c]
            for i in range(n_tiled, n):  # the last N % 8 rows
                oi = out[i]
                for k in range(k0, k1):
                    xv, wk = x[i, k], w[k]
                    for j in range(m):
                        oi[j] += xv * wk[j]


@njit(parallel=True, cache=True, fastmath=_FMA)
def _weight_grad(x, dz, dw):
    """dw[k, j] = sum_i x[i, k] dz[i, j]. x (N, K), dz (N, M), dw (K, M)."""
    n, k_in = x.shape
    m = dz.shape[1]
    xf, df = x.reshape(-1), dz.reshape(-1)  # flat, for unsigned offsets
    n_blocks = k_in // _ROWS
    for b in prange(n_blocks + 1):
        if b == n_blocks:  # the last K % 8 values of k
            for k in range(n_blocks * _ROWS, k_in):
                dwk = dw[k]
                dwk[:] = 0
                for i in range(n):
                    xv, di = x[i, k], dz[i]
                    for j in range(m):
                        dwk[j] += xv * di[j]
            continue
        k0 = b * _ROWS
        acc = carray(_stack_array(_TILE, x.dtype), (_ROWS, _COLS))
        for j0 in range(0, m, _COLS):
            for a in range(_ROWS):
                for c in range(_COLS):
                    acc[a, c] = 0
            for i in range(n):
                ox, od = np.uint64(i * k_in + k0), np.uint64(i * m + j0)
                for a in range(0, _ROWS, 2):
                    x0, x1 = xf[ox + np.uint64(a)], xf[ox + np.uint64(a + 1)]
                    for c in range(_COLS):
                        v = df[od + np.uint64(c)]
                        acc[a, c] += x0 * v
                        acc[a + 1, c] += x1 * v
            for a in range(_ROWS):
                for c in range(_COLS):
                    dw[k0 + a, j0 + c] = acc[a, c]


@njit(parallel=True, cache=True, fastmath=_FMA)
def _input_grad(dz, w, scratch, dx):
    """dx[i, k] = sum_j dz[i, j] w[k, j]. dz (N, M), w (K, M), dx (N, K); scratch (slices, M, B),
    one per thread, receives each block of B k's of W^T (B a multiple of 48)."""
    n, m = dz.shape
    k_in = w.shape[0]
    n_tiled = n - n % _ROWS
    n_slices, block = scratch.shape[0], scratch.shape[2]
    n_blocks = -(-k_in // block)
    dxf = dx.reshape(-1)  # flat, for unsigned offsets
    for t in prange(n_slices):
        wt = scratch[t]
        acc = carray(_stack_array(_IN_TILE, dz.dtype), (_ROWS, _IN_COLS))
        for b in range(t * n_blocks // n_slices, (t + 1) * n_blocks // n_slices):
            k0 = b * block
            width = min(block, k_in - k0)
            for kk in range(width):  # (width, M) -> (M, width)
                wk = w[k0 + kk]
                for j in range(m):
                    wt[j, kk] = wk[j]
            for i0 in range(0, n_tiled, _ROWS):
                for c0 in range(0, width, _IN_COLS):
                    for a in range(_ROWS):
                        for c in range(_IN_COLS):
                            acc[a, c] = 0
                    for j in range(m):
                        ws = wt[j, c0:]  # cells past width are stale: their sums are not stored
                        for a in range(_ROWS):
                            d = dz[i0 + a, j]
                            for c in range(_IN_COLS):
                                acc[a, c] += d * ws[c]
                    for a in range(_ROWS):
                        o = np.uint64((i0 + a) * k_in + k0 + c0)
                        for c in range(min(_IN_COLS, width - c0)):
                            dxf[o + np.uint64(c)] = acc[a, c]
            for i in range(n_tiled, n):  # the last N % 8 rows
                di = dx[i, k0:k0 + width]
                di[:] = 0
                for j in range(m):
                    d, ws = dz[i, j], wt[j]
                    for c in range(width):
                        di[c] += d * ws[c]


def tiles_pay(n_in, n_out):
    """Whether a Dense(n_in, n_out) runs its products here rather than on NumPy's BLAS: n_out a
    multiple of TILE_OUTPUTS, more than THIN_INPUTS inputs, and more than one thread. On one
    thread OpenBLAS's packed products are the faster (batch 128, float32, ms): Dense(784 -> 512)
    forward 0.64 against 1.09 here, backward 1.28 against 1.58; Dense(12544 -> 32) backward 1.87
    against 2.41."""
    return n_in > THIN_INPUTS and n_out % TILE_OUTPUTS == 0 and numba.get_num_threads() > 1


def dense_tiled_forward(x, w, b, relu=False):
    """y = x w + b, then max(y, 0) if relu; x (N, K), w (K, M) with M a multiple of TILE_OUTPUTS."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    with _threads_for(x.size * w.shape[1]):
        parts = np.empty((numba.get_num_threads(), x.shape[0], w.shape[1]), dtype=x.dtype)
        _forward_parts(x, w, parts)
    y = parts.sum(axis=0) if len(parts) > 1 else parts[0]
    y += b
    return np.maximum(y, 0, out=y) if relu else y


def dense_tiled_backward(dy, x, w, y=None, input_grad=True):
    """(dx, dw, db) of dense_tiled_forward for upstream dy (N, M); y its output if it applied the ReLU.

    dx is None without input_grad."""
    dy, x, w = np.ascontiguousarray(dy), np.ascontiguousarray(x), np.ascontiguousarray(w)
    dz = dy if y is None else dy * (y > 0)
    dw, dx = np.empty_like(w), None
    with _threads_for(x.size * w.shape[1]):
        _weight_grad(x, dz, dw)
        if input_grad:
            dx = np.empty_like(x)
            block = _IN_COLS * max(1, min(8, _IN_BLOCK_CELLS // (_IN_COLS * w.shape[1])))
            _input_grad(dz, w, np.empty((numba.get_num_threads(), w.shape[1], block), dtype=w.dtype), dx)
    return dx, dw, dz.sum(axis=0)
