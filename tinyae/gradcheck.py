"""Central-difference gradient checks (after CS231n's gradient_check.py).

For a scalar L(x), each partial derivative is estimated as
    dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2h),
with error O(h^2). In float64 with h = 1e-5 that is ~1e-10 relative, far below the 1e-6 we
require, so a real bug (a wrong sign, a missing term, a transposed index) cannot hide.

A layer is checked through the scalar L = sum(y * G) for a *random* upstream gradient G: an
all-ones G would let errors that cancel across outputs pass unseen.
"""

import numpy as np


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|), the scale-free error between two gradient arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300))


def numerical_gradient(f, x, h=1e-5):
    """dL/dx by central differences; f() reads x (which is perturbed in place) and returns L."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def check_layer(layer, x, rng, h=1e-5):
    """Relative errors of a layer's analytic gradients, for input "x" and every parameter key.

    The layer and x must be float64. Returns e.g. {"x": 3e-11, "W": 5e-12, "b": 1e-12}.
    """
    if x.dtype != np.float64:
        raise ValueError(f"check_layer: expected float64 input, got {x.dtype}")
    x = x.copy()
    upstream = rng.standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(layer.forward(x) * upstream))

    layer.forward(x)
    dx = layer.backward(upstream)
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    errors = {"x": rel_error(analytic["x"], numerical_gradient(loss, x, h))}
    for k, p in layer.params.items():
        errors[k] = rel_error(analytic[k], numerical_gradient(loss, p, h))
    return errors
