"""The linear-autoencoder = PCA lab: its theory, its shortcuts, and the lab itself on a known spectrum."""

import numpy as np
import pytest

from tinyae.errors import DataError
from tinyae.lab import moment_rows, pca_check, synthetic_data, synthetic_spectrum, theory
from tinyae.lab.linear_fit import grad_vector, linear_autoencoder, objective
from tinyae.pca import PCA

SPECTRUM = synthetic_spectrum(12)


@pytest.fixture(scope="module")
def x():
    return synthetic_data(600, SPECTRUM, np.random.default_rng(0))


def test_synthetic_data_has_exactly_the_spectrum(x):
    e = PCA(3).fit(x).eigenvalues_
    assert np.allclose(e, SPECTRUM, rtol=1e-12, atol=0)


def test_moment_rows_give_the_same_loss_and_gradients(x):
    rows = moment_rows(x)
    assert rows.shape == (24, 12)
    model = linear_autoencoder(12, 3, np.random.default_rng(1))
    for _, p, _ in model.parameters():
        p += np.random.default_rng(2).standard_normal(p.shape)  # a general point, biases and encoder included
    value_data = objective(model, x, 0.3)
    grad_data = grad_vector(model)
    value_rows = objective(model, rows, 0.3)
    assert value_rows == pytest.approx(value_data, rel=1e-12)
    assert np.allclose(grad_vector(model), grad_data, rtol=0, atol=1e-11 * np.abs(grad_data).max())


def _kunin_point(x, k, lam, scale_of_lam=1.0):
    """The closed-form decayed minimum of ``theory``, written into a linear autoencoder."""
    pca = PCA(k).fit(x)
    s = np.sqrt(1 - scale_of_lam * lam / pca.eigenvalues_[:k])
    model = linear_autoencoder(x.shape[1], k, np.random.default_rng(0))
    W_dec = s[:, None] * pca.components_               # (k, D) = (U_k S)^T
    model.decoder.layers[0].params["W"][...] = W_dec
    model.encoder.layers[0].params["W"][...] = W_dec.T  # W_enc = W_dec^T
    model.encoder.layers[0].params["b"][...] = 0
    model.decoder.layers[0].params["b"][...] = pca.mean_ - pca.mean_ @ W_dec.T @ W_dec  # c = 0
    return model, pca


@pytest.mark.parametrize("k", [1, 2, 4])
def test_kunin_solution_is_a_stationary_point_of_our_objective(x, k):
    """The derivation of the lam scaling: at W_dec^T = U_k diag(sqrt(1 - lam/e_i)) the gradient vanishes and
    L equals the predicted minimum; with lam scaled by D (the per-element "mean" convention) it does not."""
    lam = 0.4 * SPECTRUM[k - 1]
    model, pca = _kunin_point(x, k, lam)
    value = objective(model, x, lam)
    assert value == pytest.approx(theory.predicted_minimum(pca.eigenvalues_, k, lam), rel=1e-12)
    assert np.abs(grad_vector(model)).max() < 1e-11
    mse = np.mean((model.reconstruct(x) - x) ** 2)
    assert mse == pytest.approx(theory.predicted_mse(pca.eigenvalues_, k, lam, 12), rel=1e-12)
    wrong, _ = _kunin_point(x, k, lam / 12, scale_of_lam=12)  # the same s_i reached with lam/D
    objective(wrong, x, lam / 12)
    assert np.abs(grad_vector(wrong)).max() > 1e-3


@pytest.mark.parametrize("k, centered", [(2, True), (3, True), (2, False)])
def test_lab_on_a_known_spectrum(x, k, centered):
    r = pca_check(x, k, rng=np.random.default_rng(1), centered=centered)
    control, decayed = r.control.measured, r.decayed.measured
    for m in (control, decayed):  # criterion 1: both runs span the PCA subspace
        assert m.angle_decoder < 1e-6 and m.angle_encoder < 1e-6
    assert control.mse_rel_error < 1e-3 and control.mse == pytest.approx(SPECTRUM[k:].sum() / 12, rel=1e-3)
    assert decayed.mse_rel_error < 1e-3  # criterion 2 (with lam: PCA's error + sum lam^2 / e_i / D)
    assert np.all(decayed.cos >= 0.999)  # criterion 3, with weight decay
    assert np.allclose(decayed.eigenvalues_read, SPECTRUM[:k], rtol=1e-6, atol=0)
    assert decayed.symmetry < 1e-6
    assert decayed.passes_components() and not control.passes_components()  # the negative control fails (3)
    assert control.symmetry > 0.1
    assert r.passed()


def test_lab_with_adam(x):
    r = pca_check(x, 2, rng=np.random.default_rng(1), optimizer="adam", adam_steps=3000)
    assert r.passed() and "Adam" in r.control.fit.optimizer
    assert max(r.decayed.measured.angle_decoder, r.control.measured.angle_encoder) < 1e-6


def test_weight_decay_must_keep_every_direction(x):
    with pytest.raises(ValueError, match=r"lam must be in \[0, e_k\)"):
        pca_check(x, 2, rng=np.random.default_rng(0), weight_decay=SPECTRUM[1] * 1.01)


def test_fashion_mnist_k2():
    """The one real-data check, kept small (200 images, k = 2, the loss on the data rows themselves) so it
    stays fast even where BLAS threads fight for the cores; ``tinyae pca-check`` runs the full-size lab.
    With N < D the covariance has a null space, which the zero-started encoder never enters."""
    from tinyae.lab import fashion_mnist_vectors
    try:
        x = fashion_mnist_vectors(200)
    except DataError as err:
        pytest.skip(f"Fashion-MNIST not available: {err}")
    r = pca_check(x, 2, rng=np.random.default_rng(0), rows="data", max_iter=400, dataset="fashion-mnist")
    assert r.passed()
    assert max(r.control.measured.angle_decoder, r.control.measured.angle_encoder) < 1e-4
    assert max(r.decayed.measured.angle_decoder, r.decayed.measured.angle_encoder) < 1e-6
    assert r.decayed.measured.cos.min() >= 0.999
