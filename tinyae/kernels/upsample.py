"""Nearest-neighbour upsampling by an integer factor f: a Numba kernel beside its NumPy twin.

    y[n, c, i, j] = x[n, c, i // f, j // f];  dx[n, c, i, j] = sum of the f x f block of dy over (i, j)
"""

import numpy as np
from numba import njit, prange

from tinyae.errors import ShapeError
from tinyae.kernels._numba import _check_array, _threads_for


def upsample2d_forward_naive(x, factor):
    """Reference: repeat every row and every column f times."""
    return x.repeat(factor, axis=2).repeat(factor, axis=3)  # (N, C, H, W) -> (N, C, fH, fW)


def upsample2d_backward_naive(dy, factor):
    """Reference: dx[n, c, i, j] = sum of the f x f block dy[n, c, f*i:f*i + f, f*j:f*j + f]."""
    n, c, fh, fw = dy.shape
    # (N, C, fH, fW) -> (N, C, H, f, W, f), then sum the two f axes
    return dy.reshape(n, c, fh // factor, factor, fw // factor, factor).sum(axis=(3, 5))


@njit(parallel=True, cache=True)
def _upsample_forward(x, f, y):
    n_img, c_in, h, w = x.shape
    for nc in prange(n_img * c_in):
        n, c = nc // c_in, nc % c_in
        for i in range(h):
            row = y[n, c, f * i]
            for j in range(w):
                for v in range(f):
                    row[f * j + v] = x[n, c, i, j]
            for u in range(1, f):
                y[n, c, f * i + u, :] = row


@njit(parallel=True, cache=True)
def _upsample_backward(dy, f, dx):
    n_img, c_in, h, w = dx.shape
    for nc in prange(n_img * c_in):
        n, c = nc // c_in, nc % c_in
        for i in range(h):
            for j in range(w):
                total = dy[n, c, f * i, f * j]
                for u in range(f):
                    for v in range(f):
                        if u or v:
                            total += dy[n, c, f * i + u, f * j + v]
                dx[n, c, i, j] = total


def upsample2d_forward(x, factor):
    """y (N, C, fH, fW) with y[n, c, i, j] = x[n, c, i // f, j // f]."""
    _check_array("x", x, 4)
    f = int(factor)
    x = np.ascontiguousarray(x)
    y = np.empty((x.shape[0], x.shape[1], f * x.shape[2], f * x.shape[3]), dtype=x.dtype)
    with _threads_for(64 * y.size):
        _upsample_forward(x, f, y)
    return y


def upsample2d_backward(dy, factor):
    """dx (N, C, H, W): the sum of each f x f block of dy (N, C, fH, fW), in row-major block order."""
    _check_array("dy", dy, 4)
    f = int(factor)
    if dy.shape[2] % f or dy.shape[3] % f:
        raise ShapeError(f"upsample2d_backward: dy's height and width {dy.shape[2:]} must be multiples of {f}")
    dx = np.empty((dy.shape[0], dy.shape[1], dy.shape[2] // f, dy.shape[3] // f), dtype=dy.dtype)
    with _threads_for(64 * dy.size):
        _upsample_backward(np.ascontiguousarray(dy), f, dx)
    return dx
