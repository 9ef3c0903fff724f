"""What the VAE's maths promises, tested by sampling. A VAE can pass every gradient check and still be wrong
(sigma = exp(logvar) instead of exp(logvar / 2) is self-consistent); these tests catch that kind of bug.

Tolerances are statistical: a z-score of 5 (one chance in 1.7 million per comparison), or the chi-square
quantiles at the same level, with fixed seeds so a pass is reproducible.
"""

import numpy as np
import pytest
from scipy.stats import chi2

from tinyae.errors import ShapeError
from tinyae.losses import kl_diag_gaussian
from tinyae.optim import Adam
from tinyae.vae import ClassGaussians, build_vae, importance_weighted_log_likelihood, negative_elbo
from tinyae.vae.evaluation import log_mean_exp
from tinyae.vae.gaussian import log_prob_ratio, reparameterize
from tinyae.vae.generation import lerp, slerp

Z = 5.0
ALPHA = 5.7e-7  # two-sided tail of a z-score of 5


def test_sampled_z_has_mean_mu_and_variance_exp_logvar():
    rng = np.random.default_rng(0)
    n = 20000
    mu = np.array([-3.0, 0.0, 0.5, 2.0, 7.0])
    logvar = np.array([-4.0, 0.0, 1.0, 3.0, -1.0])
    z, _ = reparameterize(mu, logvar, rng.standard_normal((n, 5)))  # (5,) broadcast against (n, 5)
    var = np.exp(logvar)
    assert np.all(np.abs(z.mean(axis=0) - mu) / np.sqrt(var / n) < Z)
    stat = (n - 1) * z.var(axis=0, ddof=1) / var  # ~ chi^2(n - 1) when Var z = exp(logvar)
    low, high = chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], n - 1)
    assert np.all((stat > low) & (stat < high)), stat / (n - 1)


def test_closed_form_kl_matches_monte_carlo():
    """KL(q || p) = E_q[log q(z) - log p(z)], estimated with 200000 samples, within 4 standard errors."""
    rng = np.random.default_rng(1)
    mu, logvar = rng.normal(0, 1, 4), rng.normal(0, 1, 4)
    eps = rng.standard_normal((200000, 4))
    z, _ = reparameterize(mu, logvar, eps)
    samples = -log_prob_ratio(z, eps, np.broadcast_to(logvar, z.shape))
    closed = kl_diag_gaussian(mu[None], logvar[None], reduction="sum")[0]
    assert abs(samples.mean() - closed) < 4 * samples.std() / np.sqrt(samples.size), (samples.mean(), closed)


def test_log_mean_exp_is_stable_and_exact():
    a = np.array([[-1000.0, 800.0], [-1001.0, 801.0], [-1002.0, 799.0]])
    expected = np.array([-1000 + np.log(np.mean(np.exp([0, -1, -2]))), 800 + np.log(np.mean(np.exp([0, 1, -1])))])
    np.testing.assert_allclose(log_mean_exp(a, axis=0), expected, rtol=1e-14)


def blobs(n, rng):
    """n 8x8 images, each a Gaussian blob at a uniform random centre: a 2-D family a 2-D latent can learn."""
    yy, xx = np.mgrid[0:8, 0:8]
    centres = rng.uniform(1.5, 6.5, (n, 2))
    images = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 3.0)
    return images[:, None].astype(np.float32)  # (N, 8, 8) -> (N, 1, 8, 8)


@pytest.fixture(scope="module")
def trained():
    """A small dense VAE trained for 300 steps on 1000 blob images; 500 held-out images; the untrained loss."""
    rng = np.random.default_rng(2)
    images = blobs(1500, rng)
    vae = build_vae((1, 8, 8), 2, encoder=(32,), rng=rng)
    opt = Adam(1e-2)
    untrained = negative_elbo(vae, images[1000:], images[1000:], np.random.default_rng(0))["neg_elbo"]
    for _ in range(300):
        vae.loss_and_grads(images[rng.integers(0, 1000, 64)], None, rng)
        opt.step(vae.parameters())
    return vae, images[1000:], untrained


def test_training_lowers_the_held_out_negative_elbo(trained):
    vae, held_out, untrained = trained
    after = negative_elbo(vae, held_out, held_out, np.random.default_rng(0))
    assert after["neg_elbo"] < untrained - 5, (untrained, after)
    assert after["kl"] > 0.5  # the latent is in use, not collapsed onto the prior


