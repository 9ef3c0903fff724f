"""Convolution and transposed convolution: fast Numba kernels beside naive NumPy twins.

All arrays are NCHW, float32 or float64 (the output has the input's dtype). Shapes:
    x (N, C, H, W), conv weights w (F, C, kh, kw), bias b (F,), y (N, F, Ho, Wo)
    Ho = (H + 2p - kh) // s + 1                 (stride s, symmetric zero padding p)
Convolution (a correlation, as in every deep-learning library):
    y[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, s*i + u, s*j + v]
and its three gradients, each a correlation again:
    dxpad[n, c, s*i + u, s*j + v] += sum_f w[f, c, u, v] * dy[n, f, i, j]     (scatter back)
    dw[f, c, u, v] = sum_{n, i, j} dy[n, f, i, j] * xpad[n, c, s*i + u, s*j + v]
    db[f]          = sum_{n, i, j} dy[n, f, i, j]
A transposed convolution with weights (C_in, C_out, kh, kw) is the adjoint map, so its forward is
the conv's dx formula and its backward is the conv's forward and dw formulas with the roles swapped.

How the fast kernels work: "flat shifted planes"
------------------------------------------------
Pad each image plane and lay it out flat, row after row, with row length Wp. Then the input pixel
under kernel tap (u, v) for output (i, j) sits at flat index  q + (u*Wp + v)  where q = i*Wp + j:
one constant offset per tap. A convolution becomes, for every output row q = 0 .. Ho*Wp - 1,
    y[f, q] += w[f, c, u, v] * xflat[c, q + offset(u, v)]
a long, contiguous multiply-add that LLVM vectorizes (AVX-512 here). The columns j >= Wo of this
grid are junk (they wrap into the next row) and are dropped when the result is unpacked.
Stride s > 1 would make q jump by s; instead the padded plane is split into its s*s "phases"
(rows = a mod s, columns = b mod s), each stored flat. Tap (u, v) then reads phase (u % s, v % s)
at offset (u // s)*Wph + v // s, and the same unit-stride loop serves every stride.
The sums run on register tiles. The forward keeps an 8 (output channels) x 48 (grid cells) tile
of accumulators, 24 AVX-512 registers, for the whole sum over the C*kh*kw input rows: each step
loads 3 vectors of x and 8 weights for 24 multiply-adds, so arithmetic, not memory, sets the pace.
A stride-1 conv's input gradient is the same gather run on dy with the kernel flipped; other
strides scatter back with the same tile shape. The weight gradient, a sum over the grid, keeps a
6 (input rows) x 64 (output channels) tile when F is a multiple of 64, else 4 x 4 scalar sums.
Numba has no vector type, so a tile is a small stack array that LLVM promotes to registers once
the tile loops are unrolled (``_stack_array``); 48 and 64 columns keep that promotion reliable.
A 32-column tile works only with two rows per loop step (conv_tiles.py): with one, LLVM unrolled
it too early and fell back to scalars or gathers. It ends a grid where 48 would overshoot: the
14 x 14 outputs of the conv VAE compute 224 cells per plane instead of 240.
Each layout copy (the padded phases, dy on the grid or channels last) is made for one image (or
four) just before the sums read it, into a buffer of the thread's own that stays in its L2 cache,
and the scatter's result is unpacked to NCHW while it is still there: as passes over the whole
batch, those copies went out to memory and the sums read them back from there (the stride-2
forward: 4.3 -> 3.3 ms of sums in the training step). The forward's phases of x are not kept
for the weight gradient, which builds them again: kept for the whole batch, they made the same
round trip to memory, and in alternating runs of the conv VAE's step the two ways were within
noise, with 15 MB less held per stride-2 layer this way.
With relu=True the kernels write max(y, 0) as they write y, and a ReLU's backward is one pass
that also sums the bias gradient (_relu_grad_sums).

Why this strategy. Measured on this machine (a 2-core AVX-512 Xeon VM, float32, NumPy 2.4 with
OpenBLAS 0.3.31, Numba 0.68, PyTorch 2.13) on the tutorial's 3x3 conv 64 -> 64 channels, 14x14,
batch 128, 2 threads, machine quiet:
  * im2col + NumPy matmul over the whole batch: the GEMM alone ran at ~240 GFLOP/s (7.7 ms), but the
    58 MB patch matrix took the forward to ~19 ms and the col2im backward to ~40 ms. Numba's OpenMP
    threads and OpenBLAS's threads, alternating, cost up to ~6 ms per switch while both spin-wait.
  * im2col of the flat shifted planes, in L2-sized chunks, + matmul: 119 GFLOP/s per core on one
    thread; on 2 threads OpenBLAS reaches only ~130 GFLOP/s per core on these thin (64 x 576) GEMMs,
    for two thread pools to keep apart. Not taken.
  * direct loops, one multiply-add per load and store: 83 GFLOP/s (22 ms).
  * flat shifted planes, 4 x 4 tiles added into memory: 160 GFLOP/s (11.5 ms); the stores bound it.
  * register tiles, 256-bit vectors (LLVM's default on this CPU): 190 GFLOP/s (9.7 ms).
  * register tiles, 512-bit vectors (_numba.py): 278 GFLOP/s (6.7 ms); each tile's weights stored
    together, bias added once per tile, NCHW written straight from the tile: 315 GFLOP/s; unsigned
    offsets, which spare Numba's negative-index check in the inner loop: 326 GFLOP/s (5.7 ms).
    A pure multiply-add loop on cached data reaches 472 GFLOP/s here, the ceiling for this code.
  * Winograd's F(2x2, 3x3), 2.25x fewer multiply-adds (tried on a branch, not kept): its 16
    products ran near this kernel's speed, but the input and output transforms and the writes back
    to NCHW cost ~2 ms a call; in the conv VAE's training step it took 5.65 ms a call against 6.0,
    and its own padded layout made the small layers of the denoising AE slower. Measured again
    against the gather that builds its phases per image: 6.74 ms against 6.49 (warm), 7.07
    against 7.06 (caches flushed).
  * Other tiles for the forward, same layer: vectors along the output channels (7 grid cells x 64
    channels, no junk columns at all) 6.2 ms against the 8 x 48 tile's 5.5 (one register short:
    a spill in every step); 5 cells x 64 channels, which fits the registers, 5.97 to 6.6 against
    5.75 (its 147 KB of weights stream from the L2 cache for every tile; summing a block of rows
    at a time through a channels-last scratch, to keep them in L1, was slower still), though on
    the stride-2 layer, with half the weights, it ran 3.62 against 3.89 ms (a lead for a stride-2
    path that reads x without the phase split); 4 x 112 and 2 x 224 (no rounding of 224 cells
    up to 240) 8.3 and 13.1 ms; 8 x 32, one row per step, 161 ms (gathers, as above). What did
    pay: ending each grid on an 8 x 32 tile (two rows per step) where the rest fits, 6.12 ->
    5.75 ms.
PyTorch (oneDNN's hand-written AVX-512 kernels) runs that layer at ~385 GFLOP/s (4.8 ms). Per layer
of the tutorial's models, forward / input gradient / weight gradient in ms, tinyae vs PyTorch
(best of 5, building the padded copies included, each layer alone, not in a training step):
64 -> 64 at 14x14: 5.5 / 5.6 / 4.7 vs 4.7 / 5.2 / 4.8; 32 -> 64 stride 2: 3.7 / 4.0 / 3.1 vs
2.9 / 4.9 / 3.3; the thin last layer 64 -> 1 at 28x28: 1.6 / 1.5 / 1.6 vs 5.6 / 6.0 / 5.9.
Of the stride-2 scatter's 4.1 ms alone, ~1.1 go to its copies (dy onto the grid, clearing the
phases, unpacking them), the rest to the tiles and their adds into the phases (those adds were
scalar, 5.1 ms in all, until they went two rows per step: _scatter).
For stride 2, computing the input gradient one output phase at a time (four stride-1 gathers with
2x2, 2x1, 1x2 and 1x1 sub-kernels) measured 5.7 ms against the scatter's 6.6 alone, but no faster
in the training step: the phases' sums are short (64 to 256 rows). Not kept. Neither was the
weight gradient's 4 x 4 sums carried across 4 images before the lanes are added up (64 -> 32
at 14x14: 6.1 ms against 4.7), nor reading dy * [y > 0] inside each copy of dy (phases, grid,
channels last) instead of in _relu_grad_sums's pass, the bias sums taken from the first copy:
the conv VAE's step took 87.4 ms against 87.8, as the copies then read dy and y from memory twice.
Done only where dy has one copy (no input gradient; the transposed conv's dx), it was slower
still (86 ms against 82): the mask and sums inside the gather's per-image copy cost its tiles
4 ms a step.

Rules kept here: ``prange`` runs over independent outputs only (images for y and dx; batch slices
with their own partial sums for dw, added up afterwards), so no two threads ever add into the
same cell. fastmath is limited to FMA contraction (and, for the dw sums, reassociation), so
results match the naive twins to ~1e-15 relative in float64.
"""

