"""Max pooling over non-overlapping size x size windows: a Numba kernel beside its NumPy twin.

    y[n, c, i, j] = max over the window (i, j) of x[n, c]; argmax keeps the winner's flat index
    dx[n, c, argmax[n, c, i, j]] = dy[n, c, i, j]    (windows do not overlap, so nothing adds up)
"""

import numpy as np
from numba import njit, prange

from tinyae.errors import ShapeError
from tinyae.kernels._numba import _check_array, _threads_for


def maxpool2d_forward_naive(x, size, pad_bottom_right):
    """Reference max pool over size x size windows; returns (y, argmax).

    argmax (N, C, Ho, Wo) int64 holds the flat index h*W + w of each window's winner in its plane.
    Ties go to the first maximum in row-major window order. Padded cells are never read.
    """
    n, c, h, w = x.shape
    ho, wo = _pool_out_size(h, w, size, pad_bottom_right)
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    argmax = np.empty((n, c, ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            window = x[:, :, i * size:(i + 1) * size, j * size:(j + 1) * size]  # clipped at the edges
            wh, ww = window.shape[2], window.shape[3]
            k = np.argmax(window.reshape(n, c, wh * ww), axis=2)  # (N, C, wh, ww) -> (N, C, wh*ww)
            y[:, :, i, j] = np.take_along_axis(window.reshape(n, c, wh * ww), k[..., None], axis=2)[..., 0]
            argmax[:, :, i, j] = (i * size + k // ww) * w + (j * size + k % ww)
    return y, argmax


def maxpool2d_backward_naive(dy, argmax, x_shape):
    """Reference max-pool gradient: each dy goes to its window's winner (windows do not overlap)."""
    n, c, h, w = x_shape
    dx = np.zeros((n, c, h * w), dtype=dy.dtype)
    # (N, C, Ho, Wo) -> (N, C, Ho*Wo): one flat winner index per pooled value
    np.put_along_axis(dx, argmax.reshape(n, c, -1), dy.reshape(n, c, -1), axis=2)
    return dx.reshape(n, c, h, w)  # (N, C, H*W) -> (N, C, H, W)


def _pool_out_size(h, w, size, pad_bottom_right):
    ph, pw = (int(a) for a in pad_bottom_right)
    if size < 1 or ph < 0 or pw < 0 or ph >= size or pw >= size:
        raise ShapeError(f"maxpool: expected size >= 1 and 0 <= padding < size, got size={size}, "
                         f"pad_bottom_right={pad_bottom_right}")
    ho, wo = (h + ph) // size, (w + pw) // size
    if ho < 1 or wo < 1:
        raise ShapeError(f"maxpool: input {h}x{w} is smaller than the {size}x{size} window")
    return ho, wo


@njit(cache=True, inline="always")
def _pool_window(plane, i, j, size):
    """(max, flat index h*W + w of the first maximum) of window (i, j), clipped at the plane's edges."""
    h, w = plane.shape
    best_h, best_w = i * size, j * size  # the window's first cell is always inside x
    best = plane[best_h, best_w]
    for hh in range(i * size, min(i * size + size, h)):
        for ww in range(j * size, min(j * size + size, w)):
            if plane[hh, ww] > best:  # strict: ties keep the first maximum
                best, best_h, best_w = plane[hh, ww], hh, ww
    return best, best_h * w + best_w


@njit(parallel=True, cache=True)
def _maxpool_forward(x, size, y, argmax):
    n_img, c_in, h, w = x.shape
    ho, wo = y.shape[2], y.shape[3]
    for nc in prange(n_img * c_in):
        n, c = nc // c_in, nc % c_in
        for i in range(ho):
            for j in range(wo):
                y[n, c, i, j], argmax[n, c, i, j] = _pool_window(x[n, c], i, j, size)


@njit(parallel=True, cache=True)
def _maxpool2_forward(x, y, argmax):
    """_maxpool_forward for 2 x 2 windows: the full ones unrolled (5x faster), the clipped ones by _pool_window."""
    n_img, c_in, h, w = x.shape
    ho, wo = y.shape[2], y.shape[3]
    for nc in prange(n_img * c_in):
        n, c = nc // c_in, nc % c_in
        for i in range(h // 2):
            r0, r1, yr, ar = x[n, c, 2 * i], x[n, c, 2 * i + 1], y[n, c, i], argmax[n, c, i]
            for j in range(w // 2):
                best, k = r0[2 * j], 0  # the same order as _pool_window: ties keep the first
                if r0[2 * j + 1] > best:
                    best, k = r0[2 * j + 1], 1
                if r1[2 * j] > best:
                    best, k = r1[2 * j], w
                if r1[2 * j + 1] > best:
                    best, k = r1[2 * j + 1], w + 1
                yr[j] = best
                ar[j] = 2 * i * w + 2 * j + k
            for j in range(w // 2, wo):
                yr[j], ar[j] = _pool_window(x[n, c], i, j, 2)
        for i in range(h // 2, ho):
            for j in range(wo):
                y[n, c, i, j], argmax[n, c, i, j] = _pool_window(x[n, c], i, j, 2)


@njit(parallel=True, cache=True)
def _maxpool_backward(dy, argmax, dx):
    n_img, c_in, h, w = dx.shape
    ho, wo = dy.shape[2], dy.shape[3]
    for nc in prange(n_img * c_in):
        n, c = nc // c_in, nc % c_in
        plane = dx[n, c].reshape(h * w)  # (H, W) -> (H*W,), a view: windows do not overlap
        plane[:] = 0
        for i in range(ho):
            for j in range(wo):
                plane[argmax[n, c, i, j]] = dy[n, c, i, j]


def maxpool2d_forward(x, size, pad_bottom_right):
    """(y, argmax) of max pooling x (N, C, H, W) over size x size windows, stride size.

    pad_bottom_right = (ph, pw) extends the bottom/right edges so Ho = (H + ph) // size; the padded
    cells are never read, so they never win. Ties go to the first maximum in row-major order.
    argmax (N, C, Ho, Wo) int64 is the flat index h*W + w of each winner within its plane.
    """
    _check_array("x", x, 4)
    size = int(size)
    ho, wo = _pool_out_size(x.shape[2], x.shape[3], size, pad_bottom_right)
    x = np.ascontiguousarray(x)
    y = np.empty((x.shape[0], x.shape[1], ho, wo), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int64)
    with _threads_for(64 * x.size):
        if size == 2:
            _maxpool2_forward(x, y, argmax)
        else:
            _maxpool_forward(x, size, y, argmax)
    return y, argmax


def maxpool2d_backward(dy, argmax, x_shape):
    """dx (x_shape) of max pooling: dy[n, c, i, j] lands on the winner argmax[n, c, i, j], 0 elsewhere."""
    _check_array("dy", dy, 4)
    if argmax.shape != dy.shape:
        raise ShapeError(f"maxpool2d_backward: argmax {argmax.shape} and dy {dy.shape} must match")
    dx = np.empty(tuple(int(a) for a in x_shape), dtype=dy.dtype)
    with _threads_for(64 * dx.size):
        _maxpool_backward(np.ascontiguousarray(dy), np.ascontiguousarray(argmax), dx)
    return dx
