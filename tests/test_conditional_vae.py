"""ConditionalVAE: gradients of the whole loss (eps fixed), what each network reads, that the label decides the
image, evaluation with labels, checkpoints, and fit with and without labels.

Gradient checks: float64, central differences (h = 1e-5, truncation ~1e-10), a random upstream scalar g on the
loss, relative error <= 1e-6 for every entry of every parameter.
"""

import numpy as np
import pytest

from tinyae import models
from tinyae.errors import CheckpointError, ShapeError
from tinyae.gradcheck import rel_error
from tinyae.optim import Adam
from tinyae.train import fit
from tinyae.vae import (ConditionalVAE, build_conditional_vae, build_vae, importance_weighted_log_likelihood, mode,
                        negative_elbo, one_hot)

TOL = 1e-6
SHAPE, D, CLASSES = (3, 3, 2), 2, 3  # K = 3 categories of 3x2 images, 2 latent dimensions, 3 classes


def tiny_cvae(likelihood="categorical", beta=1.0, dtype=np.float64):
    rng = np.random.default_rng(0)
    vae = build_conditional_vae(SHAPE, D, CLASSES, encoder=(5,), decoder=(4,), likelihood=likelihood, sigma=0.5,
                                beta=beta, rng=rng, dtype=dtype)
    for name, p, _ in vae.parameters():
        if name.endswith(".b"):  # nonzero biases keep ReLU inputs off the kink at 0
            p[...] = rng.normal(0, 0.1, p.shape)
    return vae


def forward_loss(vae, x, target, eps, beta, labels):
    """The loss from its formulas, forward only, with the networks' inputs built here: the numerical side."""
    e_y = np.eye(CLASSES)[labels]  # (N,) -> (N, n_classes)
    h = vae.encoder.forward(np.concatenate([x.reshape(len(x), -1), e_y], axis=1), training=False)
    mu, logvar = h[:, :D], np.clip(h[:, D:], *vae.logvar_bounds)
    z = mu + np.exp(0.5 * logvar) * eps
    logits = vae.decoder.forward(np.concatenate([z, e_y], axis=1), training=False)
    kl = 0.5 * np.sum(mu ** 2 + np.exp(logvar) - logvar - 1) / len(x)
    return vae.likelihood.nll(logits, target).mean() + beta * kl


@pytest.mark.parametrize("likelihood,beta", [("categorical", 0.7), ("bernoulli", 1.0)])
def test_gradient_of_whole_conditional_loss_with_eps_fixed(likelihood, beta):
    rng = np.random.default_rng(1)
    vae = tiny_cvae(likelihood, beta)
    labels = np.array([0, 2, 1, 2])
    x = one_hot(rng.integers(0, 3, (4,) + SHAPE[1:]), 3, np.float64)
    target = np.moveaxis(rng.dirichlet(np.ones(3), (4,) + SHAPE[1:]), -1, 1)  # soft, and not x
    eps = rng.standard_normal((4, D))
    g = rng.normal()  # random upstream dF/dL
    vae.loss_and_grads_given_eps(x, target, eps, beta, labels)
    h = 1e-5
    for name, p, grad in vae.parameters():
        flat, numeric = p.reshape(-1), np.zeros(p.size)  # flat is a view: perturbing it perturbs p
        for i in range(p.size):
            old = flat[i]
            flat[i] = old + h
            plus = forward_loss(vae, x, target, eps, beta, labels)
            flat[i] = old - h
            minus = forward_loss(vae, x, target, eps, beta, labels)
            flat[i] = old
            numeric[i] = g * (plus - minus) / (2 * h)
        assert rel_error(g * grad.reshape(-1), numeric) <= TOL, name
    grads = {n: gr for n, _, gr in vae.parameters()}
    assert (grads["decoder.0.W"][D:] != 0).any(axis=1).all()  # every label's row reaches the decoder's gradient
    assert (grads["encoder.0.W"][-CLASSES:] != 0).any(axis=1).all()  # and the encoder's


def test_networks_read_the_one_hot_label_after_the_image_and_the_code():
    """The sprite decoder runs the decoder as plain Dense layers on [z, onehot(y)]: that layout is a contract."""
    vae = tiny_cvae()
    assert [type(l).__name__ for l in vae.decoder.layers] == ["Dense", "ReLU", "Dense", "Reshape"]
    assert vae.decoder.layers[0].params["W"].shape == (D + CLASSES, 4)
    assert vae.encoder.layers[0].params["W"].shape == (int(np.prod(SHAPE)) + CLASSES, 5)
    rng = np.random.default_rng(2)
    z, labels = rng.standard_normal((5, D)), np.array([2, 0, 1, 1, 0])
    e_y = np.eye(CLASSES)[labels]
    logits = vae.decoder.forward(np.concatenate([z, e_y], axis=1), training=False)
    assert np.array_equal(vae.decoder_logits(z, labels), logits)
    assert np.array_equal(vae.decode(z, labels), vae.likelihood.mean(logits))
    x = one_hot(rng.integers(0, 3, (5,) + SHAPE[1:]), 3, np.float64)
    h = vae.encoder.forward(np.concatenate([x.reshape(5, -1), e_y], axis=1), training=False)
    mu, logvar = vae.encode(x, labels)
    assert np.array_equal(mu, h[:, :D]) and np.array_equal(logvar, h[:, D:])
    assert not np.array_equal(vae.decode(z, (labels + 1) % CLASSES), vae.decode(z, labels))


