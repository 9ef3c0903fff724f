"""activation="relu" on Dense, Conv2D and ConvTranspose2D is the layer followed by ReLU, to the bit."""

import json

import numpy as np
import pytest

from tinyae.layers import Conv2D, ConvTranspose2D, Dense, ReLU, layer_from_config
from tinyae.network import Sequential

LAYERS = {  # name: (constructor, per-sample input shape)
    "dense thin": (lambda **kw: Dense(2, 700, **kw), (2,)),
    "dense wide": (lambda **kw: Dense(30, 9, **kw), (30,)),
    "dense tiled": (lambda **kw: Dense(30, 32, **kw), (30,)),
    "conv": (lambda **kw: Conv2D(3, 10, **kw), (3, 6, 5)),
    "conv stride 2": (lambda **kw: Conv2D(3, 10, stride=2, padding=1, **kw), (3, 6, 5)),
    "convT stride 2": (lambda **kw: ConvTranspose2D(4, 9, stride=2, padding=1, output_padding=1, **kw), (4, 3, 5)),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_relu_equals_layer_then_relu(name, dtype):
    make, shape = LAYERS[name]
    rng = np.random.default_rng(len(name))
    fused = make(rng=np.random.default_rng(0), dtype=dtype, activation="relu")
    plain = make(rng=np.random.default_rng(0), dtype=dtype)
    for layer in (fused, plain):
        layer.params["b"][...] = np.random.default_rng(1).standard_normal(layer.params["b"].shape)
    pair = Sequential([plain, ReLU()])
    x = rng.standard_normal((3, *shape)).astype(dtype)
    y = fused.forward(x)
    np.testing.assert_array_equal(y, pair.forward(x))
    assert 0 < (y > 0).mean() < 1
    dy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_array_equal(fused.backward(dy), pair.backward(dy))
    for key in fused.grads:
        np.testing.assert_allclose(fused.grads[key], plain.grads[key], rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-6 if dtype == np.float32 else 1e-13, err_msg=key)


@pytest.mark.parametrize("name", LAYERS)
def test_activation_survives_the_config_round_trip(name):
    layer = LAYERS[name][0](activation="relu")
    config = json.loads(json.dumps({"type": type(layer).__name__, **layer.config()}))
    assert layer_from_config(config).activation == "relu"
    assert layer_from_config({k: v for k, v in config.items() if k != "activation"}).activation is None  # older files


def test_summary_names_the_activation():
    net = Sequential([Conv2D(1, 4, activation="relu"), Conv2D(4, 1)])
    lines = net.summary((1, 5, 5)).splitlines()
    assert "Conv2D + relu" in lines[3] and "+" not in lines[4]


@pytest.mark.parametrize("make", [lambda a: Dense(2, 3, activation=a), lambda a: Conv2D(1, 2, activation=a),
                                  lambda a: ConvTranspose2D(1, 2, activation=a)])
def test_unknown_activation_is_refused_by_name(make):
    with pytest.raises(ValueError, match="activation must be None or 'relu', got 'tanh'"):
        make("tanh")
