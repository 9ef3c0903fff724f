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
the tile loops are unrolled (``_stack_array``); 48 and 64 columns keep that promotion reliable
(32 did not: LLVM unrolled it too early and fell back to gathers).
Each layout copy (the padded phases, dy on the grid or channels last) is made for one image (or
four) just before the sums read it, and the scatter's result is unpacked to NCHW while it is
still in the cache: as passes over the whole batch, those copies went out to memory and the sums
read them back from there (the stride-2 forward: 4.3 -> 3.3 ms of sums in the training step).
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
    a spill in every step); 4 x 112 and 2 x 224 (no rounding of 224 cells up to 240) 8.3 and
    13.1 ms; 8 x 32 161 ms (gathers, as above).
PyTorch (oneDNN's hand-written AVX-512 kernels) runs that layer at ~385 GFLOP/s (4.8 ms). Per layer
of the tutorial's models, forward / input gradient / weight gradient in ms, tinyae vs PyTorch
(best of 5, building the padded copies included, each layer alone, not in a training step):
64 -> 64 at 14x14: 6.1 / 6.1 / 5.7 vs 4.7 / 5.2 / 4.8; 32 -> 64 stride 2: 4.0 / 5.4 / 3.5 vs
2.8 / 4.9 / 3.3; the thin last layer 64 -> 1 at 28x28: 2.0 / 1.7 / 2.1 vs 5.4 / 6.1 / 5.8.
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

import functools

import numba
import numpy as np
from numba import njit, prange
from numba.np.numpy_support import carray

from tinyae.errors import ShapeError
from tinyae.kernels._numba import (_FMA, _FMA_SUMS, _check_array, _check_same_dtype, _stack_array,
                                   _threads_for)


def _check_conv_args(x, w, stride, padding, x_channels_axis=1, w_channels_axis=1):
    _check_array("x", x, 4)
    _check_array("w", w, 4)
    if x.shape[x_channels_axis] != w.shape[w_channels_axis]:
        raise ShapeError(f"x has {x.shape[x_channels_axis]} channels but w {w.shape} expects "
                         f"{w.shape[w_channels_axis]}")
    if int(stride) < 1 or int(padding) < 0:
        raise ShapeError(f"expected stride >= 1 and padding >= 0, got stride={stride}, padding={padding}")


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


# ----------------------------------------------------------------------------------------------
# Naive twins: plain NumPy, one kernel tap (u, v) at a time, written to be read
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Fast kernels: layout helpers
# ----------------------------------------------------------------------------------------------

class _Plan:
    """Geometry of the flat phase layout for one conv: input (H, W) -> output (Ho, Wo).

    Each channel of the padded input (H + 2p, W + 2p) is split into s*s phases of size (Hph, Wph),
    stored one after another, flat; ``length`` adds a few zero cells so the junk columns of the
    last output row never read past the end. ``tap_offset[t]`` is where tap t = u*kw + v starts.
    ``q_tiles`` is the grid length rounded up to whole register tiles, and ``flat_length(c)`` the
    cells an image needs so that the last channel's tiles never read or write past its end.
    """

    def __init__(self, h, w, kh, kw, s, p):
        self.h, self.w, self.s, self.p = h, w, s, p
        self.ho, self.wo = _conv_out_size(h, kh, s, p), _conv_out_size(w, kw, s, p)
        self.hph, self.wph = -(-(h + 2 * p) // s), -(-(w + 2 * p) // s)  # ceil division
        phase = self.hph * self.wph
        self.length = s * s * phase + kw
        self.q = self.ho * self.wph  # output grid: Ho rows of Wph cells, the last Wph - Wo are junk
        self.q_tiles = -(-self.q // _TILE_COLS) * _TILE_COLS
        u, v = np.divmod(np.arange(kh * kw), kw)
        self.tap_offset = ((u % s) * s + v % s) * phase + (u // s) * self.wph + v // s

    def flat_length(self, c):
        return c * self.length + self.q_tiles - self.q


@functools.lru_cache(maxsize=256)
def _plan_for(h, w, kh, kw, s, p):
    """The _Plan of a geometry, made once: a training step asks for the same few dozen times."""
    return _Plan(h, w, kh, kw, s, p)


def _round_up(n, k):
    return -(-n // k) * k


@njit(cache=True)
def _phase_columns(w, s, p, b, wph):
    """The range of v with 0 <= v*s + b - p < w: the columns of image row that land in column phase b."""
    v_lo = (p - b + s - 1) // s if p > b else 0
    v_hi = min(wph, (w - 1 + p - b) // s + 1) if w - 1 + p - b >= 0 else 0
    return v_lo, max(v_lo, v_hi)


@njit(cache=True)
def _image_to_phases(xn, c_in, h, w, s, p, hph, wph, length, o):
    """o[c*L + phase(a, b) + u*wph + v] = xpad[c, u*s + a, v*s + b], and 0 in every other cell, for
    one image: xn its (C*H*W,) values, o its flat phases.

    Phase row (a, u) holds image row hh = u*s + a - p, or padding; its columns v*s + b - p that
    fall inside the image are one run, read with stride s. Writing the zeros here saves clearing
    the whole buffer first, a pass as long as the copy. Flat views and unsigned offsets, with the
    stride a constant for s = 1 and 2, let LLVM vectorize the run: 0.90 -> 0.62 ms for the
    tutorial's 64 channels at 14x14, batch 128. Stride 2 has a loop of its own (_image_to_phases_s2).
    """
    if s == 2:
        _image_to_phases_s2(xn, c_in, h, w, p, hph, wph, length, o)
        return
    plane = hph * wph
    zero = np.uint64(0)
    for c in range(c_in):
        for a in range(s):
            for b in range(s):
                v_lo, v_hi = _phase_columns(w, s, p, b, wph)
                lo, hi, end = np.uint64(v_lo), np.uint64(v_hi), np.uint64(wph)
                for u in range(hph):
                    hh = u * s + a - p
                    start = np.uint64(c * length + (a * s + b) * plane + u * wph)  # >= 0: no wraparound check
                    if hh < 0 or hh >= h:
                        for v in range(zero, end):
                            o[start + v] = 0
                        continue
                    for v in range(zero, lo):
                        o[start + v] = 0
                    src, dst = np.uint64((c * h + hh) * w + v_lo * s + b - p), start + lo
                    if s == 1:
                        for v in range(zero, hi - lo):
                            o[dst + v] = xn[src + v]
                    else:
                        for v in range(zero, hi - lo):
                            o[dst + v] = xn[src + np.uint64(s) * v]
                    for v in range(hi, end):
                        o[start + v] = 0
        o[c * length + s * s * plane:(c + 1) * length] = 0
    o[c_in * length:] = 0


@njit(cache=True)
def _image_to_phases_s2(xn, c_in, h, w, p, hph, wph, length, o):
    """_image_to_phases for stride 2. Image column col lands in column phase (col + p) % 2 at
    v = (col + p) // 2, so each image row is read once, its even and odd columns written to their
    two phase rows in one loop, which LLVM turns into vector shuffles (the inverse of
    _image_from_phases). Reading each phase's columns with stride 2 instead took 1.1 ms for the
    conv VAE's 32 channels at 28x28, batch 128, against 0.70 ms. The shuffles cost LLVM time: the
    first call of every kernel with an empty Numba cache went from 11.5 to 17.5 s (the slices
    xn[src::2] compiled in 14.9 s, but ran in 1.44 ms). A warm cache loads them in 0.4 s.
    """
    plane = hph * wph
    zero, two = np.uint64(0), np.uint64(2)
    b_even, b_odd = p % 2, (p + 1) % 2  # the column phases of even and odd image columns
    v_even, v_odd = p // 2, (p + 1) // 2  # where image columns 0 and 1 land in them
    half = np.uint64(w // 2)
    for c in range(c_in):
        for a in range(2):
            for u in range(hph):
                hh = 2 * u + a - p
                row = np.uint64(c * length + 2 * a * plane + u * wph)  # phase (a, 0), row u
                even, odd = row + np.uint64(b_even * plane), row + np.uint64(b_odd * plane)
                for v in range(zero, np.uint64(wph)):  # padding; the image's cells are written over
                    o[even + v] = 0
                    o[odd + v] = 0
                if hh < 0 or hh >= h:
                    continue
                src, de, do = np.uint64((c * h + hh) * w), even + np.uint64(v_even), odd + np.uint64(v_odd)
                for k in range(zero, half):
                    o[de + k] = xn[src + two * k]
                    o[do + k] = xn[src + two * k + np.uint64(1)]
                if w % 2 == 1:
                    o[de + half] = xn[src + np.uint64(w - 1)]
        o[c * length + 4 * plane:(c + 1) * length] = 0
    o[c_in * length:] = 0


@njit(parallel=True, cache=True)
def _to_phases(x, s, p, hph, wph, length, out):
    """out[n] = the flat phases of image n (_image_to_phases), in parallel over the images."""
    n_img, c_in, h, w = x.shape
    xs = x.reshape(n_img, c_in * h * w)  # (N, C, H, W) -> (N, C*H*W)
    for n in prange(n_img):
        _image_to_phases(xs[n], c_in, h, w, s, p, hph, wph, length, out[n])


@njit(cache=True)
def _image_from_phases(fl, on, c_out, h, w, s, p, hph, wph, length, bias, relu):
    """The inverse of _image_to_phases, plus a per-channel bias, for one image: on[c*H*W + hh*W + col]
    = its cell of the flat phases fl + bias[c], and with relu, max(that, 0), as the floor lo = 0
    instead of -inf (v < lo keeps a NaN, as relu_forward does).

    Image column col of row hh comes from column phase b = (col + p) % s at v = (col + p) // s. With
    s = 2 the even and odd columns are written in one loop from the two column phases, which LLVM
    turns into vector shuffles: 1.6 -> 0.8 ms for 32 channels at 28x28, batch 128.
    """
    plane = hph * wph
    zero = np.uint64(0)
    lo = on.dtype.type(0 if relu else -np.inf)
    for c in range(c_out):
        bc = bias[c]
        for hh in range(h):
            a, u = (hh + p) % s, (hh + p) // s
            row = np.uint64(c * length + a * s * plane + u * wph)  # phase (a, 0), row u
            dst = np.uint64((c * h + hh) * w)
            if s == 1:
                src = row + np.uint64(p)
                for k in range(zero, np.uint64(w)):
                    v = fl[src + k] + bc
                    on[dst + k] = lo if v < lo else v
            elif s == 2:  # column 2k + e from phase (e + p) % 2 at v = k + (e + p) // 2
                src0 = row + np.uint64((p % 2) * plane + p // 2)
                src1 = row + np.uint64(((1 + p) % 2) * plane + (1 + p) // 2)
                for k in range(zero, np.uint64(w // 2)):
                    v0, v1 = fl[src0 + k] + bc, fl[src1 + k] + bc
                    on[dst + np.uint64(2) * k] = lo if v0 < lo else v0
                    on[dst + np.uint64(2) * k + np.uint64(1)] = lo if v1 < lo else v1
                if w % 2 == 1:
                    v = fl[src0 + np.uint64(w // 2)] + bc
                    on[dst + np.uint64(w - 1)] = lo if v < lo else v
            else:
                for col in range(w):
                    v = fl[row + np.uint64((col + p) % s * plane + (col + p) // s)] + bc
                    on[dst + np.uint64(col)] = lo if v < lo else v


@njit(cache=True)
def _image_to_grid(dn, wph, g):
    """g[f, i*wph + j] = dn[f, i, j] for one image, and 0 in the junk columns j >= Wo and past the
    last row. Flat views and unsigned offsets, as in _image_to_phases."""
    f_out, ho, wo = dn.shape
    q_len = g.shape[1]
    ds = dn.reshape(f_out * ho * wo)  # (F, Ho, Wo) -> flat
    zero, width, end = np.uint64(0), np.uint64(wo), np.uint64(wph)
    for f in range(f_out):
        gf = g[f]
        for i in range(ho):
            dst, src = np.uint64(i * wph), np.uint64((f * ho + i) * wo)
            for j in range(zero, width):
                gf[dst + j] = ds[src + j]
            for j in range(width, end):
                gf[dst + j] = 0
        for k in range(ho * wph, q_len):
            gf[k] = 0


@njit(cache=True)
def _image_channels_last(dn, out):
    """out[i*Wo + j, f] = dn[f, i, j]: one image's channels last, for the wide weight gradient."""
    f_out, ho, wo = dn.shape
    for i in range(ho):
        for j in range(wo):
            for f in range(f_out):
                out[i * wo + j, f] = dn[f, i, j]


def _rows_by_channel(c, plan):
    """Row offsets for the gather and the weight gradient: row r = c*T + t (the order of w's memory)
    reads xflat[c*L + tap_offset[t] + q]. Padded with offset-0 rows to a multiple of 4 (weight 0)."""
    n_rows = c * len(plan.tap_offset)
    row_offset = np.zeros(_round_up(n_rows, 4), dtype=np.int64)
    # (C, 1) + (1, T) -> (C, T) -> (C*T,)
    row_offset[:n_rows] = (np.arange(c)[:, None] * plan.length + plan.tap_offset[None, :]).reshape(-1)
    return row_offset


def _weights_by_channel(w, n_rows4):
    """w (F, C, kh, kw) -> wb (F8 / 8, R4, 8) matching _rows_by_channel, zero in the padding.

    wb[t, r] holds the weights of output rows 8t .. 8t + 7 for input row r: one tile's weights lie
    together (18 KB for 64 channels, 3x3), so they stay in the L1 cache while the tile's columns
    move along; in an (R, F) layout they were 8 of every F numbers. Measured: 10% faster."""
    f = w.shape[0]
    wt = np.zeros((n_rows4, _round_up(f, _TILE_ROWS)), dtype=w.dtype)
    wt[:w[0].size, :f] = w.reshape(f, -1).T  # (F, C, kh, kw) -> (F, C*T) -> (C*T, F)
    # (R4, F8) -> (R4, F8/8, 8) -> (F8/8, R4, 8)
    return np.ascontiguousarray(wt.reshape(n_rows4, -1, _TILE_ROWS).transpose(1, 0, 2))


def _rows_by_tap(c, plan):
    """Row offsets for the scatter: row r = t*C8 + c, so each tile of 8 rows is 8 different channels.

    Rows written in one tile must not overlap, and shifted copies of one channel would. C8 rounds
    C up to a multiple of 8; the extra channel planes receive only zeros.
    """
    # (T, 1) + (1, C8) -> (T, C8) -> (T*C8,)
    return (plan.tap_offset[:, None] + np.arange(_round_up(c, 8))[None, :] * plan.length).reshape(-1)


def _weights_by_tap(w):
    """w (F, C, kh, kw) -> wb (T*C8/8, F, 8) matching _rows_by_tap, zero in the padding: each tile's
    weights together, as in _weights_by_channel."""
    f, c, kh, kw = w.shape
    wr = np.zeros((f, kh * kw, _round_up(c, 8)), dtype=w.dtype)
    wr[:, :, :c] = w.reshape(f, c, kh * kw).transpose(0, 2, 1)  # (F, C, kh, kw) -> (F, T, C)
    # (F, T, C8) -> (F, T*C8/8, 8) -> (T*C8/8, F, 8)
    return np.ascontiguousarray(wr.reshape(f, -1, _TILE_ROWS).transpose(1, 0, 2))


# ----------------------------------------------------------------------------------------------
# Fast kernels: the three correlations
#
# The forward and the input gradient work on register tiles of 8 rows x 48 columns (24 AVX-512
# vectors of float32): the tile's accumulators stay in registers for the whole sum over the other
# index, and each step loads 3 vectors and 8 scalars for 24 multiply-adds, so the loop is bound by
# arithmetic, not memory. Outputs are computed in whole tiles: Q (the grid length rounded up to 48)
# columns per row, the extra ones junk like the grid's own junk columns. The weight gradient sums
# over q instead: on a 6 x 64 tile across output channels when F is a multiple of 64
# (_correlate_grads_wide), else on 4 x 4 tiles of scalar sums that LLVM keeps as vectors.
# ----------------------------------------------------------------------------------------------

_TILE_ROWS = 8
_TILE_COLS = 48
_TILE = _TILE_ROWS * _TILE_COLS


@njit(cache=True)
def _grid_to_rows(grid, wph, yf, start, ho, wo, relu):
    """yf[start + i*wo + j] = grid[i*wph + j] for j < wo, or max(that, 0) with relu: one output plane
    out of its grid, junk columns dropped. Flat, with unsigned offsets: a slice assignment per
    14-number row cost ~20 ns to set up, more than the copy."""
    width = np.uint64(wo)
    for i in range(ho):
        src, dst = np.uint64(i * wph), np.uint64(start + i * wo)
        if relu:
            for j in range(np.uint64(0), width):
                v = grid[src + j]
                yf[dst + j] = 0 if v < 0 else v  # a NaN stays NaN, as in relu_forward
        else:
            for j in range(np.uint64(0), width):
                yf[dst + j] = grid[src + j]


@njit(parallel=True, cache=True, fastmath=_FMA)
def _gather(x, geometry, xf, wb, bias, row_offset, relu, y):
    """y[n, f, i, j] = bias[f] + sum_r wb[f // 8, r, f % 8] * xf[n, row_offset[r] + i*wph + j]

    and then y = max(y, 0) if relu: the ReLU that follows a layer, applied as y is written.
    The forward correlation. x (N, C, H, W); geometry = (s, p, hph, wph, length), x's _Plan; xf
    (N, M) a buffer for the flat phases of each image, wb (F8/8, R4, 8), bias (F,), y (N, F, Ho, Wo).
    Each image's phases xf[n] are written from x[n] (_image_to_phases) just before its sums read
    them, while they are in the L2 cache. Built in a pass of their own over the batch (15 MB for
    the conv VAE's stride-2 layer), they were back in memory by then, and the sums, which read
    them once per 8 output channels, took 4.3 ms in the training step against 3.3 ms with x warm.
    The sums run over the grid q = i*wph + j in whole tiles, Q = Ho*wph rounded up to _TILE_COLS,
    so xf must be long enough to read Q cells past every row offset; y C-contiguous. Each image
    fills a small grid of 8 rows, in cache, and copies its valid cells (j < Wo) out to y. Parallel
    over images.
    """
    n_img, n_out, ho, wo = y.shape
    s, p, hph, wph, length = geometry
    c_in, h, w = x.shape[1], x.shape[2], x.shape[3]
    xs = x.reshape(n_img, c_in * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_q = -(-ho * wph // _TILE_COLS) * _TILE_COLS
    n_rows = wb.shape[1]
    n_tiled = n_out - n_out % _TILE_ROWS
    yf = y.reshape(-1)  # (N, F, Ho, Wo) -> flat, for _grid_to_rows
    for n in prange(n_img):
        xn = xf[n]
        _image_to_phases(xs[n], c_in, h, w, s, p, hph, wph, length, xn)
        acc = carray(_stack_array(_TILE, xf.dtype), (_TILE_ROWS, _TILE_COLS))
        grid = np.empty((_TILE_ROWS, n_q), dtype=xf.dtype)
        for f0 in range(0, n_tiled, _TILE_ROWS):
            weights = wb[f0 // _TILE_ROWS]
            for q0 in range(0, n_q, _TILE_COLS):
                for a in range(_TILE_ROWS):
                    for k in range(_TILE_COLS):
                        acc[a, k] = 0
                for r in range(n_rows):
                    o, ws = np.uint64(row_offset[r] + q0), weights[r]  # unsigned: see _correlate_grads_wide
                    for a in range(_TILE_ROWS):
                        for k in range(_TILE_COLS):
                            acc[a, k] += ws[a] * xn[o + np.uint64(k)]
                for a in range(_TILE_ROWS):
                    gs, ba = grid[a, q0:], bias[f0 + a]
                    for k in range(_TILE_COLS):
                        gs[k] = acc[a, k] + ba
            for a in range(_TILE_ROWS):
                _grid_to_rows(grid[a], wph, yf, ((n * n_out + f0 + a) * ho) * wo, ho, wo, relu)
        g0 = grid[0]
        for f in range(n_tiled, n_out):  # the last F % 8 rows, one at a time, 4 input rows per pass
            g0[:] = bias[f]
            for r in range(0, n_rows, 4):
                o0, o1, o2, o3 = row_offset[r], row_offset[r + 1], row_offset[r + 2], row_offset[r + 3]
                x0, x1, x2, x3 = xn[o0:o0 + n_q], xn[o1:o1 + n_q], xn[o2:o2 + n_q], xn[o3:o3 + n_q]
                ws = wb[f // _TILE_ROWS, r:r + 4, f % _TILE_ROWS]
                w0, w1, w2, w3 = ws[0], ws[1], ws[2], ws[3]
                for q in range(n_q):
                    g0[q] = g0[q] + w0 * x0[q] + w1 * x1[q] + w2 * x2[q] + w3 * x3[q]
            _grid_to_rows(g0, wph, yf, ((n * n_out + f) * ho) * wo, ho, wo, relu)


@njit(parallel=True, cache=True, fastmath=_FMA)
def _scatter(dy, wb, row_offset, geometry, bias, relu, grids, phases, out):
    """out[n] = bias + the correlation back to the input, then max(., 0) if relu, where in x's flat phases
        dxf[row_offset[r] + q] += sum_f wb[r // 8, f, r % 8] * dyg[f, q],   dyg = dy[n] on the grid

    dy (N, F, Ho, Wo), wb (R8/8, F, 8) from _weights_by_tap, out (N, C, H, W); geometry = (s, p, hph,
    wph, length): out's _Plan; grids (slices, F, Q) and phases (slices, M) buffers for each batch
    slice (one per thread), M cells enough to take Q cells past every row offset. A tile's 8 rows
    are 8 different channels, so they never overlap. Each slice takes its images one at a time:
    dy[n] laid on the grid (_image_to_grid), the phases cleared and summed into, and unpacked to
    out[n] (_image_from_phases), all while they are in the cache. As passes over the
    whole batch, the grid (7.8 MB for the conv VAE's transposed conv), the clearing (15 MB) and the
    unpacking (0.84 ms alone, 1.6 ms in the training step) each went through memory.
    """
    n_img, n_out = dy.shape[0], dy.shape[1]
    s, p, hph, wph, length = geometry
    c_out, h, w = out.shape[1], out.shape[2], out.shape[3]
    outs = out.reshape(n_img, c_out * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_rows, n_q = wb.shape[0] * _TILE_ROWS, grids.shape[2]
    n_slices = grids.shape[0]
    for t in prange(n_slices):
        dyg, dx = grids[t], phases[t]
        acc = carray(_stack_array(_TILE, dy.dtype), (_TILE_ROWS, _TILE_COLS))
        for n in range(t * n_img // n_slices, (t + 1) * n_img // n_slices):
            _image_to_grid(dy[n], wph, dyg)
            dx[:] = 0
            for r0 in range(0, n_rows, _TILE_ROWS):
                weights = wb[r0 // _TILE_ROWS]
                for q0 in range(0, n_q, _TILE_COLS):
                    for a in range(_TILE_ROWS):
                        for k in range(_TILE_COLS):
                            acc[a, k] = 0
                    for f in range(n_out):
                        gs, ws = dyg[f, q0:], weights[f]
                        for a in range(_TILE_ROWS):
                            for k in range(_TILE_COLS):
                                acc[a, k] += ws[a] * gs[k]
                    for a in range(_TILE_ROWS):
                        ds = dx[row_offset[r0 + a] + q0:]
                        for k in range(_TILE_COLS):
                            ds[k] += acc[a, k]
            _image_from_phases(dx, outs[n], c_out, h, w, s, p, hph, wph, length, bias, relu)


@njit(parallel=True, cache=True, fastmath=_FMA)
def _scatter_thin(dy, wb, row_offset, geometry, bias, relu, grids, phases, out):
    """_scatter for F < 8 upstream channels, too few to fill a tile's sum: one pass over 4 rows per f."""
    n_img, n_out = dy.shape[0], dy.shape[1]
    s, p, hph, wph, length = geometry
    c_out, h, w = out.shape[1], out.shape[2], out.shape[3]
    outs = out.reshape(n_img, c_out * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_rows, n_q = wb.shape[0] * _TILE_ROWS, grids.shape[2]
    n_slices = grids.shape[0]
    for t in prange(n_slices):
        dyg, dx = grids[t], phases[t]
        for n in range(t * n_img // n_slices, (t + 1) * n_img // n_slices):
            _image_to_grid(dy[n], wph, dyg)
            dx[:] = 0
            for r in range(0, n_rows, 4):
                o0, o1, o2, o3 = row_offset[r], row_offset[r + 1], row_offset[r + 2], row_offset[r + 3]
                d0, d1, d2, d3 = dx[o0:o0 + n_q], dx[o1:o1 + n_q], dx[o2:o2 + n_q], dx[o3:o3 + n_q]
                for f in range(n_out):
                    g = dyg[f]
                    ws = wb[r // _TILE_ROWS, f, r % _TILE_ROWS:]
                    w0, w1, w2, w3 = ws[0], ws[1], ws[2], ws[3]
                    for q in range(n_q):
                        d0[q] += w0 * g[q]
                        d1[q] += w1 * g[q]
                        d2[q] += w2 * g[q]
                        d3[q] += w3 * g[q]
            _image_from_phases(dx, outs[n], c_out, h, w, s, p, hph, wph, length, bias, relu)


@njit(parallel=True, cache=True, fastmath=_FMA_SUMS)
def _correlate_grads(dy, xf, row_offset, wph, q_len, parts, grids):
    """parts[k, f, r] = sum over the images n of batch slice k, and q, of dyg[f, q] * xf[n, row_offset[r] + q],
    dyg = dy[n] on the grid (_image_to_grid), laid out in grids[k] (slices, F, Q) just before the
    sums read it (as a pass of its own over the batch it went out to memory and back: 0.9 ms for
    the conv VAE's first layer).

    The caller adds the slices: dw = parts.sum(0). Each thread owns one slice of the batch and its
    own partial sums, so no two threads add into the same cell.
    """
    n_img, n_out, n_rows = xf.shape[0], dy.shape[1], row_offset.shape[0]
    n_slices = parts.shape[0]
    zero = np.zeros(1, dtype=xf.dtype)[0]  # a 0 of the arrays' dtype keeps float32 sums in float32
    for k in prange(n_slices):
        part, dyg = parts[k], grids[k]
        for n in range(k * n_img // n_slices, (k + 1) * n_img // n_slices):
            _image_to_grid(dy[n], wph, dyg)
            x = xf[n]
            for r in range(0, n_rows, 4):
                o0, o1, o2, o3 = row_offset[r], row_offset[r + 1], row_offset[r + 2], row_offset[r + 3]
                x0, x1, x2, x3 = x[o0:o0 + q_len], x[o1:o1 + q_len], x[o2:o2 + q_len], x[o3:o3 + q_len]
                for f in range(0, n_out - n_out % 4, 4):
                    g0, g1, g2, g3 = dyg[f], dyg[f + 1], dyg[f + 2], dyg[f + 3]
                    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
                    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
                    for q in range(q_len):
                        e0, e1, e2, e3 = g0[q], g1[q], g2[q], g3[q]
                        v0, v1, v2, v3 = x0[q], x1[q], x2[q], x3[q]
                        s00 += e0 * v0; s01 += e0 * v1; s02 += e0 * v2; s03 += e0 * v3
                        s10 += e1 * v0; s11 += e1 * v1; s12 += e1 * v2; s13 += e1 * v3
                        s20 += e2 * v0; s21 += e2 * v1; s22 += e2 * v2; s23 += e2 * v3
                        s30 += e3 * v0; s31 += e3 * v1; s32 += e3 * v2; s33 += e3 * v3
                    p = part[f:f + 4, r:r + 4]
                    p[0, 0] += s00; p[0, 1] += s01; p[0, 2] += s02; p[0, 3] += s03
                    p[1, 0] += s10; p[1, 1] += s11; p[1, 2] += s12; p[1, 3] += s13
                    p[2, 0] += s20; p[2, 1] += s21; p[2, 2] += s22; p[2, 3] += s23
                    p[3, 0] += s30; p[3, 1] += s31; p[3, 2] += s32; p[3, 3] += s33
                for f in range(n_out - n_out % 4, n_out):
                    g0 = dyg[f]
                    s00 = s01 = s02 = s03 = zero
                    for q in range(q_len):
                        e0 = g0[q]
                        s00 += e0 * x0[q]; s01 += e0 * x1[q]; s02 += e0 * x2[q]; s03 += e0 * x3[q]
                    p = part[f, r:r + 4]
                    p[0] += s00; p[1] += s01; p[2] += s02; p[3] += s03


_WIDE_ROWS, _WIDE_COLS, _WIDE_IMAGES = 6, 64, 4
_WIDE_TILE = _WIDE_ROWS * _WIDE_COLS


@njit(parallel=True, cache=True, fastmath=_FMA)
def _correlate_grads_wide(dy, xf, row_offset, wph, n_slices, parts, scratch):
    """parts[k, r, f] = sum over the images n of batch slice k, and i, j, of
    xf[n, row_offset[r] + i*wph + j] * dy[n, f, i, j]

    The same sums as _correlate_grads, for F a multiple of 64, with the vectors along f: each
    group of 4 images has its dy turned channels last (_image_channels_last) into scratch[k]
    (n_slices, 4, Ho*Wo, F), which stays in the L2 cache, and a tile of 6 rows x 64 f (24 AVX-512
    registers) stays in registers while (i, j) run over the 4 images, so no vector is ever summed
    across its lanes. As a pass of its own over the batch, the channels-last copy cost 1.1 ms a call
    in the conv VAE's step; the scratch comes from the caller because a buffer allocated inside the
    parallel loop kept the tile out of the registers (4x slower).
    Only the Wo real columns of each grid row are visited, not the junk ones: 12.5% fewer steps at
    14x14 (64 -> 64 in the conv VAE's step: 5.2 -> 5.0 ms a call). row_offset's length is a
    multiple of 6. Each thread owns one slice of the batch and its own partial sums, so no two
    threads add into the same cell.
    """
    n_img, n_out, ho, wo = dy.shape
    n_rows = row_offset.shape[0]
    for k in prange(n_slices):
        part = parts[k]
        acc = carray(_stack_array(_WIDE_TILE, xf.dtype), (_WIDE_ROWS, _WIDE_COLS))
        dyt = scratch[k]
        lo, hi = k * n_img // n_slices, (k + 1) * n_img // n_slices
        for n0 in range(lo, hi, _WIDE_IMAGES):
            for n in range(n0, min(n0 + _WIDE_IMAGES, hi)):
                _image_channels_last(dy[n], dyt[n - n0])
            for r0 in range(0, n_rows, _WIDE_ROWS):
                offset = row_offset[r0:r0 + _WIDE_ROWS]
                for f0 in range(0, n_out, _WIDE_COLS):
                    for a in range(_WIDE_ROWS):
                        for b in range(_WIDE_COLS):
                            acc[a, b] = 0
                    for n in range(n0, min(n0 + _WIDE_IMAGES, hi)):
                        x, dyn = xf[n], dyt[n - n0]
                        for i in range(ho):
                            q, row = np.uint64(i * wph), dyn[i * wo:]  # grid row i of x, image row i of dy
                            for j in range(wo):
                                g = row[j, f0:]
                                for a in range(_WIDE_ROWS):
                                    # An unsigned index skips Numba's check for negative (from-the-end)
                                    # indices, 6 compares and branches per step: 8.1 -> 5.4 ms on 64 -> 64.
                                    xv = x[np.uint64(offset[a]) + q + np.uint64(j)]
                                    for b in range(_WIDE_COLS):
                                        acc[a, b] += xv * g[b]
                    for a in range(_WIDE_ROWS):
                        ps = part[r0 + a, f0:]
                        for b in range(_WIDE_COLS):
                            ps[b] += acc[a, b]


# ----------------------------------------------------------------------------------------------
# Fast kernels: the three conv maps, in terms of the correlations above
# ----------------------------------------------------------------------------------------------

def _phases_of(x, plan):
    """x (N, C, H, W) -> flat phases (N, plan.flat_length(C)), zero in the padding."""
    xf = np.empty((x.shape[0], plan.flat_length(x.shape[1])), dtype=x.dtype)
    _to_phases(x, plan.s, plan.p, plan.hph, plan.wph, plan.length, xf)
    return xf


def _conv_forward(x, w, b, s, p, xf=None, relu=False):
    """The conv of x (then max(., 0) if relu). xf: a buffer of plan.flat_length(C) cells per image
    that receives x's flat phases, for a caller that keeps them; a new one if None."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    plan = _plan_for(h, wd, kh, kw, s, p)
    row_offset = _rows_by_channel(c, plan)
    xf = np.empty((n, plan.flat_length(c)), dtype=x.dtype) if xf is None else xf
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
    n_slices = min(n, numba.get_num_threads())
    grids = np.empty((n_slices, f, plan.q_tiles), dtype=dy.dtype)
    phases = np.empty((n_slices, plan.flat_length(_round_up(c, 8))), dtype=dy.dtype)
    dx = np.empty((n, c, h, wd), dtype=dy.dtype)
    scatter = _scatter if f >= _TILE_ROWS else _scatter_thin
    scatter(dy, _weights_by_tap(w), _rows_by_tap(c, plan), (s, p, plan.hph, plan.wph, plan.length), bias, relu, grids,
            phases, dx)
    return dx


def _conv_backward_weights(dy, x, kh, kw, s, p, xf=None):
    """dw (F, C, kh, kw) = sum over images and outputs of dy times the input window of each tap.

    xf: x's flat phases when the caller already has them."""
    n, c, h, wd = x.shape
    f = dy.shape[1]
    plan = _plan_for(h, wd, kh, kw, s, p)
    xf = _phases_of(x, plan) if xf is None else xf
    n_slices = min(n, numba.get_num_threads())
    n_rows = c * kh * kw
    if f % _WIDE_COLS == 0:
        row_offset = np.zeros(_round_up(n_rows, _WIDE_ROWS), dtype=np.int64)
        row_offset[:n_rows] = _rows_by_channel(c, plan)[:n_rows]
        parts = np.zeros((n_slices, len(row_offset), f), dtype=x.dtype)
        scratch = np.empty((n_slices, _WIDE_IMAGES, plan.ho * plan.wo, f), dtype=dy.dtype)
        _correlate_grads_wide(dy, xf, row_offset, plan.wph, n_slices, parts, scratch)
        # (R6, F) -> (C*T, F) -> (F, C*T) -> (F, C, kh, kw)
        return np.ascontiguousarray(parts.sum(axis=0)[:n_rows].T).reshape(f, c, kh, kw)
    row_offset = _rows_by_channel(c, plan)
    parts = np.zeros((n_slices, f, len(row_offset)), dtype=x.dtype)
    grids = np.empty((n_slices, f, plan.q_tiles), dtype=dy.dtype)
    _correlate_grads(dy, xf, row_offset, plan.wph, plan.q, parts, grids)
    # (F, R4) -> (F, C*T) -> (F, C, kh, kw)
    return parts.sum(axis=0)[:, :n_rows].reshape(f, c, kh, kw)


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _channel_sums(dy, parts):
    """parts[k, f] = the sum of dy[n, f, :] over the images n of batch slice k, in float64 (in vector
    lanes): the bias gradient, once the caller adds the slices. Slices as in _relu_grad_sums."""
    n_img, f_out, plane = dy.shape
    n_slices = parts.shape[0]
    for k in prange(n_slices):
        part = parts[k]
        for n in range(k * n_img // n_slices, (k + 1) * n_img // n_slices):
            for f in range(f_out):
                row = dy[n, f]
                total = 0.0
                for i in range(np.uint64(plane)):
                    total += row[i]
                part[f] += total


def _bias_grad(dy):
    n, f, ho, wo = dy.shape
    parts = np.zeros((min(max(n, 1), numba.get_num_threads()), f))
    _channel_sums(dy.reshape(n, f, ho * wo), parts)  # (N, F, Ho, Wo) -> (N, F, Ho*Wo)
    return parts.sum(axis=0).astype(dy.dtype)


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def _relu_grad_sums(dy, y, dz, parts):
    """dz = dy * [y > 0], the gradient before a fused ReLU, and parts[k, f] = the sum of dz[n, f, :]
    over the images n of batch slice k, in one pass: the ReLU's backward and the bias gradient
    read dy once between them. Each thread streams through its own slice of the batch, in memory
    order; by channels instead it took 4.8 ms per step of the conv VAE against 3.5."""
    n_img, f_out, plane = dy.shape
    n_slices = parts.shape[0]
    for k in prange(n_slices):
        part = parts[k]
        for n in range(k * n_img // n_slices, (k + 1) * n_img // n_slices):
            for f in range(f_out):
                d, m, z = dy[n, f], y[n, f], dz[n, f]
                total = 0.0
                for i in range(np.uint64(plane)):
                    v = d[i] * (m[i] > 0)
                    z[i] = v
                    total += v
                part[f] += total


def _grad_before_relu(dy, y):
    """(dz, db): dz = dy * [y > 0] if the forward applied the ReLU and y is its output, else dy as it is."""
    if y is None:
        return dy, _bias_grad(dy)
    if not isinstance(y, np.ndarray) or y.shape != dy.shape or y.dtype != dy.dtype:
        raise ShapeError(f"expected the forward output y as {dy.dtype} {dy.shape} like dy, got "
                         f"{getattr(y, 'dtype', type(y).__name__)} {getattr(y, 'shape', '')}")
    n, f, ho, wo = dy.shape
    dz, parts = np.empty_like(dy), np.zeros((min(max(n, 1), numba.get_num_threads()), f))
    _relu_grad_sums(dy.reshape(n, f, ho * wo), np.ascontiguousarray(y).reshape(n, f, ho * wo),
                    dz.reshape(n, f, ho * wo), parts)  # (N, F, Ho, Wo) -> (N, F, Ho*Wo)
    return dz, parts.sum(axis=0).astype(dy.dtype)


# ----------------------------------------------------------------------------------------------
# Public API (called by tinyae.layers)
# ----------------------------------------------------------------------------------------------

def _cached_phases(cache, x, kh, kw, s, p):
    """x's flat phases from a conv2d_forward cache, if it holds those of this very array and geometry."""
    if cache is None or cache.get("x") is not x or cache.get("geometry") != (kh, kw, s, p):
        return None
    return cache["x_phases"]


def conv2d_forward(x, w, b, stride, padding, cache=None, relu=False):
    """y (N, F, Ho, Wo) = conv of x (N, C, H, W) with w (F, C, kh, kw), plus b (F,); max(y, 0) if relu.

    cache: a dict that keeps x's flat padded phases, a copy as large as x, for conv2d_backward
    given the same dict and the same x (unchanged), which then need not build them again.
    relu applies the ReLU as y is written, which spares a pass over y (see tinyae.layers.conv)."""
    _check_conv_args(x, w, stride, padding)
    _check_array("b", b, 1)
    _check_same_dtype(x=x, w=w, b=b)
    given = x
    x, w, b = np.ascontiguousarray(x), np.ascontiguousarray(w), np.ascontiguousarray(b)
    s, p = int(stride), int(padding)
    ho, wo = _conv_out_size(x.shape[2], w.shape[2], s, p), _conv_out_size(x.shape[3], w.shape[3], s, p)
    with _threads_for(x.shape[0] * w.size * ho * wo):
        if cache is None:
            return _conv_forward(x, w, b, s, p, relu=bool(relu))
        plan = _plan_for(x.shape[2], x.shape[3], w.shape[2], w.shape[3], s, p)
        xf = np.empty((x.shape[0], plan.flat_length(x.shape[1])), dtype=x.dtype)  # the forward fills it
        y = _conv_forward(x, w, b, s, p, xf, bool(relu))
        cache.update(x=given, geometry=(w.shape[2], w.shape[3], s, p), x_phases=xf)
        return y


def conv2d_backward(dy, x, w, stride, padding, input_grad=True, cache=None, y=None):
    """(dx, dw, db) of conv2d_forward for upstream gradient dy (N, F, Ho, Wo); dx is None without input_grad.

    cache: the dict given to conv2d_forward with this x. y: the output of a forward with relu=True,
    whose mask y > 0 is applied to dy first (dy is then the gradient after the ReLU)."""
    _check_conv_args(x, w, stride, padding)
    _check_array("dy", dy, 4)
    _check_same_dtype(dy=dy, x=x, w=w)
    s, p = int(stride), int(padding)
    f, _, kh, kw = w.shape
    expected = (x.shape[0], f, _conv_out_size(x.shape[2], kh, s, p), _conv_out_size(x.shape[3], kw, s, p))
    if dy.shape != expected:
        raise ShapeError(f"conv2d_backward: expected dy of shape {expected}, got {dy.shape}")
    xf = _cached_phases(cache, x, kh, kw, s, p)
    dy, x, w = np.ascontiguousarray(dy), np.ascontiguousarray(x), np.ascontiguousarray(w)
    with _threads_for(dy.shape[0] * w.size * dy.shape[2] * dy.shape[3]):
        dy, db = _grad_before_relu(dy, y)
        dx = None
        if input_grad:
            dx = _conv_backward_input(dy, w, x.shape[2], x.shape[3], s, p, np.zeros(x.shape[1], dtype=x.dtype))
        dw = _conv_backward_weights(dy, x, kh, kw, s, p, xf)
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
        dx, dyf = None, None
        if input_grad:  # the forward conv of dy also writes dy's flat phases, which dw then reads
            plan = _plan_for(dy.shape[2], dy.shape[3], kh, kw, s, p)
            dyf = np.empty((dy.shape[0], plan.flat_length(dy.shape[1])), dtype=dy.dtype)
            dx = _conv_forward(dy, w, np.zeros(c_in, dtype=dy.dtype), s, p, dyf)
        dw = _conv_backward_weights(x, dy, kh, kw, s, p, xf=dyf)  # (C_in, C_out, kh, kw), the layout of w
    return dx, dw, db