PATTERNS = np.random.default_rng(3).integers(0, 3, (3, 8, 8))  # class k is always the 8x8 index image PATTERNS[k]


@pytest.fixture(scope="module")
def trained():
    """A ConditionalVAE fitted for 300 steps (100 epochs of 3 batches) to 96 images whose class decides them."""
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 32)
    x = one_hot(PATTERNS[labels], 3)
    vae = build_conditional_vae((3, 8, 8), 2, 3, encoder=(32,), decoder=(32,), rng=rng)
    history = fit(vae, Adam(1e-2), x, epochs=100, batch_size=32, rng=rng, labels=labels, progress=False)
    return vae, x, labels, history


def test_the_label_asked_for_decides_the_image_for_any_z(trained):
    """An unconditional decoder cannot do this: with z from the prior alone, one z gives one image for every label."""
    vae, _, _, history = trained
    assert history.loss[-1] < 0.2 * history.loss[0]
    rng = np.random.default_rng(5)
    z = rng.standard_normal((200, 2)).astype(np.float32)
    for k in range(3):
        drawn = mode(vae.decoder_logits(z, np.full(200, k)))  # (200, 8, 8)
        assert np.mean(drawn == PATTERNS[k]) >= 0.95, k
        assert np.mean(mode(vae.sample_class(k, 50, rng)) == PATTERNS[k]) >= 0.95, k


def test_class_gaussians_are_fitted_per_label_and_sampled_from(trained):
    """fit_class_gaussians fits mu(x, y) per class; sample_class then draws z from its own class's Gaussian."""
    vae, x, labels, _ = trained
    gaussians = vae.fit_class_gaussians(x, labels, 3)
    mu = vae.encode(x, labels)[0].astype(np.float64)
    for k in range(3):
        assert np.allclose(gaussians.mean[k], mu[labels == k].mean(axis=0))
    vae.class_gaussians.mean[1] += 100.0  # a Gaussian far from where class 1 lives: its samples show it is used
    far = vae.sample_class(1, 20, np.random.default_rng(8))
    near = vae.sample(20, np.random.default_rng(8), np.full(20, 1))
    assert not np.allclose(far, near)
    vae.class_gaussians = None


def test_reconstruct_interpolate_and_evaluation_pass_labels(trained):
    vae, x, labels, _ = trained
    assert np.mean(mode(vae.reconstruct(x, labels)) == PATTERNS[labels]) >= 0.95
    assert np.mean(mode(vae.reconstruct(x, labels, rng=np.random.default_rng(6))) == PATTERNS[labels]) >= 0.95
    path = mode(vae.interpolate(x[0], x[1], steps=4, label=0))
    assert np.mean(path == PATTERNS[0]) >= 0.95
    wrong = (labels + 1) % 3
    parts = negative_elbo(vae, x, x, np.random.default_rng(7), labels=labels)
    assert parts["recon"] < 1.0 < negative_elbo(vae, x, x, np.random.default_rng(7), labels=wrong)["recon"]
    loss, evaluated = vae.evaluate(x, None, np.random.default_rng(7), labels=labels)
    assert evaluated == {"recon": parts["recon"], "kl": parts["kl"]}
    # K samples per image: the labels must be repeated in the order the K * n codes are decoded
    right = importance_weighted_log_likelihood(vae, x, x, 5, np.random.default_rng(8), labels=labels)
    assert right.shape == (96,) and right.mean() > -1.0
    assert importance_weighted_log_likelihood(vae, x, x, 5, np.random.default_rng(8), labels=wrong).mean() < -50


