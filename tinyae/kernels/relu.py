"""ReLU in one pass over memory each way: y = max(x, 0); dx = dy where y > 0, else 0.

NumPy needs two passes for each (a mask, then the product), over arrays of up to 25 MB here.
"""

import numpy as np
from numba import njit, prange

from tinyae.errors import ShapeError
from tinyae.kernels._numba import _threads_for


def relu_forward_naive(x):
    return np.maximum(x, 0)


def relu_backward_naive(dy, y):
    return dy * (y > 0)


@njit(parallel=True, cache=True)
def _relu_forward(x, y):
    for i in prange(x.size):
        y[i] = 0 if x[i] < 0 else x[i]  # a NaN fails the test and passes through, as in np.maximum


@njit(parallel=True, cache=True)
def _relu_backward(dy, y, dx):
    for i in prange(dy.size):
        dx[i] = dy[i] * (y[i] > 0)


def relu_forward(x):
    """y = max(x, 0), any shape; a NaN stays NaN, so a diverging network still shows it."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    with _threads_for(64 * x.size):
        _relu_forward(x.reshape(-1), y.reshape(-1))  # any shape -> flat views
    return y


def relu_backward(dy, y):
    """dx = dy where the forward output y > 0, else 0 (the derivative at 0 taken as 0)."""
    if dy.shape != y.shape:
        raise ShapeError(f"relu_backward: dy {dy.shape} and y {y.shape} must match")
    dy, y = np.ascontiguousarray(dy), np.ascontiguousarray(y)
    dx = np.empty_like(dy)
    with _threads_for(64 * dy.size):
        _relu_backward(dy.reshape(-1), y.reshape(-1), dx.reshape(-1))  # any shape -> flat views
    return dx
