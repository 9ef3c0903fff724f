"""The layouts the fast conv kernels read (tinyae/kernels/conv.py explains why): each image's
padded input split into flat stride phases, dy laid on the output grid or with its channels last,
and the weights and row offsets in the order the register tiles take them.

Each copy is for one image (the kernels call them inside their parallel loops, just before their
sums read the copy); flat views and unsigned offsets let LLVM vectorize them.
"""

import functools

import numpy as np
from numba import njit
from numba.np.numpy_support import carray

from tinyae.kernels._numba import _stack_array
from tinyae.kernels.conv_naive import _conv_out_size

# The register tile of the gather and the scatter (tinyae/kernels/conv_tiles.py): 8 rows (output
# channels, or input rows for the scatter) x 48 grid cells, and a narrow one of 32 cells for the
# end of a grid. The layouts round to them (_tiles_of).
_TILE_ROWS = 8
_TILE_COLS = 48
_NARROW_COLS = 32


@njit(cache=True)
def _tiles_of(q):
    """(wide tiles, cells covered) for a grid of q cells: whole 48-cell tiles, then one 32-cell tile
    if the rest fits in 32, else one more 48-cell tile. The 14 x 14 outputs of the conv VAE have
    grids of 14 x 16 = 224 cells (14 x 15 = 210 at stride 2): 4 x 48 + 32 = 224, where 5 x 48 =
    240 computed 16 (30) junk cells more. Measured on its 64 -> 64 conv, batch 128, 2 threads:
    forward 6.12 -> 5.75 ms, input gradient 6.03 -> 5.75 ms."""
    n_wide, rest = q // _TILE_COLS, q % _TILE_COLS
    if rest == 0:
        return n_wide, q
    if rest <= _NARROW_COLS:
        return n_wide, n_wide * _TILE_COLS + _NARROW_COLS
    return n_wide + 1, (n_wide + 1) * _TILE_COLS


