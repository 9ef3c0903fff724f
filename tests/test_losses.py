"""Losses: gradients against central differences, the stated reductions, and numerical stability."""

import numpy as np
import pytest

from tinyae.errors import ShapeError
from tinyae.gradcheck import numerical_gradient, rel_error
from tinyae.losses import bce_with_logits, kl_diag_gaussian, mse

TOL = 1e-6
REDUCTIONS = ["mean", "sum", "batch"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_gradient(reduction):
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    _, grad = mse(pred, target, reduction)
    assert rel_error(grad, numerical_gradient(lambda: mse(pred, target, reduction)[0], pred)) <= TOL


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_gradient(reduction):
    rng = np.random.default_rng(1)
    logits, target = 3 * rng.standard_normal((4, 6)), rng.uniform(size=(4, 6))
    _, grad = bce_with_logits(logits, target, reduction)
    num = numerical_gradient(lambda: bce_with_logits(logits, target, reduction)[0], logits)
    assert rel_error(grad, num) <= TOL


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_gradient(reduction):
    rng = np.random.default_rng(2)
    mu, logvar = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    _, dmu, dlogvar = kl_diag_gaussian(mu, logvar, reduction)
    f = lambda: kl_diag_gaussian(mu, logvar, reduction)[0]
    assert rel_error(dmu, numerical_gradient(f, mu)) <= TOL
    assert rel_error(dlogvar, numerical_gradient(f, logvar)) <= TOL


def test_reductions_divide_by_what_they_say():
    rng = np.random.default_rng(3)
    pred, target = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    total = np.sum((pred - target) ** 2)
    assert mse(pred, target, "sum")[0] == pytest.approx(total, rel=1e-12)
    assert mse(pred, target, "mean")[0] == pytest.approx(total / 24, rel=1e-12)
    assert mse(pred, target, "batch")[0] == pytest.approx(total / 4, rel=1e-12)


def test_bce_matches_the_probability_form_and_survives_huge_logits():
    rng = np.random.default_rng(4)
    logits, target = rng.standard_normal(50), rng.uniform(size=50)
    p = 1 / (1 + np.exp(-logits))
    naive = -np.sum(target * np.log(p) + (1 - target) * np.log(1 - p))
    assert bce_with_logits(logits, target, "sum")[0] == pytest.approx(naive, rel=1e-12)
    big = np.array([-1000.0, 1000.0], dtype=np.float32)
    value, grad = bce_with_logits(big, np.array([1.0, 0.0], dtype=np.float32), "sum")
    assert value == pytest.approx(2000.0) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [-1.0, 1.0])


def test_kl_is_zero_at_the_prior_and_matches_closed_form():
    assert kl_diag_gaussian(np.zeros((2, 3)), np.zeros((2, 3)))[0] == 0.0
    # KL(N(1, e) || N(0, 1)) = 0.5 (1 + e - 1 - 1) per dimension
    value = kl_diag_gaussian(np.ones((1, 1)), np.ones((1, 1)), "sum")[0]
    assert value == pytest.approx(0.5 * (1 + np.e - 1 - 1), rel=1e-12)


def test_losses_name_shape_mismatches_and_bad_reductions():
    with pytest.raises(ShapeError, match=r"mse: expected target of shape \(2, 3\).*got \(3, 2\)"):
        mse(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="reduction"):
        bce_with_logits(np.zeros(3), np.zeros(3), "avg")
