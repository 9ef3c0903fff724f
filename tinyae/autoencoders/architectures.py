"""Encoder/decoder pairs for images (N, C, H, W) and for flat vectors, and the kinds ``tinyae train`` builds.

dense:   x -> Flatten -> [Dense, ReLU] per hidden width -> Dense(code) -> code activation
         z -> [Dense, ReLU] per hidden width, reversed -> Dense(C*H*W) -> Reshape(C, H, W)      (logits)
conv:    x -> [Conv2D 3x3 stride 2, ReLU] per channel count -> Flatten -> Dense(code) -> code activation
         z -> Dense, ReLU -> Reshape -> [ConvTranspose2D 3x3 stride 2, ReLU] ... -> C channels  (logits)
         each stride-2 stage halves H and W (padding 1), each transposed stage doubles them
         (padding 1, output_padding 1), so H and W must be divisible by 2^len(channels).
linear:  x -> Dense(D, k) ; z -> Dense(k, D): identity activations, with biases (the PCA lab's model)
"""

import numpy as np

from tinyae.layers import Conv2D, ConvTranspose2D, Dense, Flatten, Identity, ReLU, Reshape, Sigmoid
from tinyae.network import Sequential

CODE_ACTIVATIONS = {"identity": Identity, "sigmoid": Sigmoid, "relu": ReLU}


def _code_activation(name):
    if name not in CODE_ACTIVATIONS:
        raise ValueError(f"code_activation must be one of {sorted(CODE_ACTIVATIONS)}, got {name!r}")
    return CODE_ACTIVATIONS[name]()


def dense_pair(in_shape, code, hidden=(256,), code_activation="identity", rng=None, dtype=np.float32):
    """(encoder, decoder) of Dense layers for inputs of per-example shape ``in_shape``."""
    rng = rng if rng is not None else np.random.default_rng(0)
    d = int(np.prod(in_shape))
    widths = [d, *hidden]
    enc = [Flatten()]
    for a, b in zip(widths[:-1], widths[1:]):
        enc += [Dense(a, b, init="he", rng=rng, dtype=dtype), ReLU()]
    enc += [Dense(widths[-1], code, init="glorot", rng=rng, dtype=dtype), _code_activation(code_activation)]
    back = [code, *reversed(hidden)]
    dec = []
    for a, b in zip(back[:-1], back[1:]):
        dec += [Dense(a, b, init="he", rng=rng, dtype=dtype), ReLU()]
    dec += [Dense(back[-1], d, init="glorot", rng=rng, dtype=dtype), Reshape(in_shape)]
    return Sequential(enc, name="encoder"), Sequential(dec, name="decoder")


def conv_pair(in_shape, code, channels=(16, 32), code_activation="identity", rng=None, dtype=np.float32):
    """(encoder, decoder) of stride-2 convolutions for images of per-example shape (C, H, W)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    c, h, w = in_shape
    scale = 2 ** len(channels)
    if h % scale or w % scale:
        raise ValueError(f"conv_pair: H and W must be divisible by 2^{len(channels)} = {scale}, got {h}x{w}")
    hs, ws = h // scale, w // scale
    flat = channels[-1] * hs * ws
    chans = [c, *channels]
    enc = []
    for a, b in zip(chans[:-1], chans[1:]):
        enc += [Conv2D(a, b, 3, stride=2, padding=1, rng=rng, dtype=dtype), ReLU()]
    enc += [Flatten(), Dense(flat, code, init="glorot", rng=rng, dtype=dtype), _code_activation(code_activation)]
    dec = [Dense(code, flat, init="he", rng=rng, dtype=dtype), ReLU(), Reshape((channels[-1], hs, ws))]
    back = list(reversed(chans))
    for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
        last = i == len(back) - 2
        dec.append(ConvTranspose2D(a, b, 3, stride=2, padding=1, output_padding=1, init="glorot" if last else "he",
                                   rng=rng, dtype=dtype))
        if not last:
            dec.append(ReLU())
    return Sequential(enc, name="encoder"), Sequential(dec, name="decoder")


def linear_pair(d, k, rng=None, dtype=np.float64):
    """(encoder, decoder) = (Dense(d, k), Dense(k, d)): z = x W_enc + b_enc, x_hat = z W_dec + b_dec."""
    rng = rng if rng is not None else np.random.default_rng(0)
    return (Sequential([Dense(d, k, init="glorot", rng=rng, dtype=dtype)], name="encoder"),
            Sequential([Dense(k, d, init="glorot", rng=rng, dtype=dtype)], name="decoder"))
