"""The three correlations of a convolution, on register tiles (tinyae/kernels/conv.py explains the
strategy and what it was measured against), and the bias and ReLU-gradient sums.

The forward and the input gradient work on register tiles of 8 rows x 48 columns (24 AVX-512
vectors of float32): the tile's accumulators stay in registers for the whole sum over the other
index, and each step loads 3 vectors and 8 scalars for 24 multiply-adds, so the loop is bound by
arithmetic, not memory. Outputs are computed in whole tiles: 48-cell tiles and, at the end of a
grid, one 8 x 32 tile where the rest fits in 32 cells (_tiles_of); the cells past the grid are junk
like its own junk columns. The narrow tile steps two rows at a time, both reading one vector of
cells: one row per step, as in the wide tile, left a loop of 32 cells small enough for LLVM to
unroll before its vectorizer saw it, and the tile ran on scalars. The weight gradient sums
over q instead: on a 6 x 64 tile across output channels when F is a multiple of 64
(_correlate_grads_wide), else on 4 x 4 tiles of scalar sums that LLVM keeps as vectors.
"""

import numpy as np
from numba import njit, prange
from numba.np.numpy_support import carray

from tinyae.kernels._numba import _FMA, _FMA_SUMS, _stack_array
from tinyae.kernels.conv_layout import (_NARROW_COLS, _TILE_COLS, _TILE_ROWS, _image_channels_last,
                                        _image_from_phases, _image_to_grid, _image_to_phases, _tiles_of)

_TILE = _TILE_ROWS * _TILE_COLS
_NARROW_TILE = _TILE_ROWS * _NARROW_COLS


@njit(cache=True)
def _grid_to_rows(grid, wph, yf, start, ho, wo, relu):
    """yf[start + i*wo + j] = grid[i*wph + j] for j < wo, or max(that, 0) with relu (the floor lo, as
    in _image_from_phases): one output plane out of its grid, junk columns dropped. Flat, with
    unsigned offsets: a slice assignment per 14-number row cost ~20 ns to set up, more than the copy."""
    width = np.uint64(wo)
    lo = yf.dtype.type(0 if relu else -np.inf)
    for i in range(ho):
        src, dst = np.uint64(i * wph), np.uint64(start + i * wo)
        for j in range(np.uint64(0), width):
            v = grid[src + j]
            yf[dst + j] = lo if v < lo else v


