"""Optimizers: each step against the textbook update written out independently, and convergence."""

import numpy as np
import pytest

from tinyae import optim
from tinyae.optim import SGD, Adam, RMSprop


def run(opt, grads, w0):
    """Apply opt to one parameter for a sequence of given gradients; return the trajectory."""
    w = np.array(w0, dtype=np.float64)
    out = []
    for g in grads:
        opt.step([("w", w, np.array(g, dtype=np.float64))])
        out.append(w.copy())
    return np.array(out)


GRADS = [[0.5, -1.0], [0.2, 0.3], [-0.7, 0.1], [1.5, -0.4]]
W0 = [1.0, -2.0]


def test_sgd_momentum_and_nesterov_match_the_formulas():
    lr, mu = 0.1, 0.9
    w, v = np.array(W0), np.zeros(2)
    w_n, v_n = np.array(W0), np.zeros(2)
    expected, expected_n = [], []
    for g in map(np.array, GRADS):
        v = mu * v + g
        w = w - lr * v
        expected.append(w)
        v_n = mu * v_n + g
        w_n = w_n - lr * (g + mu * v_n)
        expected_n.append(w_n)
    np.testing.assert_allclose(run(SGD(lr, momentum=mu), GRADS, W0), expected, rtol=1e-14)
    np.testing.assert_allclose(run(SGD(lr, momentum=mu, nesterov=True), GRADS, W0), expected_n, rtol=1e-14)


def test_rmsprop_matches_the_formula():
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, s, expected = np.array(W0), np.zeros(2), []
    for g in map(np.array, GRADS):
        s = rho * s + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
        expected.append(w)
    np.testing.assert_allclose(run(RMSprop(lr, rho, eps), GRADS, W0), expected, rtol=1e-14)


def test_adam_matches_the_bias_corrected_formula():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    w, m, v, expected = np.array(W0), np.zeros(2), np.zeros(2), []
    for t, g in enumerate(map(np.array, GRADS), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(w)
    np.testing.assert_allclose(run(Adam(lr, b1, b2, eps), GRADS, W0), expected, rtol=1e-12)


def test_weight_decay_adds_wd_times_w_to_the_gradient():
    plain = run(SGD(0.1), [[0.5 + 0.01 * 1.0, -1.0 + 0.01 * -2.0]], W0)
    decayed = run(SGD(0.1, weight_decay=0.01), [[0.5, -1.0]], W0)
    np.testing.assert_allclose(decayed, plain, rtol=1e-15)


@pytest.mark.parametrize("opt", [SGD(0.1, momentum=0.9), SGD(0.1, momentum=0.9, nesterov=True),
                                 RMSprop(0.05), Adam(0.1)], ids=["sgd", "nesterov", "rmsprop", "adam"])
def test_each_optimizer_minimizes_a_quadratic(opt):
    target = np.array([3.0, -1.0, 0.5])
    w = np.zeros(3)
    for _ in range(500):
        g = 2 * (w - target)
        opt.step([("w", w, g)])
    np.testing.assert_allclose(w, target, atol=1e-2)


def test_step_keeps_the_parameter_dtype_and_state_per_name():
    opt = Adam(0.01)
    a, b = np.ones(3, dtype=np.float32), np.ones(2, dtype=np.float32)
    opt.step([("a", a, np.full(3, 0.5, np.float32)), ("b", b, np.full(2, -0.5, np.float32))])
    assert a.dtype == np.float32 and set(opt.state) == {"a", "b"}
    assert np.all(a < 1) and np.all(b > 1)


def test_state_buffers_are_made_once_and_updated_in_place(monkeypatch):
    made = []
    zeros_like = np.zeros_like
    monkeypatch.setattr(optim.np, "zeros_like", lambda a: made.append(a.shape) or zeros_like(a))
    opt = Adam(0.01)
    w = np.ones(3)
    opt.step([("w", w, np.full(3, 0.5))])
    m = opt.state["w"]["m"]
    opt.step([("w", w, np.full(3, 0.5))])
    assert made == [(3,), (3,)]  # m and v, at the first step only
    assert opt.state["w"]["m"] is m and np.all(m > 0.05)


def test_bad_hyperparameters_are_named():
    with pytest.raises(ValueError, match="lr must be > 0"):
        Adam(lr=0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD(0.1, nesterov=True)