import numba
import numpy as np

from tinyae.errors import ShapeError
from tinyae.kernels._numba import _check_array, _check_same_dtype, _empty_aligned, _threads_for
from tinyae.kernels.conv_layout import (_plan_for, _round_up, _rows_by_channel, _rows_by_tap,
                                        _weights_by_channel, _weights_by_tap)
from tinyae.kernels.conv_naive import _conv_out_size, _transpose_out_size
from tinyae.kernels.conv_tiles import (_TILE_ROWS, _WIDE_COLS, _WIDE_IMAGES, _WIDE_ROWS, _channel_sums,
                                       _correlate_grads, _correlate_grads_wide, _gather, _relu_grad_sums,
                                       _scatter, _scatter_thin)


def _check_conv_args(x, w, stride, padding, x_channels_axis=1, w_channels_axis=1):
    _check_array("x", x, 4)
    _check_array("w", w, 4)
    if x.shape[x_channels_axis] != w.shape[w_channels_axis]:
        raise ShapeError(f"x has {x.shape[x_channels_axis]} channels but w {w.shape} expects "
                         f"{w.shape[w_channels_axis]}")
    if int(stride) < 1 or int(padding) < 0:
        raise ShapeError(f"expected stride >= 1 and padding >= 0, got stride={stride}, padding={padding}")