def test_checkpoint_round_trip_is_bit_for_bit(tmp_path):
    vae = tiny_cvae(dtype=np.float32)
    vae.steps = 17
    path = tmp_path / "cvae.npz"
    models.save(vae, path)
    loaded = models.load(path)
    assert type(loaded) is ConditionalVAE and loaded.n_classes == CLASSES and loaded.steps == 17
    arrays, spec = vae.to_checkpoint()
    assert spec["model"] == "ConditionalVAE" and spec["n_classes"] == CLASSES
    assert loaded.to_checkpoint()[1] == spec
    for (name, p, _), (_, q, _) in zip(vae.parameters(), loaded.parameters()):
        assert p.dtype == q.dtype and np.array_equal(p, q), name
    rng = np.random.default_rng(9)
    z, labels = rng.standard_normal((6, D)).astype(np.float32), rng.integers(0, CLASSES, 6)
    assert np.array_equal(loaded.decode(z, labels), vae.decode(z, labels))
    x = one_hot(rng.integers(0, 3, (6,) + SHAPE[1:]), 3)
    eps = rng.standard_normal((6, D)).astype(np.float32)
    assert loaded.loss_and_grads_given_eps(x, x, eps, 1.0, labels) == vae.loss_and_grads_given_eps(x, x, eps, 1.0,
                                                                                                      labels)
    with pytest.raises(CheckpointError, match="model 'VAE'"):
        models.REGISTRY["VAE"].from_checkpoint(arrays, spec)
    with pytest.raises(CheckpointError, match=r"missing \['n_classes'\]"):
        ConditionalVAE.from_checkpoint(arrays, {k: v for k, v in spec.items() if k != "n_classes"})
    with pytest.raises(CheckpointError, match="first layer must read 22 numbers .n_classes=4., it reads 21"):
        ConditionalVAE.from_checkpoint(arrays, {**spec, "n_classes": CLASSES + 1})


def test_fit_with_labels_splits_them_for_validation_and_without_labels_is_unchanged():
    rng = np.random.default_rng(10)
    labels = rng.integers(0, CLASSES, 12)
    x = one_hot(rng.integers(0, 3, (12,) + SHAPE[1:]), 3)
    vae = tiny_cvae(dtype=np.float32)
    history = fit(vae, Adam(1e-3), x, epochs=2, batch_size=4, rng=rng, labels=labels, val_fraction=0.25,
                  progress=False)
    assert len(history.val_loss) == 2 and np.isfinite(history.val_loss).all()
    history = fit(vae, Adam(1e-3), x[:8], epochs=1, batch_size=4, rng=rng, labels=labels[:8], x_val=x[8:],
                  labels_val=labels[8:], progress=False)
    assert np.isfinite(history.val_loss).all()
    plain = build_vae(SHAPE, D, encoder=(5,), likelihood="categorical", rng=np.random.default_rng(11))
    history = fit(plain, Adam(1e-3), x, epochs=2, batch_size=4, rng=rng, val_fraction=0.25, progress=False)
    assert len(history.loss) == 2 and np.isfinite(history.val_loss).all()


def test_bad_labels_give_clear_errors():
    rng = np.random.default_rng(12)
    labels = rng.integers(0, CLASSES, 6)
    x = one_hot(rng.integers(0, 3, (6,) + SHAPE[1:]), 3)
    vae = tiny_cvae(dtype=np.float32)
    run = lambda **kw: fit(vae, Adam(1e-3), x, epochs=1, batch_size=3, rng=rng, progress=False, **kw)
    with pytest.raises(ValueError, match=r"labels must be an integer array of shape \(6,\), one per row, "
                                         r"got float64 array of shape \(6,\)"):
        run(labels=labels.astype(float))
    with pytest.raises(ValueError, match=r"shape \(6,\), one per row, got int64 array of shape \(5,\)"):
        run(labels=labels[:5])
    with pytest.raises(ValueError, match=r"labels in 0..2, got values in \[0, 3\]"):
        run(labels=np.where(labels == 1, 3, labels))
    with pytest.raises(ValueError, match=r"labels in 0..2, got values in \[-1"):
        run(labels=labels - 1)
    with pytest.raises(ValueError, match="x_val and labels_val go together"):
        run(labels=labels, x_val=x)
    with pytest.raises(ValueError, match=r"labels_val must be an integer array of shape \(6,\)"):
        run(labels=labels, x_val=x, labels_val=labels[:2])
    with pytest.raises(ValueError, match="labels_val given without labels"):
        run(x_val=x, labels_val=labels)
    plain = build_vae(SHAPE, D, encoder=(5,), likelihood="categorical")
    with pytest.raises(ValueError, match="not class-conditional and takes no labels"):
        fit(plain, Adam(1e-3), x, epochs=1, batch_size=3, rng=rng, progress=False, labels=labels)
    with pytest.raises(ShapeError, match=r"expected labels as an integer array of shape \(6,\), .* got NoneType"):
        vae.loss_and_grads(x, None, rng)
    with pytest.raises(ShapeError, match=r"shape \(2,\), one per row, got int64 array of shape \(6,\)"):
        vae.decode(np.zeros((2, D), np.float32), labels)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 1"):
        build_conditional_vae(SHAPE, D, 0)
    with pytest.raises(ShapeError, match=r"encoder's first layer must read 22 numbers \(n_classes=4\), it reads 21"):
        ConditionalVAE(vae.encoder, vae.decoder, SHAPE, D, CLASSES + 1)
