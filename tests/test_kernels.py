"""tinyae.kernels: each fast Numba kernel against its naive NumPy twin, and the twins against calculus.

The naive twins are proven by central differences (float64, random upstream gradient); the fast
kernels must then equal them to ~1e-12 relative in float64, forward and backward, over strides,
paddings, kernel sizes, odd/even image sizes and channel counts that do and do not fill the
register tiles (8 rows, and 64 output channels for the weight gradient). Shapes are tiny: the cost
of a test run is Numba's one-time compilation.
"""

import itertools

import numba
import numpy as np
import pytest

from tinyae import kernels as K
from tinyae.kernels import conv_layout as layout
from tinyae.kernels import conv_tiles as tiles
from tinyae.errors import ShapeError
from tinyae.gradcheck import numerical_gradient, rel_error

EXACT = 1e-12  # fast vs naive in float64: different summation order only, ~1e-16 per operation
FLOAT32 = 1e-5  # float32 fast kernels vs the float64 reference: float32 rounding over a few hundred terms
CALCULUS = 1e-6  # central differences, h = 1e-5 in float64, reach ~1e-10

CONV_CASES = [(s, p, k, h, w)
              for s, p, k, (h, w) in itertools.product([1, 2], [0, 1, 2], [1, 3, 5], [(5, 5), (6, 7)])
              if min(h, w) + 2 * p >= k]
CONVT_CASES = [case + (op,) for case in CONV_CASES for op in range(case[0])]  # output_padding < stride


def conv_arrays(rng, n, c, f, h, w, k, dtype=np.float64, transpose=False):
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wshape = (c, f, k, k) if transpose else (f, c, k, k)
    return x, rng.standard_normal(wshape).astype(dtype), rng.standard_normal(f).astype(dtype)


def assert_all_close(fast, naive, tol, what):
    for name, a, b in zip(("dx", "dw", "db") if len(fast) == 3 else ("y",), fast, naive):
        assert a.shape == b.shape, f"{what} {name}: shape {a.shape} != {b.shape}"
        err = rel_error(a, b)
        assert err <= tol, f"{what} {name}: rel error {err:.1e} > {tol:.0e}"


# ---- fast == naive, float64 ---------------------------------------------------------------------

@pytest.mark.parametrize("s,p,k,h,w", CONV_CASES)
def test_conv2d_fast_matches_naive(s, p, k, h, w):
    rng = np.random.default_rng(1000 * s + 100 * p + 10 * k + h)
    x, wt, b = conv_arrays(rng, 3, 5, 11, h, w, k)  # 11 = a tile of 8 output rows + 3 more
    y = K.conv2d_forward(x, wt, b, s, p)
    assert_all_close((y,), (K.conv2d_forward_naive(x, wt, b, s, p),), EXACT, "conv2d forward")
    dy = rng.standard_normal(y.shape)
    assert_all_close(K.conv2d_backward(dy, x, wt, s, p), K.conv2d_backward_naive(dy, x, wt, s, p), EXACT,
                     "conv2d backward")


@pytest.mark.parametrize("s,p,k,h,w,output_padding", CONVT_CASES)
def test_conv_transpose2d_fast_matches_naive(s, p, k, h, w, output_padding):
    rng = np.random.default_rng(1000 * s + 100 * p + 10 * k + h + output_padding)
    x, wt, b = conv_arrays(rng, 3, 9, 4, h, w, k, transpose=True)  # 9 = a tile of 8 + 1
    args = (s, p, output_padding)
    y = K.conv_transpose2d_forward(x, wt, b, *args)
    assert_all_close((y,), (K.conv_transpose2d_forward_naive(x, wt, b, *args),), EXACT, "convT forward")
    dy = rng.standard_normal(y.shape)
    assert_all_close(K.conv_transpose2d_backward(dy, x, wt, *args),
                     K.conv_transpose2d_backward_naive(dy, x, wt, *args), EXACT, "convT backward")


