"""Weight initializers, each drawn from an explicit ``numpy.random.Generator``.

He (Kaiming) normal keeps the variance of ReLU activations constant from layer to layer:
    W ~ N(0, 2 / fan_in)
Glorot (Xavier) uniform keeps forward and backward variances balanced for tanh/sigmoid/linear layers:
    W ~ U(-a, a),  a = sqrt(6 / (fan_in + fan_out))
References: He et al. 2015, "Delving Deep into Rectifiers"; Glorot & Bengio 2010.
"""

import numpy as np


def he_normal(shape, fan_in, rng, dtype=np.float32):
    """Draw W of ``shape`` from N(0, 2 / fan_in)."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def glorot_uniform(shape, fan_in, fan_out, rng, dtype=np.float32):
    """Draw W of ``shape`` from U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def init_weights(kind, shape, fan_in, fan_out, rng, dtype):
    """Dispatch on the initializer's name: "he" or "glorot"."""
    if kind == "he":
        return he_normal(shape, fan_in, rng, dtype)
    if kind == "glorot":
        return glorot_uniform(shape, fan_in, fan_out, rng, dtype)
    raise ValueError(f"init: expected 'he' or 'glorot', got {kind!r}")
