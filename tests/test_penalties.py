"""Gradient checks for the sparsity and contractive penalties, and what their values mean.

All in float64 with central differences; tolerance rel_error <= 1e-6 (the method's own error is ~1e-9).
"""

import numpy as np
import pytest

from tinyae.errors import ShapeError
from tinyae.gradcheck import numerical_gradient, rel_error
from tinyae.layers import Dense, Sigmoid
from tinyae.penalties import contractive, kl_sparsity, l1_activity

TOL = 1e-6


def test_kl_sparsity_gradient():
    rng = np.random.default_rng(0)
    h = rng.uniform(0.05, 0.95, size=(7, 5))
    _, dh = kl_sparsity(h, 0.1)
    numeric = numerical_gradient(lambda: kl_sparsity(h, 0.1)[0], h)
    assert rel_error(dh, numeric) <= TOL


def test_kl_sparsity_is_the_bernoulli_kl_and_zero_at_target():
    h = np.full((4, 3), 0.2)
    assert kl_sparsity(h, 0.2)[0] == pytest.approx(0.0, abs=1e-15)
    h[:, 0] = 0.5  # rho_hat_0 = 0.5: KL(0.2 || 0.5) = 0.2 log 0.4 + 0.8 log 1.6
    assert kl_sparsity(h, 0.2)[0] == pytest.approx(0.2 * np.log(0.4) + 0.8 * np.log(1.6), rel=1e-12)


def test_kl_sparsity_refuses_codes_outside_unit_interval():
    with pytest.raises(ShapeError, match=r"\[0, 1\]"):
        kl_sparsity(np.array([[0.5, 1.5]]), 0.1)
    with pytest.raises(ValueError, match="rho"):
        kl_sparsity(np.full((2, 2), 0.5), 1.0)


def test_kl_sparsity_saturated_float32_code_stays_finite():
    h = np.ones((3, 2), dtype=np.float32)  # what a float32 sigmoid returns for inputs above ~17
    value, dh = kl_sparsity(h, 0.05)
    assert np.isfinite(value) and np.all(np.isfinite(dh)) and np.all(dh > 0)


def test_l1_activity_gradient_and_value():
    rng = np.random.default_rng(1)
    h = rng.standard_normal((6, 4))
    value, dh = l1_activity(h)
    assert value == pytest.approx(np.abs(h).sum() / 6, rel=1e-14)
    assert rel_error(dh, numerical_gradient(lambda: l1_activity(h)[0], h)) <= TOL


@pytest.mark.parametrize("n, d, k", [(5, 6, 3), (1, 4, 4), (8, 3, 7)])
def test_contractive_gradient_through_a_sigmoid_layer(n, d, k):
    """Full gradient of ||J||_F^2 w.r.t. x, W and b: partials from `contractive`, chain rule by the layers."""
    rng = np.random.default_rng(n * 100 + d * 10 + k)
    dense, act = Dense(d, k, init="glorot", rng=rng, dtype=np.float64), Sigmoid()
    dense.params["W"] *= 3  # bigger weights: a bigger, less uniform penalty
    dense.params["b"][...] = rng.standard_normal(k)
    x = rng.standard_normal((n, d))

    def value():
        return contractive(act.forward(dense.forward(x)), dense.params["W"])[0]

    _, dh, dW_direct = contractive(act.forward(dense.forward(x)), dense.params["W"])
    dx = dense.backward(act.backward(dh))
    analytic = {"x": dx, "W": dense.grads["W"] + dW_direct, "b": dense.grads["b"].copy()}
    for name, arr in (("x", x), ("W", dense.params["W"]), ("b", dense.params["b"])):
        assert rel_error(analytic[name], numerical_gradient(value, arr)) <= TOL, name


def test_contractive_value_is_the_jacobian_frobenius_norm():
    """Against the Jacobian taken by finite differences, example by example."""
    rng = np.random.default_rng(3)
    dense, act = Dense(4, 3, init="glorot", rng=rng, dtype=np.float64), Sigmoid()
    x = rng.standard_normal((2, 4))
    h = act.forward(dense.forward(x))
    total = 0.0
    for n in range(2):
        xn = x[n:n + 1].copy()
        J = np.stack([numerical_gradient(lambda: act.forward(dense.forward(xn))[0, j], xn)[0] for j in range(3)])
        total += np.sum(J * J)
    assert contractive(h, dense.params["W"])[0] == pytest.approx(total / 2, rel=1e-8)