@pytest.mark.parametrize("s,p,k,h,w", CONV_CASES)
def test_fused_relu_equals_relu_of_the_conv(s, p, k, h, w):
    """relu=True applies max(., 0) as the output is written: in the gather's copy-out (11 = a tile
    of 8 output rows + 3 one at a time) and in the scatter's copy back from the phases."""
    rng = np.random.default_rng(2000 + 1000 * s + 100 * p + 10 * k + h)
    x, wt, b = conv_arrays(rng, 3, 5, 11, h, w, k)
    assert_all_close((K.conv2d_forward(x, wt, b, s, p, relu=True),),
                     (K.relu_forward_naive(K.conv2d_forward_naive(x, wt, b, s, p)),), EXACT, "conv2d + relu")
    xt, wtt, bt = conv_arrays(rng, 3, 9, 4, h, w, k, transpose=True)
    args = (s, min(p, k - 1), s - 1)
    assert_all_close((K.conv_transpose2d_forward(xt, wtt, bt, *args, relu=True),),
                     (K.relu_forward_naive(K.conv_transpose2d_forward_naive(xt, wtt, bt, *args)),), EXACT,
                     "convT + relu")


@pytest.mark.parametrize("s,p,k,h,w", [case for case in CONV_CASES if case[2] == 3])
@pytest.mark.parametrize("f", [3, 11, 64])  # the thin scatter, the tiled one; the 4 x 4 and the wide weight gradient
@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("relu", [False, True])
def test_backward_through_the_relu_on_every_path(s, p, k, h, w, f, input_grad, relu):
    """Given the forward's output y, backward takes dy * [y > 0] (the bias gradient summed in the same
    pass), then runs the input gradient (scatter or gather) and the weight gradient (4 x 4 or wide)."""
    rng = np.random.default_rng(3000 + 1000 * s + 100 * p + h + f)
    x, wt, b = conv_arrays(rng, 3, 5, f, h, w, k)
    y = K.conv2d_forward(x, wt, b, s, p, relu=relu)
    dy = rng.standard_normal(y.shape)
    got = K.conv2d_backward(dy, x, wt, s, p, input_grad, y=y if relu else None)
    want = K.conv2d_backward_naive(dy * (y > 0) if relu else dy, x, wt, s, p)
    assert (got[0] is None) == (not input_grad)
    assert_all_close(got if input_grad else (want[0],) + got[1:], want, EXACT, "conv2d backward")
    xt, wtt, bt = conv_arrays(rng, 3, f, 5, h, w, k, transpose=True)
    args = (s, p, s - 1)
    z = K.conv_transpose2d_forward(xt, wtt, bt, *args, relu=relu)
    dz = rng.standard_normal(z.shape)
    got = K.conv_transpose2d_backward(dz, xt, wtt, *args, input_grad, y=z if relu else None)
    want = K.conv_transpose2d_backward_naive(dz * (z > 0) if relu else dz, xt, wtt, *args)
    assert (got[0] is None) == (not input_grad)
    assert_all_close(got if input_grad else (want[0],) + got[1:], want, EXACT, "convT backward")


def test_backward_refuses_a_y_unlike_dy():
    rng = np.random.default_rng(4)
    x, wt, b = conv_arrays(rng, 3, 5, 11, 6, 6, 3)
    y = K.conv2d_forward(x, wt, b, 1, 1, relu=True)
    with pytest.raises(ShapeError, match=r"expected the forward output y as float64 \(3, 11, 6, 6\) like dy"):
        K.conv2d_backward(y, x, wt, 1, 1, y=y[:, :3])


def test_fused_relu_keeps_nan():
    """A NaN passes the fused ReLU, as it passes relu_forward, so a diverging network still shows it."""
    rng = np.random.default_rng(8)
    for s in (1, 2):
        x, wt, b = conv_arrays(rng, 1, 2, 3, 5, 5, 3)
        x[0, 0, 2, 2] = np.nan
        assert np.isnan(K.conv2d_forward(x, wt, b, s, 1, relu=True)).any()
        assert np.isnan(K.conv_transpose2d_forward(x, wt.transpose(1, 0, 2, 3).copy(), b[:2], s, 1, 0,
                                                   relu=True)).any()


@pytest.mark.parametrize("s,p,k,h,w", [case for case in CONV_CASES if case[3] == 6])
def test_conv2d_weight_gradient_wide_tiles(s, p, k, h, w):
    """64 and 128 output channels take the weight gradient's 6 x 64 tile, with C*k*k rows not a multiple of 6."""
    rng = np.random.default_rng(500 + 1000 * s + 100 * p + 10 * k)
    for c, f in [(1, 64), (5, 128)]:
        x, wt, b = conv_arrays(rng, 5, c, f, h, w, k)
        dy = rng.standard_normal(K.conv2d_forward(x, wt, b, s, p).shape)
        assert_all_close(K.conv2d_backward(dy, x, wt, s, p), K.conv2d_backward_naive(dy, x, wt, s, p), EXACT,
                         f"conv2d backward, {c} -> {f} channels")


