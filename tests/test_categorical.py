"""The Categorical (palette) likelihood: softmax cross-entropy from logits, its gradient, stability, one_hot, mode.

Gradient checks run in float64 with central differences (h = 1e-5, truncation error ~1e-10): the 1e-6 tolerance
leaves no room for a wrong term. A loss is a scalar, so its upstream gradient is a random scalar g: the checked
function is g * L, never L itself.
"""

import numpy as np
import pytest

from tinyae.errors import ShapeError
from tinyae.gradcheck import numerical_gradient, rel_error
from tinyae.layers.activations import log_softmax, softmax
from tinyae.losses import softmax_cross_entropy
from tinyae.vae import Categorical, build_vae, mode, one_hot

TOL = 1e-6
SHAPE = (3, 4, 3, 2)  # (N, K, H, W)


def targets(kind, rng, shape=SHAPE):
    """One-hot, soft (a random distribution per pixel) or unnormalized (positive weights: sum_k t != 1)."""
    n, k, h, w = shape
    if kind == "one-hot":
        return one_hot(rng.integers(0, k, (n, h, w)), k, np.float64)
    if kind == "soft":
        return np.moveaxis(rng.dirichlet(np.ones(k), (n, h, w)), -1, 1)  # (N, H, W, K) -> (N, K, H, W)
    return rng.uniform(0.1, 2.0, shape)


@pytest.mark.parametrize("reduction", ["mean", "sum", "batch"])
@pytest.mark.parametrize("kind", ["one-hot", "soft", "unnormalized"])
def test_softmax_cross_entropy_gradient(reduction, kind):
    rng = np.random.default_rng(["mean", "sum", "batch"].index(reduction))
    logits, target = rng.normal(0, 2, SHAPE), targets(kind, rng)
    g = rng.normal()  # the random upstream gradient dF/dL of some F(L)
    _, grad = softmax_cross_entropy(logits, target, axis=1, reduction=reduction)
    numeric = numerical_gradient(lambda: g * softmax_cross_entropy(logits, target, 1, reduction)[0], logits)
    assert rel_error(g * grad, numeric) <= TOL


def test_softmax_cross_entropy_on_another_axis_equals_axis_1():
    rng = np.random.default_rng(1)
    logits, target = rng.normal(0, 2, SHAPE), targets("soft", rng)
    last = softmax_cross_entropy(np.moveaxis(logits, 1, -1), np.moveaxis(target, 1, -1), axis=-1)
    first = softmax_cross_entropy(logits, target, axis=1)
    assert np.isclose(last[0], first[0], rtol=1e-14)
    np.testing.assert_allclose(np.moveaxis(last[1], -1, 1), first[1], rtol=1e-14)


def test_reductions_divide_by_positions_or_batch():
    rng = np.random.default_rng(2)
    logits, target = rng.normal(0, 2, SHAPE), targets("one-hot", rng)
    n, _, h, w = SHAPE
    total = softmax_cross_entropy(logits, target, reduction="sum")[0]
    assert np.isclose(softmax_cross_entropy(logits, target, reduction="mean")[0] * n * h * w, total, rtol=1e-14)
    assert np.isclose(softmax_cross_entropy(logits, target, reduction="batch")[0] * n, total, rtol=1e-14)


def test_nll_is_minus_log_probability_of_the_target_category_summed_over_pixels():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, SHAPE)
    idx = rng.integers(0, SHAPE[1], (SHAPE[0],) + SHAPE[2:])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # the naive softmax: fine for |a| < 20
    expected = [-sum(np.log(p[n, idx[n, i, j], i, j]) for i in range(SHAPE[2]) for j in range(SHAPE[3]))
                for n in range(SHAPE[0])]
    likelihood = Categorical(SHAPE[1])
    np.testing.assert_allclose(likelihood.nll(logits, one_hot(idx, SHAPE[1], np.float64)), expected, rtol=1e-12)
    value = likelihood.loss_and_grad(logits, one_hot(idx, SHAPE[1], np.float64))[0]
    assert np.isclose(value, np.mean(expected), rtol=1e-12)