@pytest.mark.parametrize("state", ["untrained", "trained"])
def test_importance_weighted_bound_is_the_elbo_at_k1_and_rises_with_k(trained, state):
    """E[L_1] = ELBO, E[L_10] > E[L_1], E[L_100] >= E[L_10]: averaged over 3 seeds, compared image by image.

    Per-image differences cancel the image-to-image spread of log p(x), leaving only Monte Carlo noise.
    The trained model's posterior is nearly exact here, so its L_100 - L_10 is ~0.01 nats: for that
    pair only "does not fall" is asserted.
    """
    vae, x, _ = trained
    if state == "untrained":
        vae = build_vae((1, 8, 8), 2, encoder=(32,), rng=np.random.default_rng(5))
    seeds = range(3)
    runs = {k: [importance_weighted_log_likelihood(vae, x, x, k, np.random.default_rng(s)) for s in seeds]
            for k in (1, 10, 100)}
    bound = {k: np.mean(r, axis=0) for k, r in runs.items()}  # (N,) per image, averaged over seeds
    se = lambda d: d.std() / np.sqrt(d.size)
    elbo = -np.mean([negative_elbo(vae, x, x, np.random.default_rng(10 + s))["neg_elbo"] for s in seeds])
    noise = (runs[1][0] - runs[1][1]) / np.sqrt(len(seeds))  # the spread of a difference of two such means
    assert abs(bound[1].mean() - elbo) < Z * se(noise), (bound[1].mean(), elbo)  # two code paths, one number
    assert (bound[10] - bound[1]).mean() > Z * se(bound[10] - bound[1])
    assert (bound[100] - bound[10]).mean() > -Z * se(bound[100] - bound[10])
    assert bound[100].mean() > elbo


def test_reconstruction_beats_a_random_code(trained):
    vae, x, _ = trained
    err_own = np.mean((vae.reconstruct(x) - x) ** 2)
    err_other = np.mean((vae.reconstruct(x)[::-1] - x) ** 2)
    assert err_own < 0.5 * err_other


def test_logvar_clamp_keeps_an_exploding_encoder_finite():
    rng = np.random.default_rng(3)
    vae = build_vae((1, 4, 4), 2, encoder=(8,), rng=rng)
    vae.encoder.layers[-1].params["b"][2:] = [200.0, -200.0]  # raw logvar far beyond [-10, 10]
    x = rng.random((5, 1, 4, 4)).astype(np.float32)
    mu, logvar, inside = vae.posterior(x)
    np.testing.assert_array_equal(logvar, np.tile([10.0, -10.0], (5, 1)))
    loss, parts = vae.loss_and_grads(x, None, rng)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for _, _, g in vae.parameters())
    np.testing.assert_array_equal(vae.encoder.layers[-1].grads["b"][2:], 0)  # flat clamp: no gradient
    assert np.all(vae.encoder.layers[-1].grads["b"][:2] != 0)
    vae.logvar_bounds = (-1e9, 1e9)  # without the clamp, exp(100) overflows float32 and z becomes inf
    with np.errstate(all="ignore"), pytest.raises(ShapeError, match="finite"):
        vae.loss_and_grads(x, None, rng)


def test_class_gaussians_fit_and_sample_their_class():
    rng = np.random.default_rng(4)
    mu = np.concatenate([rng.normal([0, 5], [1, 2], (4000, 2)), rng.normal([-3, 0], [0.5, 0.1], (4000, 2))])
    labels = np.repeat([0, 1], 4000)
    g = ClassGaussians.fit(mu, labels)
    np.testing.assert_allclose(g.mean, [[0, 5], [-3, 0]], atol=Z * 2 / np.sqrt(4000))
    np.testing.assert_allclose(g.var, [[1, 4], [0.25, 0.01]], rtol=Z * np.sqrt(2 / 4000))
    z = g.sample(1, 20000, rng)
    np.testing.assert_allclose(z.mean(axis=0), [-3, 0], atol=Z * 0.5 / np.sqrt(20000))
    np.testing.assert_allclose(z.std(axis=0), [0.5, 0.1], rtol=Z / np.sqrt(2 * 20000))
    with pytest.raises(ValueError, match="each at least once"):
        ClassGaussians.fit(mu[:10], np.array([0] * 5 + [2] * 5))


def test_interpolation_paths():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    path = lerp(a, b, 5)
    np.testing.assert_allclose(path[[0, 2, 4]], [a, (a + b) / 2, b])
    arc = slerp(a, b, 5)
    np.testing.assert_allclose(arc[[0, 4]], [a, b], atol=1e-12)
    angles = np.arctan2(arc[:, 1], arc[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 8)  # equal angular steps along a quarter turn
    np.testing.assert_allclose(np.linalg.norm(arc, axis=1), 3.0)  # on the circle, where lerp cuts inside
    np.testing.assert_allclose(slerp(a, 2 * a, 3), lerp(a, 2 * a, 3))  # parallel: falls back to a line