@pytest.mark.parametrize("c,f", [(1, 1), (1, 8), (8, 1), (4, 4), (9, 13), (3, 64)])
def test_conv2d_channel_counts(c, f):
    """One input or output channel (the tutorial's first and last layers) and several full tiles."""
    rng = np.random.default_rng(c * 31 + f)
    x, wt, b = conv_arrays(rng, 2, c, f, 9, 8, 3)
    y = K.conv2d_forward(x, wt, b, 1, 1)
    assert_all_close((y,), (K.conv2d_forward_naive(x, wt, b, 1, 1),), EXACT, "conv2d forward")
    dy = rng.standard_normal(y.shape)
    assert_all_close(K.conv2d_backward(dy, x, wt, 1, 1), K.conv2d_backward_naive(dy, x, wt, 1, 1), EXACT,
                     "conv2d backward")


def test_conv2d_non_contiguous_inputs():
    rng = np.random.default_rng(7)
    x, wt, b = conv_arrays(rng, 2, 3, 4, 6, 6, 3)
    x_view = np.asfortranarray(x)[:, :, ::-1]  # same values layout-scrambled: the kernels must copy
    assert_all_close((K.conv2d_forward(x_view, wt, b, 1, 1),),
                     (K.conv2d_forward_naive(x_view, wt, b, 1, 1),), EXACT, "strided view")


def test_empty_batch():
    x, wt, b = conv_arrays(np.random.default_rng(0), 0, 3, 4, 5, 5, 3)
    y = K.conv2d_forward(x, wt, b, 2, 1)
    assert y.shape == (0, 4, 3, 3)
    dx, dw, db = K.conv2d_backward(y, x, wt, 2, 1)
    assert dx.shape == x.shape and not dw.any() and not db.any()


@pytest.mark.parametrize("s,p,h,w", [(1, 1, 5, 6), (2, 1, 7, 6), (2, 0, 5, 5), (3, 2, 4, 7)])
def test_flat_phases_write_every_cell(s, p, h, w):
    """The padded, phase-split copy of x must fill each cell itself: its buffer starts as garbage."""
    rng = np.random.default_rng(s * 10 + p)
    x = rng.standard_normal((2, 3, h, w))
    plan = layout._Plan(h, w, 3, 3, s, p)
    out = np.full((2, plan.flat_length(3)), np.nan)
    for n in range(2):  # (C, H, W) -> (C*H*W,)
        layout._image_to_phases(x[n].reshape(-1), 3, h, w, s, p, plan.hph, plan.wph, plan.length, out[n])
    expected = np.zeros_like(out)
    xpad = np.zeros((2, 3, plan.hph * s, plan.wph * s))
    xpad[:, :, p:p + h, p:p + w] = x
    for c in range(3):
        for a in range(s):
            for b in range(s):
                start = c * plan.length + (a * s + b) * plan.hph * plan.wph
                # (N, Hph, Wph) -> (N, Hph*Wph)
                expected[:, start:start + plan.hph * plan.wph] = xpad[:, c, a::s, b::s].reshape(2, -1)
    np.testing.assert_array_equal(out, expected)
    grid = np.full((2, 3, plan.q_tiles), np.nan)
    for n in range(2):
        layout._image_to_grid(np.ascontiguousarray(x[n, :, :plan.ho, :plan.wo]), plan.wph, grid[n])  # C order
    expected = np.zeros_like(grid)
    # (N, C, Ho, Wph) -> (N, C, Ho*Wph)
    rows = np.zeros((2, 3, plan.ho, plan.wph))
    rows[:, :, :, :plan.wo] = x[:, :, :plan.ho, :plan.wo]
    expected[:, :, :plan.q] = rows.reshape(2, 3, -1)
    np.testing.assert_array_equal(grid, expected)