@pytest.mark.parametrize("kind", ["one-hot", "soft"])
def test_categorical_likelihood_gradient(kind):
    rng = np.random.default_rng(4)
    logits, target = rng.normal(0, 2, SHAPE), targets(kind, rng)
    g = rng.normal()
    likelihood = Categorical(SHAPE[1])
    _, grad = likelihood.loss_and_grad(logits, target)
    numeric = numerical_gradient(lambda: g * likelihood.loss_and_grad(logits, target)[0], logits)
    assert rel_error(g * grad, numeric) <= TOL
    # the per-image nll is the same loss: its batch mean has the same gradient
    numeric = numerical_gradient(lambda: g * likelihood.nll(logits, target).mean(), logits)
    assert rel_error(g * grad, numeric) <= TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_sum_to_one(dtype):
    logits = np.random.default_rng(5).normal(0, 10, SHAPE).astype(dtype)
    p = Categorical(SHAPE[1]).mean(logits)
    assert p.dtype == dtype and p.min() >= 0 and p.max() <= 1
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=0, atol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(np.exp(log_softmax(logits.astype(np.float64), 1)), p, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_give_finite_exact_values_and_gradients(dtype):
    """Category 0 at +1e4, the rest at -1e4: e^1e4 overflows, but p = one-hot(0) and the loss is 2e4 per miss."""
    rng = np.random.default_rng(6)
    n, k, h, w = SHAPE
    logits = np.full(SHAPE, -1e4, dtype)
    logits[:, 0] = 1e4
    idx = rng.integers(0, k, (n, h, w))
    target = one_hot(idx, k, dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, no 0 * inf, no log 0
        value, grad = softmax_cross_entropy(logits, target, reduction="sum")
        nll = Categorical(k).nll(logits, target)
    assert value == pytest.approx(2e4 * np.count_nonzero(idx), rel=1e-12)
    np.testing.assert_allclose(nll, 2e4 * np.count_nonzero(idx.reshape(n, -1), axis=1), rtol=1e-12)
    np.testing.assert_array_equal(grad, one_hot(np.zeros_like(idx), k, dtype) - target)
    assert np.isfinite(softmax(logits, 1)).all() and np.isfinite(log_softmax(logits, 1)).all()


def test_mode_ties_go_to_the_lowest_index():
    logits = np.array([[[[1.0, 0.0, 2.0, 5.0]],   # category 0
                        [[3.0, 0.0, 2.0, 5.0]],   # category 1
                        [[3.0, 0.0, 1.0, 7.0]]]])  # category 2: (N=1, K=3, H=1, W=4)
    out = mode(logits)
    assert out.dtype == np.uint8
    assert out.tolist() == [[[1, 0, 0, 2]]]  # 1 and 2 tie at 3 -> 1; all tie at 0 -> 0; 0 and 1 tie at 2 -> 0


def test_mode_inverts_one_hot():
    idx = np.random.default_rng(7).integers(0, 5, (4, 6, 3))
    x = one_hot(idx, 5)
    assert x.shape == (4, 5, 6, 3) and x.dtype == np.float32
    assert np.array_equal(x.sum(axis=1), np.ones((4, 6, 3)))
    assert np.array_equal(mode(x), idx)
    assert np.array_equal(x[1, idx[1, 2, 0], 2, 0], 1.0)
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])  # (N,) labels -> (N, K)


def test_one_hot_and_mode_errors_name_what_was_found():
    with pytest.raises(ValueError, match=r"indices in 0..2, got values in \[0, 3\]"):
        one_hot(np.array([[0, 3]]), 3)
    with pytest.raises(ShapeError, match="integer array"):
        one_hot(np.array([[0.0, 1.0]]), 3)
    with pytest.raises(ShapeError, match="1 <= K <= 256"):
        mode(np.zeros((1, 300, 2, 2)))


