"""VAE mechanics: gradients through the whole loss (eps held fixed), builders, warm-up, errors, checkpoints.

Gradient checks run in float64 with central differences (h = 1e-5, truncation error ~1e-10), so the
1e-6 tolerance leaves four orders of magnitude for rounding and none for a wrong term.
"""

import numpy as np
import pytest

from tinyae import models
from tinyae.errors import CheckpointError, ShapeError
from tinyae.gradcheck import numerical_gradient, rel_error
from tinyae.losses import bce_with_logits
from tinyae.vae import VAE, Bernoulli, Gaussian, build_vae, tutorial_conv_vae, tutorial_dense_vae, vae_figures
from tinyae.vae.gaussian import clamp_logvar, reparameterize, reparameterize_backward

TOL = 1e-6


def tiny_vae(kind, likelihood="bernoulli", beta=1.0, seed=0):
    """A float64 VAE small enough to difference every parameter: dense (1, 4, 4) or conv (1, 8, 8)."""
    rng = np.random.default_rng(seed)
    if kind == "dense":
        vae = build_vae((1, 4, 4), 3, encoder=(6,), decoder=(5,), likelihood=likelihood, sigma=0.5, beta=beta,
                        rng=rng, dtype=np.float64)
    else:
        vae = build_vae((1, 8, 8), 2, encoder=(2,), decoder=(2,), encoder_kind="conv", decoder_kind="conv",
                        likelihood=likelihood, sigma=0.5, beta=beta, rng=rng, dtype=np.float64)
    for name, p, _ in vae.parameters():
        if name.endswith(".b"):  # zero biases put outputs fed only by dead ReLUs exactly on the ReLU's kink
            p[...] = rng.normal(0, 0.1, p.shape)
    return vae


def forward_loss(vae, x, target, eps, beta):
    """The VAE loss written out again from its formulas, forward only: the numerical side of the check."""
    mu, logvar, _ = vae.posterior(x)
    z = mu + np.exp(0.5 * logvar) * eps
    recon = vae.likelihood.nll(vae.decoder.forward(z, training=False), target).mean()
    kl = 0.5 * np.sum(mu ** 2 + np.exp(logvar) - logvar - 1) / len(x)
    return recon + beta * kl


def check_whole_loss(vae, x, target, eps, beta, entries=None, h=1e-5):
    """Max relative error per parameter between loss_and_grads_given_eps and central differences.

    entries: check that many randomly chosen entries of each parameter (all when None), as CS231n's
    grad_check_sparse does, to keep the conv checks fast.
    """
    vae.loss_and_grads_given_eps(x, target, eps, beta)
    errors, pick = {}, np.random.default_rng(0)
    for name, p, g in vae.parameters():
        flat = p.reshape(-1)  # a view: perturbing flat perturbs p
        idx = np.arange(p.size) if entries is None else pick.choice(p.size, min(entries, p.size), replace=False)
        numeric = []
        for i in idx:
            old = flat[i]
            flat[i] = old + h
            plus = forward_loss(vae, x, target, eps, beta)
            flat[i] = old - h
            minus = forward_loss(vae, x, target, eps, beta)
            flat[i] = old
            numeric.append((plus - minus) / (2 * h))
        errors[name] = rel_error(g.reshape(-1)[idx], numeric)
    return errors


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("likelihood,beta", [("bernoulli", 1.0), ("gaussian", 0.3)])
def test_gradient_of_whole_vae_loss_with_eps_fixed(kind, likelihood, beta):
    rng = np.random.default_rng(1)
    vae = tiny_vae(kind, likelihood, beta)
    x = rng.random((3,) + vae.image_shape)
    target = rng.random(x.shape)  # a target other than x, so recon's gradient is not symmetric in x
    eps = rng.standard_normal((3, vae.latent_dim))
    errors = check_whole_loss(vae, x, target, eps, beta, entries=None if kind == "dense" else 6)
    assert max(errors.values()) <= TOL, errors


def test_gradient_is_zero_through_the_clamp_and_matches_differences():
    """Narrow bounds clamp some logvars: their gradient must vanish in the analytic and numeric versions alike."""
    rng = np.random.default_rng(2)
    vae = tiny_vae("dense")
    vae.logvar_bounds = (-0.3, 0.3)
    x = rng.random((4,) + vae.image_shape)
    eps = rng.standard_normal((4, vae.latent_dim))
    raw = vae.encoder.forward(x)[:, vae.latent_dim:]
    inside = (raw > -0.3) & (raw < 0.3)
    assert inside.any() and not inside.all(), "the test needs some logvars clamped and some free"
    errors = check_whole_loss(vae, x, x, eps, 1.0)
    assert max(errors.values()) <= TOL, errors