@njit(parallel=True, cache=True, fastmath=_FMA)
def _gather(x, geometry, xf, wb, bias, row_offset, relu, y):
    """y[n, f, i, j] = bias[f] + sum_r wb[f // 8, r, f % 8] * xn[row_offset[r] + i*wph + j],  xn = x[n]'s flat phases

    and then y = max(y, 0) if relu: the ReLU that follows a layer, applied as y is written.
    The forward correlation. x (N, C, H, W); geometry = (s, p, hph, wph, length), x's _Plan; xf
    (slices, M) a buffer per batch slice (one per thread), wb (F8/8, R4, 8), bias (F,), y (N, F,
    Ho, Wo). Each slice takes its images in turn: x[n]'s phases are written into the slice's
    buffer (_image_to_phases) just before the sums read them, and stay in that core's L2 cache.
    Built in a pass of their own over the batch (15 MB for the conv VAE's stride-2 layer), they
    were back in memory by then (its sums: 4.3 ms in the training step against 3.3 ms). Kept for
    the whole batch, so that the weight gradient could reuse them, they made that trip too; the
    weight gradient now builds them again, the same way. In alternating runs of the conv VAE's
    step the two ways were within the machine's noise (about 1.5 ms of 75), and no layer now
    holds a batch-sized copy (15 MB for the stride-2 layer).
    The sums run over the grid q = i*wph + j in whole tiles, Q = Ho*wph rounded up (_tiles_of),
    so a buffer must be long enough to read Q cells past every row offset; y C-contiguous. Each
    image fills a small grid of 8 rows, in cache, and copies its valid cells (j < Wo) out to y.
    """
    n_img, n_out, ho, wo = y.shape
    s, p, hph, wph, length = geometry
    c_in, h, w = x.shape[1], x.shape[2], x.shape[3]
    xs = x.reshape(n_img, c_in * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_wide, n_q = _tiles_of(ho * wph)
    n_rows = wb.shape[1]
    n_tiled = n_out - n_out % _TILE_ROWS
    yf = y.reshape(-1)  # (N, F, Ho, Wo) -> flat, for _grid_to_rows
    n_slices = xf.shape[0]
    for t in prange(n_slices):
        xn = xf[t]
        acc = carray(_stack_array(_TILE, xf.dtype), (_TILE_ROWS, _TILE_COLS))
        acc_narrow = carray(_stack_array(_NARROW_TILE, xf.dtype), (_TILE_ROWS, _NARROW_COLS))
        grid = np.empty((_TILE_ROWS, n_q), dtype=xf.dtype)
        for n in range(t * n_img // n_slices, (t + 1) * n_img // n_slices):
            _image_to_phases(xs[n], c_in, h, w, s, p, hph, wph, length, xn)
            for f0 in range(0, n_tiled, _TILE_ROWS):
                weights = wb[f0 // _TILE_ROWS]
                for q0 in range(0, n_wide * _TILE_COLS, _TILE_COLS):
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
                q0 = n_wide * _TILE_COLS
                if q0 < n_q:  # the last cells, on the narrow tile (see the module docstring)
                    for a in range(_TILE_ROWS):
                        for k in range(_NARROW_COLS):
                            acc_narrow[a, k] = 0
                    for r in range(n_rows):
                        o, ws = np.uint64(row_offset[r] + q0), weights[r]
                        for a in range(0, _TILE_ROWS, 2):
                            w0, w1 = ws[a], ws[a + 1]
                            for k in range(_NARROW_COLS):
                                v = xn[o + np.uint64(k)]
                                acc_narrow[a, k] += w0 * v
                                acc_narrow[a + 1, k] += w1 * v
                    for a in range(_TILE_ROWS):
                        gs, ba = grid[a, q0:], bias[f0 + a]
                        for k in range(_NARROW_COLS):
                            gs[k] = acc_narrow[a, k] + ba
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
    are 8 different channels, so they never overlap. Its adds into the phases go two rows per
    step, at unsigned offsets: written one row at a time, from slices of dx, LLVM unrolled them
    into 384 scalar adds a tile, a third of the tile's time when its sum over f is 64 long (the
    conv VAE's stride-2 layer: 5.2 -> 4.2 ms a call). Each slice takes its images one at a time:
    dy[n] laid on the grid (_image_to_grid), the phases cleared and summed into, and unpacked to
    out[n] (_image_from_phases), all while they are in the cache. As passes over the
    whole batch, the grid (7.8 MB for the conv VAE's transposed conv), the clearing (15 MB) and the
    unpacking (0.84 ms alone, 1.6 ms in the training step) each went through memory.
    """
    n_img, n_out = dy.shape[0], dy.shape[1]
    s, p, hph, wph, length = geometry
    c_out, h, w = out.shape[1], out.shape[2], out.shape[3]
    outs = out.reshape(n_img, c_out * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_rows = wb.shape[0] * _TILE_ROWS
    n_wide, n_q = _tiles_of(dy.shape[2] * wph)
    n_slices = grids.shape[0]
    for t in prange(n_slices):
        dyg, dx = grids[t], phases[t]
        acc = carray(_stack_array(_TILE, dy.dtype), (_TILE_ROWS, _TILE_COLS))
        acc_narrow = carray(_stack_array(_NARROW_TILE, dy.dtype), (_TILE_ROWS, _NARROW_COLS))
        for n in range(t * n_img // n_slices, (t + 1) * n_img // n_slices):
            _image_to_grid(dy[n], wph, dyg)
            dx[:] = 0
            for r0 in range(0, n_rows, _TILE_ROWS):
                weights = wb[r0 // _TILE_ROWS]
                for q0 in range(0, n_wide * _TILE_COLS, _TILE_COLS):
                    for a in range(_TILE_ROWS):
                        for k in range(_TILE_COLS):
                            acc[a, k] = 0
                    for f in range(n_out):
                        gs, ws = dyg[f, q0:], weights[f]
                        for a in range(_TILE_ROWS):
                            for k in range(_TILE_COLS):
                                acc[a, k] += ws[a] * gs[k]
                    for a in range(0, _TILE_ROWS, 2):
                        o0, o1 = np.uint64(row_offset[r0 + a] + q0), np.uint64(row_offset[r0 + a + 1] + q0)
                        for k in range(_TILE_COLS):
                            dx[o0 + np.uint64(k)] += acc[a, k]
                            dx[o1 + np.uint64(k)] += acc[a + 1, k]
                q0 = n_wide * _TILE_COLS
                if q0 < n_q:  # the last cells on a narrow tile, two rows per step, as in _gather
                    for a in range(_TILE_ROWS):
                        for k in range(_NARROW_COLS):
                            acc_narrow[a, k] = 0
                    for f in range(n_out):
                        gs, ws = dyg[f, q0:], weights[f]
                        for a in range(0, _TILE_ROWS, 2):
                            w0, w1 = ws[a], ws[a + 1]
                            for k in range(_NARROW_COLS):
                                v = gs[k]
                                acc_narrow[a, k] += w0 * v
                                acc_narrow[a + 1, k] += w1 * v
                    for a in range(0, _TILE_ROWS, 2):
                        o0, o1 = np.uint64(row_offset[r0 + a] + q0), np.uint64(row_offset[r0 + a + 1] + q0)
                        for k in range(_NARROW_COLS):
                            dx[o0 + np.uint64(k)] += acc_narrow[a, k]
                            dx[o1 + np.uint64(k)] += acc_narrow[a + 1, k]
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
def _correlate_grads(dy, x, geometry, row_offset, q_len, parts, grids, xf):
    """parts[k, f, r] = sum over the images n of batch slice k, and q, of dyg[f, q] * xn[row_offset[r] + q],
    dyg = dy[n] on the grid (_image_to_grid) and xn = x[n]'s flat phases (_image_to_phases, geometry
    = (s, p, hph, wph, length) of x's _Plan), laid out in grids[k] (slices, F, Q) and xf[k]
    (slices, M) just before the sums read them (as a pass of its own over the batch, the grid went
    out to memory and back: 0.9 ms for the conv VAE's first layer; the phases: see _gather).

    The caller adds the slices: dw = parts.sum(0). Each thread owns one slice of the batch and its
    own partial sums, so no two threads add into the same cell.
    """
    n_img, n_out, n_rows = x.shape[0], dy.shape[1], row_offset.shape[0]
    stride, pad, hph, wph, length = geometry
    c_in, h, w = x.shape[1], x.shape[2], x.shape[3]
    xs = x.reshape(n_img, c_in * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_slices = parts.shape[0]
    zero = np.zeros(1, dtype=xf.dtype)[0]  # a 0 of the arrays' dtype keeps float32 sums in float32
    for k in prange(n_slices):
        part, dyg = parts[k], grids[k]
        for n in range(k * n_img // n_slices, (k + 1) * n_img // n_slices):
            _image_to_grid(dy[n], wph, dyg)
            xk = xf[k]
            _image_to_phases(xs[n], c_in, h, w, stride, pad, hph, wph, length, xk)
            for r in range(0, n_rows, 4):
                o0, o1, o2, o3 = row_offset[r], row_offset[r + 1], row_offset[r + 2], row_offset[r + 3]
                x0, x1, x2, x3 = xk[o0:o0 + q_len], xk[o1:o1 + q_len], xk[o2:o2 + q_len], xk[o3:o3 + q_len]
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
_WIDE_BLOCK = 2  # image rows of dy per sweep: 4 images x 2 rows x 14 x 64 floats = 28 KB, within L1
_WIDE_TILE = _WIDE_ROWS * _WIDE_COLS


@njit(parallel=True, cache=True, fastmath=_FMA)
def _correlate_grads_wide(dy, x, geometry, row_offset, n_slices, parts, scratch, xf):
    """parts[k, r, f] = sum over the images n of batch slice k, and i, j, of
    xn[row_offset[r] + i*wph + j] * dy[n, f, i, j],   xn = x[n]'s flat phases

    The same sums as _correlate_grads, for F a multiple of 64, with the vectors along f: each
    group of 4 images has its dy turned channels last (_image_channels_last) into scratch[k]
    (n_slices, 4, Ho*Wo, F) and its x into flat phases in xf[k] (n_slices, 4, M; geometry as in
    _correlate_grads), which stay in the L2 cache, and a tile of 6 rows x 64 f (24 AVX-512
    registers) stays in registers while (i, j) run over the 4 images, so no vector is ever summed
    across its lanes. The tiles sweep 2 image rows at a time (_WIDE_BLOCK), every tile of rows
    r over them before the next 2: the dy they read (28 KB at 14 x 14 x 64) then stays in the L1
    cache, where the whole 4 images' (200 KB) streamed from L2 for each tile (64 -> 64: 5.3 -> 5.05 ms
    a call). As a pass of its own over the batch, the channels-last copy cost 1.1 ms a call
    in the conv VAE's step; the scratch comes from the caller because a buffer allocated inside the
    parallel loop kept the tile out of the registers (4x slower).
    Only the Wo real columns of each grid row are visited, not the junk ones: 12.5% fewer steps at
    14x14 (64 -> 64 in the conv VAE's step: 5.2 -> 5.0 ms a call). row_offset's length is a
    multiple of 6. Each thread owns one slice of the batch and its own partial sums, so no two
    threads add into the same cell.
    """
    n_img, n_out, ho, wo = dy.shape
    s, p, hph, wph, length = geometry
    c_in, h, w = x.shape[1], x.shape[2], x.shape[3]
    xs = x.reshape(n_img, c_in * h * w)  # (N, C, H, W) -> (N, C*H*W)
    n_rows = row_offset.shape[0]
    for k in prange(n_slices):
        part = parts[k]
        acc = carray(_stack_array(_WIDE_TILE, xf.dtype), (_WIDE_ROWS, _WIDE_COLS))
        dyt = scratch[k]
        lo, hi = k * n_img // n_slices, (k + 1) * n_img // n_slices
        for n0 in range(lo, hi, _WIDE_IMAGES):
            for n in range(n0, min(n0 + _WIDE_IMAGES, hi)):
                _image_channels_last(dy[n], dyt[n - n0])
                _image_to_phases(xs[n], c_in, h, w, s, p, hph, wph, length, xf[k, n - n0])
            for i0 in range(0, ho, _WIDE_BLOCK):  # the tiles sweep a block of image rows at a time
                for r0 in range(0, n_rows, _WIDE_ROWS):
                    offset = row_offset[r0:r0 + _WIDE_ROWS]
                    for f0 in range(0, n_out, _WIDE_COLS):
                        for a in range(_WIDE_ROWS):
                            for b in range(_WIDE_COLS):
                                acc[a, b] = 0
                        for n in range(n0, min(n0 + _WIDE_IMAGES, hi)):
                            xn, dyn = xf[k, n - n0], dyt[n - n0]
                            for i in range(i0, min(i0 + _WIDE_BLOCK, ho)):
                                q, row = np.uint64(i * wph), dyn[i * wo:]  # grid row i of x, image row i of dy
                                for j in range(wo):
                                    g = row[j, f0:]
                                    for a in range(_WIDE_ROWS):
                                        # An unsigned index skips Numba's check for negative (from-the-end)
                                        # indices, 6 compares and branches per step: 8.1 -> 5.4 ms on 64 -> 64.
                                        xv = xn[np.uint64(offset[a]) + q + np.uint64(j)]
                                        for b in range(_WIDE_COLS):
                                            acc[a, b] += xv * g[b]
                        for a in range(_WIDE_ROWS):
                            ps = part[r0 + a, f0:]
                            for b in range(_WIDE_COLS):
                                ps[b] += acc[a, b]


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