def test_softmax_cross_entropy_errors():
    a = np.zeros(SHAPE)
    with pytest.raises(ShapeError, match="expected target of shape"):
        softmax_cross_entropy(a, a[:, :2])
    with pytest.raises(ValueError, match="axis 0 is the batch"):
        softmax_cross_entropy(a, a, axis=0)
    with pytest.raises(ValueError, match="axis 0 is the batch"):
        softmax_cross_entropy(a, a, axis=4)
    with pytest.raises(ValueError, match="reduction must be"):
        softmax_cross_entropy(a, a, reduction="average")
    with pytest.raises(ShapeError, match=r"logits of shape \(N, 3, ...\), got \(3, 4, 3, 2\)"):
        Categorical(3).nll(a, a)
    with pytest.raises(ValueError, match="n_categories must be an integer >= 2"):
        Categorical(1)


def small_categorical_vae(dtype=np.float64):
    vae = build_vae((3, 3, 2), 2, encoder=(5,), decoder=(4,), likelihood="categorical",
                    rng=np.random.default_rng(8), dtype=dtype)
    for name, p, _ in vae.parameters():
        if name.endswith(".b"):  # nonzero biases keep ReLU inputs off the kink at 0
            p[...] = np.random.default_rng(9).normal(0, 0.1, p.shape)
    return vae


def test_build_vae_categorical_decodes_probabilities_and_has_exact_gradients():
    vae = small_categorical_vae()
    assert vae.likelihood.config() == {"kind": "categorical", "n_categories": 3}
    rng = np.random.default_rng(10)
    x = one_hot(rng.integers(0, 3, (4, 3, 2)), 3, np.float64)
    target = targets("soft", rng, x.shape)
    eps = rng.standard_normal((4, 2))
    z = rng.standard_normal((5, 2))
    np.testing.assert_allclose(vae.decode(z), softmax(vae.decoder.forward(z, training=False), 1), rtol=1e-14)

    def loss():
        mu, logvar, _ = vae.posterior(x)
        logits = vae.decoder.forward(mu + np.exp(0.5 * logvar) * eps, training=False)
        return vae.likelihood.nll(logits, target).mean() + 0.5 * np.sum(mu ** 2 + np.exp(logvar) - logvar - 1) / 4

    vae.loss_and_grads_given_eps(x, target, eps, 1.0)
    for name, p, g in vae.parameters():
        assert rel_error(g, numerical_gradient(loss, p)) <= TOL, name


def test_bernoulli_decode_is_still_sigmoid():
    vae = build_vae((1, 3, 3), 2, encoder=(4,), rng=np.random.default_rng(11), dtype=np.float64)
    z = np.random.default_rng(12).standard_normal((3, 2))
    logits = vae.decoder.forward(z, training=False)
    np.testing.assert_allclose(vae.decode(z), 1 / (1 + np.exp(-logits)), rtol=1e-14)


def test_categorical_targets_must_be_distributions_over_axis_1():
    vae = small_categorical_vae(np.float32)
    rng = np.random.default_rng(13)
    x = one_hot(rng.integers(0, 3, (2, 3, 2)), 3)
    with pytest.raises(ShapeError, match="sum to 1 over the 3 categories .* off by 1"):
        vae.loss_and_grads(x, np.zeros_like(x), rng)
    halves = x * 0.5
    with pytest.raises(ShapeError, match="off by 0.5"):
        vae.evaluate(halves, None, rng)
    with pytest.raises(ShapeError, match=r"Categorical likelihood needs targets in \[0, 1\]"):
        vae.loss_and_grads(x, 2 * x - 0.5, rng)
    with pytest.raises(ShapeError, match=r"expected target of shape \(N, 3, 3, 2\)"):
        vae.loss_and_grads(x, x[:, :2], rng)
    vae.loss_and_grads(x, x * np.float32(1 - 5e-5), rng)  # sums off by 5e-5, within the 1e-4 allowed
    with pytest.raises(ShapeError, match="one image channel per category"):
        type(vae)(vae.encoder, vae.decoder, (3, 3, 2), 2, Categorical(4))
