"""Sequential: chain rule end to end, summary, state round trip, and clear errors on bad input."""

import numpy as np
import pytest

from tinyae.errors import ShapeError
from tinyae.gradcheck import numerical_gradient, rel_error
from tinyae.layers import (Conv2D, ConvTranspose2D, Dense, Flatten, MaxPool2D, ReLU, Reshape, Sigmoid, Tanh,
                           UpSample2D)
from tinyae.losses import mse
from tinyae.network import Sequential
from tinyae.optim import Adam


def small_conv_autoencoder(rng, dtype=np.float32):
    return Sequential([
        Conv2D(1, 8, 3, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2),          # (1, 8, 8) -> (8, 4, 4)
        Conv2D(8, 4, 3, rng=rng, dtype=dtype), ReLU(),                          # -> (4, 4, 4)
        UpSample2D(2), Conv2D(4, 8, 3, rng=rng, dtype=dtype), ReLU(),           # -> (8, 8, 8)
        Conv2D(8, 1, 3, rng=rng, dtype=dtype),                                  # -> (1, 8, 8)
    ])


def test_whole_network_gradient_through_the_chain_rule():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(6, 5, rng=rng, dtype=np.float64), Tanh(), Dense(5, 4, rng=rng, dtype=np.float64),
                      Sigmoid(), Reshape((2, 2)), Flatten(), Dense(4, 3, rng=rng, dtype=np.float64)])
    x, target = rng.standard_normal((3, 6)), rng.standard_normal((3, 3))
    loss = lambda: mse(net.forward(x), target)[0]
    _, dy = mse(net.forward(x), target)
    dx = net.backward(dy)
    assert rel_error(dx, numerical_gradient(loss, x)) <= 1e-6
    for name, p, g in net.parameters():
        assert rel_error(g.copy(), numerical_gradient(loss, p)) <= 1e-6, name


@pytest.mark.parametrize("first", ["conv", "conv_transpose", "dense"])
def test_skipping_the_input_gradient_returns_none_and_leaves_every_grad_the_same(first):
    rng = np.random.default_rng(0)
    layer, x_shape = {
        "conv": (Conv2D(2, 3, 3, stride=2, padding=1, rng=rng, dtype=np.float64), (4, 2, 5, 5)),
        "conv_transpose": (ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1, rng=rng,
                                           dtype=np.float64), (4, 2, 5, 5)),
        "dense": (Dense(50, 40, rng=rng, dtype=np.float64), (4, 50)),
    }[first]
    net = Sequential([layer, ReLU(), Flatten() if len(x_shape) == 4 else Tanh()])
    x = rng.standard_normal(x_shape)
    dy = rng.standard_normal(net.forward(x).shape)
    assert net.backward(dy) is not None
    full = [g.copy() for _, _, g in net.parameters()]
    assert net.backward(dy, input_grad=False) is None
    for (name, _, g), g_full in zip(net.parameters(), full):
        np.testing.assert_array_equal(g, g_full, err_msg=name)


def test_summary_lists_shapes_and_parameter_counts():
    net = small_conv_autoencoder(np.random.default_rng(0))
    text = net.summary((1, 8, 8))
    assert "(8, 4, 4)" in text and "(1, 8, 8)" in text
    assert f"Total params: {8 * 9 + 8 + 4 * 8 * 9 + 4 + 8 * 4 * 9 + 8 + 8 * 9 + 1:,}" in text


def test_tiny_conv_autoencoder_overfits_a_handful_of_images():
    rng = np.random.default_rng(1)
    net = small_conv_autoencoder(rng)
    # Eight soft blobs at random centres: structured images that a 64-number code can memorize.
    yy, xx = np.mgrid[0:8, 0:8]
    centres = rng.uniform(1, 7, size=(8, 2))
    x = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 4.0)
    x = x[:, None].astype(np.float32)  # (8, 8, 8) -> (8, 1, 8, 8)
    opt = Adam(3e-3)
    first = None
    for _ in range(300):
        loss, dy = mse(net.forward(x), x)
        first = loss if first is None else first
        net.backward(dy)
        opt.step(net.parameters())
    assert loss < first / 10, f"loss fell only from {first:.4f} to {loss:.4f}"


def test_config_and_state_round_trip_reproduce_outputs_exactly():
    rng = np.random.default_rng(2)
    net = small_conv_autoencoder(rng)
    clone = Sequential.from_config(net.config(), rng=np.random.default_rng(99))
    clone.load_state_dict(net.state_dict())
    x = rng.uniform(size=(2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(clone.forward(x), net.forward(x))


def test_float32_by_default_and_float64_throughout():
    rng = np.random.default_rng(3)
    assert small_conv_autoencoder(rng).forward(np.zeros((1, 1, 8, 8), np.float32)).dtype == np.float32
    net64 = small_conv_autoencoder(rng, np.float64)
    assert net64.forward(np.zeros((1, 1, 8, 8))).dtype == np.float64


def test_bad_input_names_the_layer_and_what_it_expected():
    net = small_conv_autoencoder(np.random.default_rng(4))
    with pytest.raises(ShapeError, match=r"Sequential\[0\] Conv2D: expected input of shape \(N, 1, \*, \*\), got \(2, 3, 8, 8\)"):
        net.forward(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ShapeError, match=r"Conv2D: expected float32 input .* got float64"):
        net.forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ShapeError, match=r"expected float32 or float64 input, got int64"):
        net.forward(np.zeros((2, 1, 8, 8), np.int64))
    x = np.zeros((2, 1, 8, 8), np.float32)
    x[1, 0, 3, 3] = np.nan
    with pytest.raises(ShapeError, match=r"expected finite input, got 1 NaN/inf"):
        net.forward(x)
    dense = Sequential([Dense(4, 2)])
    with pytest.raises(ShapeError, match=r"Dense: expected input of shape \(N, 4\), got \(3, 5\)"):
        dense.forward(np.zeros((3, 5), np.float32))
    dense.forward(np.zeros((3, 4), np.float32))
    with pytest.raises(ShapeError, match=r"Dense.backward: expected dy of shape \(3, 2\), got \(3, 3\)"):
        dense.backward(np.zeros((3, 3), np.float32))


def test_load_state_dict_rejects_mismatches():
    net = Sequential([Dense(4, 2)])
    with pytest.raises(ShapeError, match=r"0.W expected shape \(4, 2\), got \(2, 4\)"):
        net.load_state_dict({"0.W": np.zeros((2, 4), np.float32), "0.b": np.zeros(2, np.float32)})
    with pytest.raises(ShapeError, match=r"missing \['0.b'\]"):
        net.load_state_dict({"0.W": np.zeros((4, 2), np.float32)})