@pytest.mark.parametrize("s,p,h,w", [(1, 1, 5, 6), (1, 0, 4, 3), (2, 1, 7, 6), (2, 0, 5, 5), (2, 2, 6, 7),
                                     (3, 2, 4, 7), (3, 1, 8, 5)])
def test_image_from_phases_inverts_to_phases(s, p, h, w):
    """Every stride has its own copy loop (1 and 2 vectorized, others generic): each must undo the split."""
    rng = np.random.default_rng(s * 10 + p + h)
    x, bias = rng.standard_normal((2, 3, h, w)), rng.standard_normal(3)
    plan = layout._Plan(h, w, 3, 3, s, p)
    flat = np.full((2, plan.flat_length(3)), np.nan)
    back = np.full((2, 3 * h * w), np.nan)
    for n in range(2):  # (C, H, W) -> (C*H*W,)
        layout._image_to_phases(x[n].reshape(-1), 3, h, w, s, p, plan.hph, plan.wph, plan.length, flat[n])
        layout._image_from_phases(flat[n], back[n], 3, h, w, s, p, plan.hph, plan.wph, plan.length, bias, False)
    np.testing.assert_array_equal(back.reshape(x.shape), x + bias[None, :, None, None])  # (N, C*H*W) -> (N, C, H, W)


@pytest.mark.parametrize("f", [3, 9])  # the thin scatter and the tiled one
def test_scatter_writes_every_cell(f):
    """The caller's output and its two buffers start as garbage (np.empty): the scatter must fill
    each image's grid, junk columns included, clear the phases it adds into for each image, and
    write each output cell, bias included. 3 images on 2 slices: one slice reuses its buffers."""
    rng = np.random.default_rng(f)
    dy, w, bias = rng.standard_normal((3, f, 3, 3)), rng.standard_normal((f, 4, 3, 3)), rng.standard_normal(4)
    plan = layout._Plan(6, 6, 3, 3, 2, 1)
    scatter = tiles._scatter if f >= 8 else tiles._scatter_thin
    out, grids = np.full((3, 4, 6, 6), np.nan), np.full((2, f, plan.q_tiles), np.nan)
    phases = np.full((2, plan.flat_length(8)), np.nan)
    geometry = (2, 1, plan.hph, plan.wph, plan.length)
    scatter(dy, layout._weights_by_tap(w), layout._rows_by_tap(4, plan), geometry, bias, False, grids, phases, out)
    dx, _, _ = K.conv2d_backward_naive(dy, np.zeros((3, 4, 6, 6)), w, 2, 1)
    np.testing.assert_allclose(out, dx + bias[None, :, None, None], rtol=1e-12, atol=1e-12)


def test_grids_end_on_a_narrow_tile_where_it_fits():
    """The gather and scatter cover a grid of q cells with 48-cell tiles and end on one 32-cell tile
    where the rest fits in 32 (_tiles_of). The fast == naive cases above reach every ending."""
    assert [layout._tiles_of(q) for q in (5, 32, 33, 48, 210, 224, 241)] == [
        (0, 32), (0, 32), (1, 48), (1, 48), (4, 224), (4, 224), (5, 272)]
    endings = set()
    for s, p, k, h, w in CONV_CASES:
        q = layout._Plan(h, w, k, k, s, p).q
        endings.add("narrow only" if q <= 32 else "wide, then narrow" if 0 < q % 48 <= 32
                    else "wide only" if q % 48 == 0 else "wide, then wide")
    assert endings >= {"narrow only", "wide, then narrow", "wide, then wide"}


