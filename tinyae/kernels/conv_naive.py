"""Naive twins of the conv kernels: plain NumPy, one kernel tap (u, v) at a time, written to be read.

The maths they implement, and the fast kernels the tests hold to them, are in tinyae/kernels/conv.py.
All arrays are NCHW; conv weights w (F, C, kh, kw), transposed-conv weights (C_in, C_out, kh, kw).
"""

import numpy as np

from tinyae.errors import ShapeError


def _conv_out_size(n, k, s, p):
    """Ho = (H + 2p - k) // s + 1; raises if the kernel does not fit in the padded input."""
    if n + 2 * p < k:
        raise ShapeError(f"input size {n} + 2*padding {p} is smaller than the kernel size {k}")
    return (n + 2 * p - k) // s + 1


def _transpose_out_size(n, k, s, p, output_padding):
    """PyTorch's transposed-conv size (n - 1)*s - 2p + k + output_padding."""
    if not 0 <= output_padding < s:
        raise ShapeError(f"output_padding must be in [0, stride={s}), got {output_padding}")
    size = (n - 1) * s - 2 * p + k + output_padding
    if size < 1:
        raise ShapeError(f"transposed conv output size {size} < 1 (input {n}, kernel {k}, "
                         f"stride {s}, padding {p})")
    return size


def _tap_window(a, u, v, s, ho, wo):
    """The strided view a[:, :, s*i + u, s*j + v] for i < ho, j < wo: shape (N, C, ho, wo)."""
    return a[:, :, u:u + s * (ho - 1) + 1:s, v:v + s * (wo - 1) + 1:s]


def conv2d_forward_naive(x, w, b, stride, padding):
    """Reference conv: y = b + sum over taps (u, v) of w[:, :, u, v] applied to the shifted input."""
    s, p = int(stride), int(padding)
    f, _, kh, kw = w.shape
    ho, wo = _conv_out_size(x.shape[2], kh, s, p), _conv_out_size(x.shape[3], kw, s, p)
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    y = np.zeros((x.shape[0], f, ho, wo), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            y += np.einsum("nchw,fc->nfhw", _tap_window(xpad, u, v, s, ho, wo), w[:, :, u, v])
    return y + b[None, :, None, None]


def conv2d_backward_naive(dy, x, w, stride, padding):
    """Reference conv gradients (dx, dw, db) for upstream dy (N, F, Ho, Wo)."""
    s, p = int(stride), int(padding)
    _, _, kh, kw = w.shape
    ho, wo = dy.shape[2], dy.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    for u in range(kh):
        for v in range(kw):
            # each tap saw a shifted window of the input; its gradient goes back to that window
            _tap_window(dxpad, u, v, s, ho, wo)[...] += np.einsum("nfhw,fc->nchw", dy, w[:, :, u, v])
            dw[:, :, u, v] = np.einsum("nfhw,nchw->fc", dy, _tap_window(xpad, u, v, s, ho, wo))
    dx = dxpad[:, :, p:p + x.shape[2], p:p + x.shape[3]]
    return dx, dw, dy.sum(axis=(0, 2, 3))


def conv_transpose2d_forward_naive(x, w, b, stride, padding, output_padding):
    """Reference transposed conv, w (C_in, C_out, kh, kw): every input pixel paints a weighted kernel."""
    s, p = int(stride), int(padding)
    _, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    ho = _transpose_out_size(h, kh, s, p, output_padding)
    wo = _transpose_out_size(wd, kw, s, p, output_padding)
    ypad = np.zeros((n, c_out, ho + 2 * p, wo + 2 * p), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            # output_padding rows lie below the last window; the window view stops inside ypad
            _tap_window(ypad, u, v, s, h, wd)[...] += np.einsum("nchw,cf->nfhw", x, w[:, :, u, v])
    return ypad[:, :, p:p + ho, p:p + wo] + b[None, :, None, None]


def conv_transpose2d_backward_naive(dy, x, w, stride, padding, output_padding):
    """Reference transposed-conv gradients (dx, dw, db): each input pixel reads back its painted window."""
    s, p = int(stride), int(padding)
    _, _, kh, kw = w.shape
    h, wd = x.shape[2], x.shape[3]
    dypad = np.pad(dy, ((0, 0), (0, 0), (p, p), (p, p)))
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for u in range(kh):
        for v in range(kw):
            window = _tap_window(dypad, u, v, s, h, wd)  # (N, C_out, H, W)
            dx += np.einsum("nfhw,cf->nchw", window, w[:, :, u, v])
            dw[:, :, u, v] = np.einsum("nchw,nfhw->cf", x, window)
    return dx, dw, dy.sum(axis=(0, 2, 3))