def test_reparameterize_backward_with_random_upstream():
    rng = np.random.default_rng(3)
    mu, logvar, eps = rng.standard_normal((3, 5, 4))
    upstream = rng.standard_normal((5, 4))
    z, sigma = reparameterize(mu, logvar, eps)
    dmu, dlogvar = reparameterize_backward(upstream, sigma, eps)
    loss = lambda: float(np.sum(reparameterize(mu, logvar, eps)[0] * upstream))
    assert rel_error(dmu, numerical_gradient(loss, mu)) <= TOL
    assert rel_error(dlogvar, numerical_gradient(loss, logvar)) <= TOL


def test_clamp_logvar_bounds_and_mask():
    logvar, inside = clamp_logvar(np.array([-50.0, -10.0, 0.0, 10.0, 50.0]), -10.0, 10.0)
    np.testing.assert_array_equal(logvar, [-10, -10, 0, 10, 10])
    np.testing.assert_array_equal(inside, [False, True, True, True, False])


def test_bernoulli_nll_matches_summed_bce():
    rng = np.random.default_rng(4)
    logits, target = rng.normal(0, 5, (6, 1, 3, 3)), rng.random((6, 1, 3, 3))
    per_image = Bernoulli().nll(logits, target)
    assert per_image.shape == (6,)
    assert np.isclose(per_image.mean(), bce_with_logits(logits, target, reduction="batch")[0], rtol=1e-12)


def test_gaussian_nll_is_the_normal_density():
    from scipy.stats import norm
    rng = np.random.default_rng(5)
    logits, target = rng.normal(0, 2, (4, 2, 3, 3)), rng.random((4, 2, 3, 3))
    mean = 1 / (1 + np.exp(-logits))
    expected = -norm.logpdf(target, mean, 0.2).reshape(4, -1).sum(axis=1)
    np.testing.assert_allclose(Gaussian(0.2).nll(logits, target), expected, rtol=1e-12)
    assert np.isclose(Gaussian(0.2).loss_and_grad(logits, target)[0], expected.mean(), rtol=1e-12)


def test_tutorial_models_have_the_tutorial_shapes():
    conv = tutorial_conv_vae(latent_dim=2)
    assert _shapes(conv.encoder, (1, 28, 28)) == [(32, 28, 28), (64, 14, 14), (64, 14, 14), (64, 14, 14), (12544,), (32,), (4,)]
    assert _shapes(conv.decoder, (2,)) == [(12544,), (64, 14, 14), (32, 28, 28), (1, 28, 28)]
    dense = tutorial_dense_vae(latent_dim=2)
    assert [p.shape for _, p, _ in dense.parameters()][::2] == [(784, 512), (512, 4), (2, 512), (512, 784)]


def _shapes(net, shape):
    """Per-sample output shape after each layer that is not a ReLU."""
    out = []
    for layer in net.layers:
        shape = layer.output_shape(shape)
        if type(layer).__name__ != "ReLU":
            out.append(tuple(shape))
    return out


def test_general_builder_conv_encoder_dense_decoder_for_sprites():
    vae = build_vae((4, 32, 32), 8, encoder=(8, 16), encoder_kind="conv", decoder=(64,), decoder_kind="dense")
    x = np.random.default_rng(6).random((2, 4, 32, 32)).astype(np.float32)
    loss, parts = vae.loss_and_grads(x, None, np.random.default_rng(0))
    assert np.isfinite(loss) and set(parts) == {"recon", "kl"}
    assert vae.decode(np.zeros((3, 8))).shape == (3, 4, 32, 32)


def test_builder_rejects_bad_arguments():
    with pytest.raises(ValueError, match="image_shape"):
        build_vae((28, 28), 2)
    with pytest.raises(ValueError, match="divisible by 4"):
        build_vae((1, 30, 30), 2, encoder=(4, 4), encoder_kind="conv", decoder_kind="conv")
    with pytest.raises(ValueError, match="likelihood"):
        build_vae((1, 4, 4), 2, likelihood="poisson")


def test_kl_warmup_ramps_beta_per_training_step_and_evaluate_uses_final_beta():
    vae = build_vae((1, 4, 4), 2, encoder=(4,), beta=2.0, warmup_steps=4)
    x = np.random.default_rng(7).random((5, 1, 4, 4)).astype(np.float32)
    seen = []
    for _ in range(6):
        seen.append(vae.kl_weight)
        vae.loss_and_grads(x, None, np.random.default_rng(0))
    assert seen == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    loss, parts = vae.evaluate(x, None, np.random.default_rng(0))
    assert np.isclose(loss, parts["recon"] + 2.0 * parts["kl"])
    assert vae.steps == 6  # evaluate is not a training step