@pytest.mark.parametrize("s", [1, 2])
def test_conv_vae_layer_in_float32(s):
    """The conv VAE's 64-channel 3x3 convs at 14 x 14 output (224 and 210 grid cells: 4 wide tiles
    and a narrow one), forward and backward, in float32 against the float64 naive twin."""
    rng = np.random.default_rng(s)
    x, wt, b = conv_arrays(rng, 2, 64 // s, 64, 14 * s, 14 * s, 3)
    y = K.conv2d_forward(x.astype(np.float32), wt.astype(np.float32), b.astype(np.float32), s, 1)
    assert_all_close((y,), (K.conv2d_forward_naive(x, wt, b, s, 1),), FLOAT32, "conv2d forward")
    dy = rng.standard_normal(y.shape)
    got = K.conv2d_backward(dy.astype(np.float32), x.astype(np.float32), wt.astype(np.float32), s, 1)
    assert_all_close(got, K.conv2d_backward_naive(dy, x, wt, s, 1), FLOAT32, "conv2d backward")


# ---- the naive twins are the true derivatives ---------------------------------------------------

def check_derivatives(forward, backward, arrays, rng):
    """Compare backward(G, ...) with central differences of L = sum(forward(...) * G), G random."""
    upstream = rng.standard_normal(forward(*arrays).shape)

    def loss():
        return float(np.sum(forward(*arrays) * upstream))

    analytic = backward(upstream, *arrays)
    for name, array, grad in zip(("x", "w", "b"), arrays, analytic):
        err = rel_error(grad, numerical_gradient(loss, array))
        assert err <= CALCULUS, f"d{name}: rel error {err:.1e} > {CALCULUS:.0e}"


@pytest.mark.parametrize("s,p,k", [(1, 0, 3), (1, 1, 3), (2, 1, 3), (2, 2, 5), (1, 0, 1)])
def test_conv2d_naive_is_the_derivative(s, p, k):
    rng = np.random.default_rng(10 * s + p + k)
    x, wt, b = conv_arrays(rng, 2, 2, 3, 5, 6, k)
    check_derivatives(lambda x, w, b: K.conv2d_forward_naive(x, w, b, s, p),
                      lambda g, x, w, b: K.conv2d_backward_naive(g, x, w, s, p), (x, wt, b), rng)


@pytest.mark.parametrize("s,p,k,op", [(1, 0, 3, 0), (1, 1, 3, 0), (2, 1, 3, 1), (2, 0, 2, 0), (2, 2, 5, 1)])
def test_conv_transpose2d_naive_is_the_derivative(s, p, k, op):
    rng = np.random.default_rng(10 * s + p + k + op)
    x, wt, b = conv_arrays(rng, 2, 2, 3, 4, 5, k, transpose=True)
    check_derivatives(lambda x, w, b: K.conv_transpose2d_forward_naive(x, w, b, s, p, op),
                      lambda g, x, w, b: K.conv_transpose2d_backward_naive(g, x, w, s, p, op), (x, wt, b), rng)


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv(x), z> = <x, convT(z)> with the same weights: the defining property of a transpose."""
    rng = np.random.default_rng(3)
    x, wt, _ = conv_arrays(rng, 2, 3, 4, 7, 7, 3)
    zero_f, zero_c = np.zeros(4), np.zeros(3)
    y = K.conv2d_forward(x, wt, zero_f, 2, 1)
    z = rng.standard_normal(y.shape)
    back = K.conv_transpose2d_forward(z, wt, zero_c, 2, 1, 0)  # wt (4, 3, k, k) read as (C_in, C_out, k, k)
    assert abs(np.sum(y * z) - np.sum(x * back)) <= 1e-12 * np.sum(np.abs(y * z))


def test_naive_conv_matches_a_hand_computed_value():
    """Guards against a twin pair that agrees with itself but not with the definition."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # y[i, j] = x[i, j] - x[i+1, j+1] = -5 everywhere
    y = K.conv2d_forward_naive(x, w, np.array([0.5]), 1, 0)
    np.testing.assert_array_equal(y, np.full((1, 1, 3, 3), -4.5))
    np.testing.assert_array_equal(K.conv2d_forward(x, w, np.array([0.5]), 1, 0), y)


# ---- float32 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("s,p", [(1, 1), (2, 1)])
def test_float32_paths(s, p):
    rng = np.random.default_rng(11)
    x, wt, b = conv_arrays(rng, 2, 5, 6, 8, 7, 3, dtype=np.float32)
    x64, w64, b64 = x.astype(np.float64), wt.astype(np.float64), b.astype(np.float64)
    y = K.conv2d_forward(x, wt, b, s, p)
    assert y.dtype == np.float32
    assert_all_close((y,), (K.conv2d_forward_naive(x64, w64, b64, s, p),), FLOAT32, "float32 conv")
    dy = rng.standard_normal(y.shape).astype(np.float32)
    grads = K.conv2d_backward(dy, x, wt, s, p)
    assert all(g.dtype == np.float32 for g in grads)
    assert_all_close(grads, K.conv2d_backward_naive(dy.astype(np.float64), x64, w64, s, p), FLOAT32,
                     "float32 conv backward")

    xt, wtt, bt = conv_arrays(rng, 2, 6, 5, 4, 5, 3, dtype=np.float32, transpose=True)
    z = K.conv_transpose2d_forward(xt, wtt, bt, s, p, s - 1)
    assert z.dtype == np.float32
    ref = K.conv_transpose2d_forward_naive(xt.astype(np.float64), wtt.astype(np.float64),
                                           bt.astype(np.float64), s, p, s - 1)
    assert_all_close((z,), (ref,), FLOAT32, "float32 convT")

    pooled, argmax = K.maxpool2d_forward(x, 2, (1, 1))
    assert pooled.dtype == np.float32
    np.testing.assert_array_equal(pooled, K.maxpool2d_forward_naive(x, 2, (1, 1))[0])
    assert K.maxpool2d_backward(pooled, argmax, x.shape).dtype == np.float32


# ---- max pooling --------------------------------------------------------------------------------

@pytest.mark.parametrize("h,w", [(6, 8), (7, 7), (5, 6)])
@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("padded", [False, True])
def test_maxpool_fast_matches_naive(h, w, size, padded):
    rng = np.random.default_rng(h * w + size)
    x = rng.standard_normal((2, 3, h, w))
    pads = (-h % size, -w % size) if padded else (0, 0)
    y, argmax = K.maxpool2d_forward(x, size, pads)
    y_naive, argmax_naive = K.maxpool2d_forward_naive(x, size, pads)
    assert y.shape == ((2, 3, -(-h // size), -(-w // size)) if padded else (2, 3, h // size, w // size))
    np.testing.assert_array_equal(y, y_naive)
    np.testing.assert_array_equal(argmax, argmax_naive)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(K.maxpool2d_backward(dy, argmax, x.shape),
                                  K.maxpool2d_backward_naive(dy, argmax_naive, x.shape))


def test_maxpool_padding_never_wins():
    """All inputs negative: a zero from the padding would win if padded cells were read."""
    x = -1.0 - np.arange(49.0).reshape(1, 1, 7, 7)
    y, _ = K.maxpool2d_forward(x, 2, (1, 1))
    assert y.shape == (1, 1, 4, 4)  # the tutorial's 7x7 -> 4x4
    np.testing.assert_array_equal(y[0, 0, 3], x[0, 0, 6, [0, 2, 4, 6]])  # last row: 1x2 or 1x1 windows
    assert np.all(y < 0)


def test_maxpool_ties_go_to_the_first_maximum():
    x = np.zeros((1, 2, 4, 4))
    x[0, 1, 1, :] = 5.0  # channel 1: ties along the second row of each window
    dy = np.arange(1.0, 9.0).reshape(1, 2, 2, 2)
    for forward, backward in [(K.maxpool2d_forward, K.maxpool2d_backward),
                              (K.maxpool2d_forward_naive, K.maxpool2d_backward_naive)]:
        _, argmax = forward(x, 2, (0, 0))
        np.testing.assert_array_equal(argmax[0, 0], [[0, 2], [8, 10]])  # all-zero windows: top-left
        np.testing.assert_array_equal(argmax[0, 1], [[4, 6], [8, 10]])  # first 5.0 in row-major order
        dx = backward(dy, argmax, x.shape)
        assert dx.sum() == dy.sum() and np.count_nonzero(dx) == 8


def test_maxpool_naive_is_the_derivative():
    rng = np.random.default_rng(5)
    x = rng.permutation(70).reshape(1, 2, 5, 7) * 0.1  # distinct values 0.1 apart: h = 1e-5 changes no winner
    upstream = rng.standard_normal((1, 2, 3, 4))

    def loss():
        return float(np.sum(K.maxpool2d_forward_naive(x, 2, (1, 1))[0] * upstream))

    _, argmax = K.maxpool2d_forward_naive(x, 2, (1, 1))
    err = rel_error(K.maxpool2d_backward_naive(upstream, argmax, x.shape), numerical_gradient(loss, x))
    assert err <= CALCULUS


@pytest.mark.parametrize("factor,h,w", [(1, 3, 4), (2, 3, 4), (3, 2, 5)])
def test_upsample_fast_matches_naive(factor, h, w):
    rng = np.random.default_rng(factor * 10 + h)
    x = rng.standard_normal((2, 3, h, w))
    y = K.upsample2d_forward(x, factor)
    np.testing.assert_array_equal(y, K.upsample2d_forward_naive(x, factor))
    dy = rng.standard_normal(y.shape)
    assert rel_error(K.upsample2d_backward(dy, factor), K.upsample2d_backward_naive(dy, factor)) <= EXACT


def test_upsample_naive_is_the_derivative():
    rng = np.random.default_rng(6)
    x, upstream = rng.standard_normal((1, 2, 3, 2)), rng.standard_normal((1, 2, 6, 4))
    loss = lambda: float(np.sum(K.upsample2d_forward_naive(x, 2) * upstream))
    assert rel_error(K.upsample2d_backward_naive(upstream, 2), numerical_gradient(loss, x)) <= CALCULUS


@pytest.mark.parametrize("k_in,m", [(1, 1), (2, 511), (2, 512), (3, 513), (16, 1100)])  # 512-column blocks
@pytest.mark.parametrize("relu", [False, True])
def test_dense_thin_matches_naive(k_in, m, relu):
    rng = np.random.default_rng(k_in * 10_000 + m)
    x, w, b = rng.standard_normal((5, k_in)), rng.standard_normal((k_in, m)), rng.standard_normal(m)
    y = K.dense_thin_forward(x, w, b, relu)
    assert_all_close((y,), (K.dense_forward_naive(x, w, b, relu),), EXACT, "dense forward")
    if relu:
        y.flat[0] = 0.0  # the kink: derivative taken as 0
    dy = rng.standard_normal(y.shape)
    mask = y if relu else None
    assert_all_close(K.dense_thin_backward(dy, x, w, mask), K.dense_backward_naive(dy, x, w, mask), EXACT,
                     "dense backward")
    assert K.dense_thin_backward(dy, x, w, mask, input_grad=False)[0] is None


def test_dense_thin_float32_and_nan():
    rng = np.random.default_rng(12)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(64, 2), (2, 3000), (3000,)])
    y = K.dense_thin_forward(x, w, b, True)
    assert y.dtype == np.float32
    assert_all_close((y,), (K.dense_forward_naive(x.astype(np.float64), w.astype(np.float64), b, True),), FLOAT32,
                     "float32 dense")
    x[0, 0] = np.nan
    assert np.isnan(K.dense_thin_forward(x, w, b, True)[0]).all()  # a NaN passes the fused ReLU


@pytest.mark.parametrize("n,k_in,m", [(1, 17, 32), (8, 8, 32), (13, 100, 64), (9, 385, 96), (16, 1031, 32),
                                       (3, 2100, 32)])
@pytest.mark.parametrize("relu", [False, True])
def test_dense_tiled_matches_naive(n, k_in, m, relu):
    """Rows past a multiple of 8 (plain loops), k's past a multiple of 8 (weight gradient), of 48
    and of a W^T block (input gradient: 384 k's for m = 32, 96 for m = 96), and past a chunk of 1024
    and a thread's share (forward); 32 to 96 output columns."""
    rng = np.random.default_rng(n * 10_000 + k_in + m)
    x, w, b = rng.standard_normal((n, k_in)), rng.standard_normal((k_in, m)), rng.standard_normal(m)
    y = K.dense_tiled_forward(x, w, b, relu)
    assert_all_close((y,), (K.dense_forward_naive(x, w, b, relu),), EXACT, "dense forward")
    if relu:
        assert 0 < (y > 0).mean() < 1
    dy = rng.standard_normal(y.shape)
    mask = y if relu else None
    assert_all_close(K.dense_tiled_backward(dy, x, w, mask), K.dense_backward_naive(dy, x, w, mask), EXACT,
                     "dense backward")
    assert K.dense_tiled_backward(dy, x, w, mask, input_grad=False)[0] is None


def test_dense_tiles_are_taken_on_more_than_one_thread():
    """n_out a multiple of 32 and more than THIN_INPUTS inputs, on 2+ threads; else NumPy's BLAS."""
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        many = numba.get_num_threads() > 1
        assert [K.dense_tiles_pay(*shape) for shape in [(12544, 32), (17, 64), (16, 32), (784, 48)]] == [
            many, many, False, False]
        numba.set_num_threads(1)
        assert not K.dense_tiles_pay(12544, 32)
    finally:
        numba.set_num_threads(before)


def test_dense_tiled_float32_and_nan():
    """The conv VAE's Dense(12544 -> 32) at batch 10, in float32; a NaN in x reaches its row of y."""
    rng = np.random.default_rng(13)
    x, w, b, dy = (rng.standard_normal(s).astype(np.float32) for s in [(10, 12544), (12544, 32), (32,), (10, 32)])
    wide = [a.astype(np.float64) for a in (x, w, b, dy)]
    y = K.dense_tiled_forward(x, w, b, True)
    assert y.dtype == np.float32
    assert_all_close((y,), (K.dense_forward_naive(*wide[:3], True),), FLOAT32, "float32 dense")
    got = K.dense_tiled_backward(dy, x, w, y)
    assert all(a.dtype == np.float32 for a in got)
    assert_all_close(got, K.dense_backward_naive(wide[3], *wide[:2], y.astype(np.float64)), FLOAT32, "float32 dense")
    x[3, 5] = np.nan
    y = K.dense_tiled_forward(x, w, b, True)
    assert np.isnan(y[3]).all() and not np.isnan(np.delete(y, 3, axis=0)).any()


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5)])
def test_relu_fast_matches_naive(shape):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # the kink: derivative taken as 0
    y = K.relu_forward(x)
    np.testing.assert_array_equal(y, K.relu_forward_naive(x))
    dy = rng.standard_normal(shape)
    np.testing.assert_array_equal(K.relu_backward(dy, y), K.relu_backward_naive(dy, y))
    assert np.isnan(K.relu_forward(np.array([np.nan, -1.0])))[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (33, 5), (2, 3, 4, 5)])
