"""Every layer's hand-written backward against central differences (float64, random upstream)."""

import numpy as np
import pytest

from tinyae.gradcheck import check_layer
from tinyae.layers import (Conv2D, ConvTranspose2D, Dense, Flatten, Identity, LeakyReLU, MaxPool2D, ReLU,
                           Reshape, Sigmoid, Softplus, Tanh, UpSample2D)

TOL = 1e-6  # central differences in float64 with h = 1e-5 reach ~1e-10; 1e-6 leaves no room for a real bug


def assert_grads_ok(layer, x, rng):
    errors = check_layer(layer, x, rng)
    assert set(errors) == {"x", *layer.params}
    for name, err in errors.items():
        assert err <= TOL, f"{layer.name} d{name}: rel error {err:.2e} > {TOL:.0e}"


def away_from_zero(rng, shape):
    """Inputs with |x| >= 0.1, so a +-1e-5 probe never crosses ReLU's kink at 0."""
    x = rng.uniform(0.1, 1.0, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (5, 3), (7, 12), (19, 32), (41, 64)])  # BLAS; the last two tiled
@pytest.mark.parametrize("init", ["he", "glorot"])
def test_dense(n_in, n_out, init):
    rng = np.random.default_rng(n_in * 100 + n_out)
    layer = Dense(n_in, n_out, init=init, rng=rng, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(n_out)  # nonzero bias so db is exercised
    assert_grads_ok(layer, rng.standard_normal((4, n_in)), rng)


@pytest.mark.parametrize("n_in,n_out", [(2, 600), (16, 7), (17, 5), (17, 32)])  # thin kernel (2 column blocks), BLAS, tiled
def test_dense_relu(n_in, n_out):
    rng = np.random.default_rng(n_in * 1000 + n_out)
    layer = Dense(n_in, n_out, rng=rng, dtype=np.float64, activation="relu")
    layer.params["b"][...] = rng.standard_normal(n_out)
    x = rng.standard_normal((4, n_in))
    assert 0 < (layer.forward(x) > 0).mean() < 1  # both sides of the ReLU are checked
    assert_grads_ok(layer, x, rng)


@pytest.mark.parametrize("layer_cls", [Identity, ReLU, LeakyReLU, Sigmoid, Tanh, Softplus])
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4, 4)])
def test_activations(layer_cls, shape):
    rng = np.random.default_rng(1)
    assert_grads_ok(layer_cls(), away_from_zero(rng, shape) * 3, rng)


@pytest.mark.parametrize("c_in,c_out,k", [(1, 2, 3), (3, 4, 3), (2, 3, 5), (2, 2, 1)])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid", 2])
def test_conv2d(c_in, c_out, k, stride, padding):
    rng = np.random.default_rng(c_in + 10 * c_out + 100 * k + 1000 * stride)
    layer = Conv2D(c_in, c_out, k, stride=stride, padding=padding, rng=rng, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(c_out)
    assert_grads_ok(layer, rng.standard_normal((2, c_in, 7, 6)), rng)


@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_relu(stride):
    rng = np.random.default_rng(40 + stride)
    layer = Conv2D(3, 9, 3, stride=stride, rng=rng, dtype=np.float64, activation="relu")
    layer.params["b"][...] = rng.standard_normal(9)
    x = rng.standard_normal((2, 3, 7, 6))
    assert 0 < (layer.forward(x) > 0).mean() < 1
    assert_grads_ok(layer, x, rng)


@pytest.mark.parametrize("stride,output_padding", [(1, 0), (2, 1)])
def test_conv_transpose2d_relu(stride, output_padding):
    rng = np.random.default_rng(50 + stride)
    layer = ConvTranspose2D(3, 9, 3, stride=stride, padding=1, output_padding=output_padding, rng=rng,
                            dtype=np.float64, activation="relu")
    layer.params["b"][...] = rng.standard_normal(9)
    x = rng.standard_normal((2, 3, 4, 5))
    assert 0 < (layer.forward(x) > 0).mean() < 1
    assert_grads_ok(layer, x, rng)


@pytest.mark.parametrize("k,stride,padding,output_padding", [
    (3, 1, 0, 0), (3, 1, 1, 0), (3, 2, 1, 1), (3, 2, 0, 0), (4, 2, 1, 0), (5, 2, 2, 1), (1, 1, 0, 0), (3, 3, 1, 2),
])
def test_conv_transpose2d(k, stride, padding, output_padding):
    rng = np.random.default_rng(k + 10 * stride + 100 * padding)
    layer = ConvTranspose2D(3, 2, k, stride=stride, padding=padding, output_padding=output_padding, rng=rng,
                            dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(2)
    assert_grads_ok(layer, rng.standard_normal((2, 3, 4, 5)), rng)


@pytest.mark.parametrize("h,w,padding", [(4, 6, "valid"), (5, 7, "valid"), (7, 7, "same"), (5, 6, "same")])
def test_maxpool2d(h, w, padding):
    rng = np.random.default_rng(h * w)
    # A random permutation has no ties, and spacing 1 between values exceeds the 1e-5 probe,
    # so no probe changes which input wins its window.
    x = rng.permutation(2 * 3 * h * w).reshape(2, 3, h, w).astype(np.float64)
    assert_grads_ok(MaxPool2D(2, padding=padding), x, rng)


def test_maxpool_same_takes_7_to_4_and_pads_never_win():
    x = -np.ones((1, 1, 7, 7))  # all negative: a zero-padded cell would wrongly win
    y = MaxPool2D(2, padding="same").forward(x)
    assert y.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(y, -1.0)


@pytest.mark.parametrize("factor", [2, 3])
def test_upsample2d(factor):
    rng = np.random.default_rng(factor)
    assert_grads_ok(UpSample2D(factor), rng.standard_normal((2, 3, 3, 4)), rng)


def test_flatten_and_reshape():
    rng = np.random.default_rng(3)
    assert_grads_ok(Flatten(), rng.standard_normal((2, 3, 4, 5)), rng)
    assert_grads_ok(Reshape((3, 2, 2)), rng.standard_normal((2, 12)), rng)


def test_gradcheck_catches_a_wrong_backward():
    """The checker itself can fail: a Dense whose dW is off by a transpose-free scale is caught."""
    rng = np.random.default_rng(4)
    layer = Dense(4, 3, rng=rng, dtype=np.float64)
    right = layer.backward
    layer.backward = lambda dy: (right(dy), layer.grads["W"].__imul__(1.001))[0]
    errors = check_layer(layer, rng.standard_normal((5, 4)), rng)
    assert errors["W"] > 1e-4 and errors["x"] <= TOL