# ----------------------------------------------------------------------------------------------
# The three conv maps, in terms of the correlations (conv_tiles.py)
# ----------------------------------------------------------------------------------------------

def _slices(n):
    """How many batch slices the kernels split n images into: one per thread."""
    return max(1, min(n, numba.get_num_threads()))


def _conv_forward(x, w, b, s, p, relu=False):
    """The conv of x (then max(., 0) if relu)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    plan = _plan_for(h, wd, kh, kw, s, p)
    row_offset = _rows_by_channel(c, plan)
    xf = np.empty((_slices(n), plan.flat_length(c)), dtype=x.dtype)
    y = np.empty((n, f, plan.ho, plan.wo), dtype=x.dtype)
    _gather(x, (s, p, plan.hph, plan.wph, plan.length), xf, _weights_by_channel(w, len(row_offset)), b, row_offset,
            relu, y)
    return y


def _input_grad_is_a_conv(s, p, kh, kw):
    """With stride 1, a conv's input gradient is itself a conv: of dy, padded by k - 1 - p, with the
    kernel flipped and its two channel axes swapped. That runs on the gather's tiles and reads
    and writes each cell once, where the scatter adds into shifted, overlapping rows."""
    return s == 1 and kh == kw and p <= kh - 1


def _conv_backward_input(dy, w, h, wd, s, p, bias, relu=False):
    """dx of a conv with weights w (F, C, kh, kw) and input size (h, wd), plus bias (C,) per channel
    (then max(., 0) if relu, for a transposed conv's forward)."""
    n = dy.shape[0]
    f, c, kh, kw = w.shape
    if _input_grad_is_a_conv(s, p, kh, kw):
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (F, C, kh, kw) -> (C, F, kh, kw)
        return _conv_forward(dy, flipped, bias, 1, kh - 1 - p, relu=relu)
    plan = _plan_for(h, wd, kh, kw, s, p)
    n_slices = _slices(n)
    grids = _empty_aligned((n_slices, f, plan.q_tiles), dy.dtype)
    phases = np.empty((n_slices, plan.flat_length(_round_up(c, 8))), dtype=dy.dtype)
    dx = np.empty((n, c, h, wd), dtype=dy.dtype)
    scatter = _scatter if f >= _TILE_ROWS else _scatter_thin
    scatter(dy, _weights_by_tap(w), _rows_by_tap(c, plan), (s, p, plan.hph, plan.wph, plan.length), bias, relu, grids,
            phases, dx)
    return dx


def _conv_backward_weights(dy, x, kh, kw, s, p):
    """dw (F, C, kh, kw) = sum over images and outputs of dy times the input window of each tap."""
    n, c, h, wd = x.shape
    f = dy.shape[1]
    plan = _plan_for(h, wd, kh, kw, s, p)
    geometry = (s, p, plan.hph, plan.wph, plan.length)
    n_slices = _slices(n)
    n_rows = c * kh * kw
    if f % _WIDE_COLS == 0:
        row_offset = np.zeros(_round_up(n_rows, _WIDE_ROWS), dtype=np.int64)
        row_offset[:n_rows] = _rows_by_channel(c, plan)[:n_rows]
        parts = np.zeros((n_slices, len(row_offset), f), dtype=x.dtype)
        scratch = _empty_aligned((n_slices, _WIDE_IMAGES, plan.ho * plan.wo, f), dy.dtype)
        xf = np.empty((n_slices, _WIDE_IMAGES, plan.flat_length(c)), dtype=x.dtype)
        _correlate_grads_wide(dy, x, geometry, row_offset, n_slices, parts, scratch, xf)
        # (R6, F) -> (C*T, F) -> (F, C*T) -> (F, C, kh, kw)
        return np.ascontiguousarray(parts.sum(axis=0)[:n_rows].T).reshape(f, c, kh, kw)
    row_offset = _rows_by_channel(c, plan)
    parts = np.zeros((n_slices, f, len(row_offset)), dtype=x.dtype)
    grids = _empty_aligned((n_slices, f, plan.q_tiles), dy.dtype)
    xf = np.empty((n_slices, plan.flat_length(c)), dtype=x.dtype)
    _correlate_grads(dy, x, geometry, row_offset, plan.q, parts, grids, xf)
    # (F, R4) -> (F, C*T) -> (F, C, kh, kw)
    return parts.sum(axis=0)[:, :n_rows].reshape(f, c, kh, kw)


def _bias_grad(dy):
    n, f, ho, wo = dy.shape
    parts = np.zeros((_slices(n), f))
    _channel_sums(dy.reshape(n, f, ho * wo), parts)  # (N, F, Ho, Wo) -> (N, F, Ho*Wo)
    return parts.sum(axis=0).astype(dy.dtype)


def _grad_before_relu(dy, y):
    """(dz, db): dz = dy * [y > 0] if the forward applied the ReLU and y is its output, else dy as it is."""
    if y is None:
        return dy, _bias_grad(dy)
    if not isinstance(y, np.ndarray) or y.shape != dy.shape or y.dtype != dy.dtype:
        raise ShapeError(f"expected the forward output y as {dy.dtype} {dy.shape} like dy, got "
                         f"{getattr(y, 'dtype', type(y).__name__)} {getattr(y, 'shape', '')}")
    n, f, ho, wo = dy.shape
    dz, parts = np.empty_like(dy), np.zeros((_slices(n), f))
    _relu_grad_sums(dy.reshape(n, f, ho * wo), np.ascontiguousarray(y).reshape(n, f, ho * wo),
                    dz.reshape(n, f, ho * wo), parts)  # (N, F, Ho, Wo) -> (N, F, Ho*Wo)
    return dz, parts.sum(axis=0).astype(dy.dtype)


# ----------------------------------------------------------------------------------------------
# Public API (called by tinyae.layers)
# ----------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b, stride, padding, relu=False):
    """y (N, F, Ho, Wo) = conv of x (N, C, H, W) with w (F, C, kh, kw), plus b (F,); max(y, 0) if relu.

    relu applies the ReLU as y is written, which spares a pass over y (see tinyae.layers.conv)."""
    _check_conv_args(x, w, stride, padding)
    _check_array("b", b, 1)
    _check_same_dtype(x=x, w=w, b=b)
    given = x
    x, w, b = np.ascontiguousarray(x), np.ascontiguousarray(w), np.ascontiguousarray(b)
    s, p = int(stride), int(padding)
    ho, wo = _conv_out_size(x.shape[2], w.shape[2], s, p), _conv_out_size(x.shape[3], w.shape[3], s, p)
    with _threads_for(x.shape[0] * w.size * ho * wo):
        return _conv_forward(x, w, b, s, p, relu=bool(relu))


def conv2d_backward(dy, x, w, stride, padding, input_grad=True, y=None):
    """(dx, dw, db) of conv2d_forward for upstream gradient dy (N, F, Ho, Wo); dx is None without input_grad.

    y: the output of a forward with relu=True, whose mask y > 0 is applied to dy first (dy is then
    the gradient after the ReLU)."""
    _check_conv_args(x, w, stride, padding)
    _check_array("dy", dy, 4)
    _check_same_dtype(dy=dy, x=x, w=w)
    s, p = int(stride), int(padding)
    f, _, kh, kw = w.shape
    expected = (x.shape[0], f, _conv_out_size(x.shape[2], kh, s, p), _conv_out_size(x.shape[3], kw, s, p))
    if dy.shape != expected:
        raise ShapeError(f"conv2d_backward: expected dy of shape {expected}, got {dy.shape}")
    dy, x, w = np.ascontiguousarray(dy), np.ascontiguousarray(x), np.ascontiguousarray(w)
    with _threads_for(dy.shape[0] * w.size * dy.shape[2] * dy.shape[3]):
        dy, db = _grad_before_relu(dy, y)
        dx = None
        if input_grad:
            dx = _conv_backward_input(dy, w, x.shape[2], x.shape[3], s, p, np.zeros(x.shape[1], dtype=x.dtype))
        dw = _conv_backward_weights(dy, x, kh, kw, s, p)
    return dx, dw, db


def conv_transpose2d_forward(x, w, b, stride, padding, output_padding, relu=False):
    """y (N, C_out, Ho, Wo) = transposed conv of x (N, C_in, H, W) with w (C_in, C_out, kh, kw), plus b;
    max(y, 0) if relu.

    Ho = (H - 1)*s - 2p + kh + output_padding. It is exactly the input gradient of a conv with the
    same w read as (F=C_in, C=C_out, kh, kw) whose input is (Ho, Wo), so that kernel is reused.
    """
    _check_conv_args(x, w, stride, padding, w_channels_axis=0)
    _check_array("b", b, 1)
    _check_same_dtype(x=x, w=w, b=b)
    s, p, op = int(stride), int(padding), int(output_padding)
    _, _, kh, kw = w.shape
    ho, wo = _transpose_out_size(x.shape[2], kh, s, p, op), _transpose_out_size(x.shape[3], kw, s, p, op)
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    with _threads_for(x.shape[0] * w.size * x.shape[2] * x.shape[3]):
        return _conv_backward_input(x, w, ho, wo, s, p, np.ascontiguousarray(b), relu=bool(relu))


def conv_transpose2d_backward(dy, x, w, stride, padding, output_padding, input_grad=True, y=None):
    """(dx, dw, db) of conv_transpose2d_forward: the conv's forward and weight gradient, roles swapped.

    dx is None without input_grad. y: the output of a forward with relu=True, as in conv2d_backward."""
    _check_conv_args(x, w, stride, padding, w_channels_axis=0)
    _check_array("dy", dy, 4)
    _check_same_dtype(dy=dy, x=x, w=w)
    s, p, op = int(stride), int(padding), int(output_padding)
    c_in, c_out, kh, kw = w.shape
    expected = (x.shape[0], c_out, _transpose_out_size(x.shape[2], kh, s, p, op),
                _transpose_out_size(x.shape[3], kw, s, p, op))
    if dy.shape != expected:
        raise ShapeError(f"conv_transpose2d_backward: expected dy of shape {expected}, got {dy.shape}")
    dy, x, w = np.ascontiguousarray(dy), np.ascontiguousarray(x), np.ascontiguousarray(w)
    with _threads_for(x.shape[0] * w.size * x.shape[2] * x.shape[3]):
        dy, db = _grad_before_relu(dy, y)
        dx = _conv_forward(dy, w, np.zeros(c_in, dtype=dy.dtype), s, p) if input_grad else None
        dw = _conv_backward_weights(x, dy, kh, kw, s, p)  # (C_in, C_out, kh, kw), the layout of w
    return dx, dw, db