def test_adam_fast_matches_naive_bit_for_bit(shape, dtype):
    rng = np.random.default_rng(len(shape))
    w, g, m = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v = rng.random(shape).astype(dtype)
    fast, naive = [w.copy(), m.copy(), v.copy()], [w.copy(), m.copy(), v.copy()]
    for t in (1, 2):  # the moments carry over: a second step reads what the first wrote
        step, eps_hat = 1e-2 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t), 1e-8 * np.sqrt(1 - 0.999 ** t)
        K.adam_update(fast[0], g, fast[1], fast[2], 0.9, 0.999, step, eps_hat)
        K.adam_update_naive(naive[0], g, naive[1], naive[2], 0.9, 0.999, step, eps_hat)
    for a, b in zip(fast, naive):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(fast[0], w)


def test_adam_updates_a_strided_parameter_in_place():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((4, 6))
    w = base[:, ::2]  # a view: the update must land in base
    m, v, g = np.zeros_like(w), np.zeros_like(w), rng.standard_normal(w.shape)
    expected = w.copy()
    K.adam_update_naive(expected, g, np.zeros_like(w), np.zeros_like(w), 0.9, 0.999, 0.1, 1e-8)
    K.adam_update(w, g, m, v, 0.9, 0.999, 0.1, 1e-8)
    np.testing.assert_array_equal(base[:, ::2], expected)


# ---- errors a user can cause --------------------------------------------------------------------

def test_errors_name_what_was_expected():
    rng = np.random.default_rng(0)
    x, wt, b = conv_arrays(rng, 1, 3, 4, 5, 5, 3)
    with pytest.raises(ShapeError, match="channels"):
        K.conv2d_forward(x[:, :2], wt, b, 1, 1)
    with pytest.raises(ShapeError, match="dtype"):
        K.conv2d_forward(x.astype(np.float32), wt, b, 1, 1)
    with pytest.raises(ShapeError, match="float32 or float64"):
        K.conv2d_forward(x.astype(np.int64), wt, b, 1, 1)
    with pytest.raises(ShapeError, match="expected dy of shape"):
        K.conv2d_backward(np.zeros((1, 4, 4, 4)), x, wt, 1, 1)
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        K.conv2d_forward(x[:, :, :2], wt, b, 1, 0)
    with pytest.raises(ShapeError, match="output_padding"):
        K.conv_transpose2d_forward(rng.standard_normal((1, 4, 3, 3)), wt, np.zeros(3), 1, 0, 1)
    with pytest.raises(ShapeError, match="maxpool"):
        K.maxpool2d_forward(x, 2, (2, 0))