class _Plan:
    """Geometry of the flat phase layout for one conv: input (H, W) -> output (Ho, Wo).

    Each channel of the padded input (H + 2p, W + 2p) is split into s*s phases of size (Hph, Wph),
    stored one after another, flat; ``length`` adds a few zero cells so the junk columns of the
    last output row never read past the end. With stride 1 the rows share their padding: a row's
    p zeros on the right are the next row's on the left, as the flat layout runs on, so a row
    holds max(W + p, Wo) cells, not W + 2p: one junk column fewer (a 28 x 28 grid: 812 cells,
    not 840; 816 computed in whole tiles instead of 848).
    ``tap_offset[t]`` is where tap t = u*kw + v starts. ``q_tiles`` is the grid length rounded up
    to whole register tiles (_tiles_of), and ``flat_length(c)`` the cells an image needs so that
    the last channel's tiles never read or write past its end.
    """

    def __init__(self, h, w, kh, kw, s, p):
        self.h, self.w, self.s, self.p = h, w, s, p
        self.ho, self.wo = _conv_out_size(h, kh, s, p), _conv_out_size(w, kw, s, p)
        self.hph, self.wph = -(-(h + 2 * p) // s), -(-(w + 2 * p) // s)  # ceil division
        if s == 1:  # rows share their padding: row i's right is row i + 1's left (see the class docstring)
            self.wph = max(w + p, self.wo)
        phase = self.hph * self.wph
        self.length = s * s * phase + kw
        self.q = self.ho * self.wph  # output grid: Ho rows of Wph cells, the last Wph - Wo are junk
        self.q_tiles = int(_tiles_of(self.q)[1])
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
    the whole buffer first, a pass as long as the copy. Strides 1 and 2, the tutorial's, have
    loops of their own that LLVM vectorizes (_image_to_phases_s1, _image_to_phases_s2); flat views
    and unsigned offsets helped there first: 0.90 -> 0.62 ms for 64 channels at 14x14, batch 128.
    """
    if s == 1:
        _image_to_phases_s1(xn, c_in, h, w, p, hph, wph, length, o)
        return
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
                    for v in range(zero, hi - lo):
                        o[dst + v] = xn[src + np.uint64(s) * v]
                    for v in range(hi, end):
                        o[start + v] = 0
        o[c * length + s * s * plane:(c + 1) * length] = 0
    o[c_in * length:] = 0


_RUN = 16  # cells a narrow row is copied in: one AVX-512 vector of float32


@njit(cache=True)
def _image_to_phases_s1(xn, c_in, h, w, p, hph, wph, length, o):
    """_image_to_phases for stride 1, whose one phase is the padded image itself. A row of w < 16
    pixels (the conv VAE's 14) is too short for LLVM's vector loop, which then copies it one
    number at a time; it is copied as one run of 16 instead, and the cells past the row that the
    run also writes are written again afterwards: the row's right padding here, the next row's
    cells by the next row, the bottom padding at the end. Runs that would read past x or write
    past o take the plain loop. The run is read whole into a stack array before it is stored:
    copied cell by cell, LLVM could not rule out that o overlaps xn and kept 16 scalar copies.
    64 channels at 14 x 14, 64 images: 0.44 -> 0.24 ms.
    """
    zero, width, left, end = np.uint64(0), np.uint64(w), np.uint64(p), np.uint64(wph)
    n_in, n_out = np.uint64(xn.shape[0]), np.uint64(o.shape[0])
    run = carray(_stack_array(_RUN, o.dtype), (_RUN,))
    for c in range(c_in):
        base = c * length
        o[base:base + p * wph] = 0  # the top padding rows
        for hh in range(h):
            start = np.uint64(base + (hh + p) * wph)
            src, dst = np.uint64((c * h + hh) * w), start + left
            for v in range(zero, left):
                o[start + v] = 0
            if w <= _RUN and src + np.uint64(_RUN) <= n_in and dst + np.uint64(_RUN) <= n_out:
                for v in range(_RUN):  # all loads, then all stores: one vector each
                    run[v] = xn[src + np.uint64(v)]
                for v in range(_RUN):
                    o[dst + np.uint64(v)] = run[v]
            else:
                for v in range(zero, width):
                    o[dst + v] = xn[src + v]
            for v in range(left + width, end):
                o[start + v] = 0
        o[base + (h + p) * wph:base + length] = 0  # the bottom padding rows and the tail
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
    last row. Flat views and unsigned offsets, as in _image_to_phases; rows of Wo < 16 go as runs
    of 16, as in _image_to_phases_s1 (64 channels at 14 x 14, 64 images: 0.34 -> 0.18 ms). Each
    keeps the run in its own loop: moved into one shared function, with the stack array passed in, the
    copy here took 1.64 ms, LLVM no longer keeping the run in a register."""
    f_out, ho, wo = dn.shape
    q_len = g.shape[1]
    ds, gs = dn.reshape(f_out * ho * wo), g.reshape(-1)  # (F, Ho, Wo) -> flat; (F, Q) -> flat
    zero, width, end = np.uint64(0), np.uint64(wo), np.uint64(wph)
    n_in, n_out = np.uint64(ds.shape[0]), np.uint64(gs.shape[0])
    run = carray(_stack_array(_RUN, g.dtype), (_RUN,))
    for f in range(f_out):
        row0 = np.uint64(f * q_len)
        for i in range(ho):
            dst, src = row0 + np.uint64(i * wph), np.uint64((f * ho + i) * wo)
            if wo <= _RUN and src + np.uint64(_RUN) <= n_in and dst + np.uint64(_RUN) <= n_out:
                for j in range(_RUN):  # the cells past the row are written over below and by the next row
                    run[j] = ds[src + np.uint64(j)]
                for j in range(_RUN):
                    gs[dst + np.uint64(j)] = run[j]
            else:
                for j in range(zero, width):
                    gs[dst + j] = ds[src + j]
            for j in range(width, end):
                gs[dst + j] = 0
        for k in range(ho * wph, q_len):
            gs[row0 + np.uint64(k)] = 0


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