def test_loss_and_grads_does_not_change_parameters():
    vae = tiny_vae("dense")
    before = {n: p.copy() for n, p, _ in vae.parameters()}
    vae.loss_and_grads(np.random.default_rng(8).random((3, 1, 4, 4)), None, np.random.default_rng(0))
    assert all(np.array_equal(before[n], p) for n, p, _ in vae.parameters())
    assert any(np.abs(g).sum() > 0 for _, _, g in vae.parameters())


def test_user_errors_name_what_was_expected():
    vae = build_vae((1, 4, 4), 2, encoder=(4,))
    rng = np.random.default_rng(0)
    with pytest.raises(ShapeError, match=r"expected x of shape \(N, 1, 4, 4\), got \(2, 16\)"):
        vae.loss_and_grads(np.zeros((2, 16), np.float32), None, rng)
    with pytest.raises(ShapeError, match="targets in \\[0, 1\\]"):
        vae.loss_and_grads(np.zeros((2, 1, 4, 4), np.float32), np.full((2, 1, 4, 4), 2, np.float32), rng)
    with pytest.raises(ShapeError, match="dtype float32, got float64"):
        vae.loss_and_grads(np.zeros((2, 1, 4, 4)), None, rng)
    with pytest.raises(ShapeError, match=r"z of shape \(n, 2\)"):
        vae.decode(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="fit_class_gaussians"):
        vae.sample_class(0, 2, rng)
    with pytest.raises(ShapeError, match="encoder must map"):
        VAE(vae.decoder, vae.decoder, (1, 4, 4), 2)


def test_checkpoint_round_trip_is_bit_identical(tmp_path):
    rng = np.random.default_rng(9)
    vae = build_vae((1, 8, 8), 2, encoder=(4,), decoder=(4,), encoder_kind="conv", decoder_kind="dense",
                    likelihood="gaussian", sigma=0.3, beta=0.5, warmup_steps=10, rng=rng)
    x = rng.random((12, 1, 8, 8)).astype(np.float32)
    vae.loss_and_grads(x, None, rng)
    vae.fit_class_gaussians(x, np.arange(12) % 3)
    models.save(vae, tmp_path / "vae.npz")
    back = models.load(tmp_path / "vae.npz")
    assert isinstance(back, VAE)
    assert (back.steps, back.beta, back.warmup_steps) == (1, 0.5, 10)
    assert back.likelihood.config() == {"kind": "gaussian", "sigma": 0.3}
    np.testing.assert_array_equal(back.encode(x)[0], vae.encode(x)[0])
    np.testing.assert_array_equal(back.decode(np.ones((2, 2))), vae.decode(np.ones((2, 2))))
    np.testing.assert_array_equal(back.sample_class(1, 4, np.random.default_rng(1)),
                                  vae.sample_class(1, 4, np.random.default_rng(1)))


def test_checkpoint_that_does_not_fit_is_refused():
    arrays, spec = build_vae((1, 4, 4), 2, encoder=(4,)).to_checkpoint()
    arrays["encoder.1.W"] = np.zeros((5, 4), np.float32)
    with pytest.raises(CheckpointError, match="encoder.1.W"):
        VAE.from_checkpoint(arrays, spec)
    with pytest.raises(CheckpointError, match="missing \\['latent_dim'\\]"):
        VAE.from_checkpoint(arrays, {k: v for k, v in spec.items() if k != "latent_dim"})


@pytest.mark.parametrize("latent_dim", [2, 3])
def test_vae_figures_writes_four_pngs_and_refuses_to_overwrite(tmp_path, latent_dim):
    from PIL import Image
    rng = np.random.default_rng(10)
    vae = build_vae((1, 6, 6), latent_dim, encoder=(8,), rng=rng)
    x, labels = rng.random((30, 1, 6, 6)).astype(np.float32), np.arange(30) % 3
    paths = vae_figures(vae, x, labels, ["a", "b", "c"], tmp_path)
    assert sorted(paths) == ["latent_scatter", "manifold", "reconstructions", "samples_per_class"]
    sizes = {name: Image.open(path).size for name, path in paths.items()}
    assert sizes["manifold"][0] >= 20 * 6 and sizes["samples_per_class"][1] >= 3 * 6
    with pytest.raises(FileExistsError, match="manifold.png"):
        vae_figures(vae, x, labels, ["a", "b", "c"], tmp_path)
    assert vae_figures(vae, x, labels, ["a", "b", "c"], tmp_path, force=True) == paths
