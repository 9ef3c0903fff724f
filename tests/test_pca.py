"""PCA on data whose covariance is known exactly: a random orthogonal basis with prescribed variances."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles
from scipy.stats import ortho_group

from tinyae.errors import ShapeError
from tinyae.pca import PCA

D = 10
N = 500
# Prescribed variances, deliberately not sorted: PCA must sort them.
VARIANCES = np.array([0.3, 10.0, 0.05, 2.0, 5.0, 0.01, 1.0, 3.0, 0.5, 0.1])
ORDER = np.argsort(VARIANCES)[::-1]


def known_spectrum_data(n=N, seed=0):
    """X (n, D) whose 1/n covariance is exactly Q diag(VARIANCES) Q^T, to round-off.

    Z has zero-mean orthonormal columns (Z^T Z = I), so X - mu = sqrt(n) Z diag(sqrt(v)) Q^T gives
    (X - mu)^T (X - mu) / n = Q diag(v) Q^T: the sample spectrum is the prescribed one, not an estimate of it.
    """
    rng = np.random.default_rng(seed)
    Q = ortho_group.rvs(D, random_state=rng)  # (D, D), columns are the true principal directions
    G = rng.standard_normal((n, D))
    Z, _ = np.linalg.qr(G - G.mean(axis=0))  # (n, D), columns orthonormal and orthogonal to ones
    mu = rng.uniform(-3, 3, size=D)
    X = np.sqrt(n) * Z * np.sqrt(VARIANCES) @ Q.T + mu
    return X, Q, mu


def test_recovers_the_prescribed_eigenvalues_and_mean():
    X, _, mu = known_spectrum_data()
    pca = PCA(3).fit(X)
    np.testing.assert_allclose(pca.eigenvalues_, VARIANCES[ORDER], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pca.explained_variance_, [10.0, 5.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(pca.explained_variance_ratio_, np.array([10.0, 5.0, 3.0]) / VARIANCES.sum(), rtol=1e-12)
    np.testing.assert_allclose(pca.mean_, mu, rtol=0, atol=1e-13)


@pytest.mark.parametrize("k", [1, 3, 6, D])
def test_recovers_the_principal_subspace(k):
    X, Q, _ = known_spectrum_data()
    pca = PCA(k).fit(X)
    assert pca.components_.shape == (k, D)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(k), atol=1e-13)
    assert np.max(subspace_angles(pca.components_.T, Q[:, ORDER[:k]])) < 1e-10
    # Distinct eigenvalues: each component is its eigenvector, up to sign.
    np.testing.assert_allclose(np.abs(pca.components_ @ Q[:, ORDER[:k]]), np.eye(k), atol=1e-10)


@pytest.mark.parametrize("k", range(1, D + 1))
def test_reconstruction_mse_is_the_sum_of_discarded_eigenvalues_over_D(k):
    X, _, _ = known_spectrum_data()
    pca = PCA(k).fit(X)
    expected = VARIANCES[ORDER][k:].sum() / D
    assert pca.reconstruction_mse(X) == pytest.approx(expected, rel=1e-11, abs=1e-14)
    assert pca.reconstruction_mse(X) == pytest.approx(pca.eigenvalues_[k:].sum() / D, rel=1e-11, abs=1e-14)


def test_matches_eigh_of_the_1_over_N_covariance():
    X = np.random.default_rng(3).standard_normal((300, 8)) @ np.random.default_rng(4).standard_normal((8, 8))
    pca = PCA(8).fit(X)
    C = np.cov(X, rowvar=False, bias=True)  # bias=True: divide by N
    w, V = np.linalg.eigh(C)  # ascending
    np.testing.assert_allclose(pca.eigenvalues_, w[::-1], rtol=1e-10)
    np.testing.assert_allclose(np.abs(pca.components_ @ V[:, ::-1]), np.eye(8), atol=1e-8)


def test_scores_are_uncorrelated_with_the_eigenvalues_as_variances():
    X, _, _ = known_spectrum_data()
    pca = PCA(4).fit(X)
    Z = pca.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.T @ Z / N, np.diag([10.0, 5.0, 3.0, 2.0]), atol=1e-11)


def test_all_components_reconstruct_exactly():
    X, _, _ = known_spectrum_data()
    pca = PCA(D).fit(X)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, rtol=0, atol=1e-12)
    assert pca.reconstruction_mse(X) < 1e-26


def test_sign_convention_largest_entry_positive_and_stable():
    X, _, _ = known_spectrum_data()
    pca = PCA(5).fit(X)
    rows = np.arange(5)
    assert np.all(pca.components_[rows, np.abs(pca.components_).argmax(axis=1)] > 0)
    # Negated or shuffled data has the same covariance, so must give the very same components.
    shuffled = X[np.random.default_rng(9).permutation(N)]
    np.testing.assert_allclose(PCA(5).fit(-X).components_, pca.components_, atol=1e-12)
    np.testing.assert_allclose(PCA(5).fit(shuffled).components_, pca.components_, atol=1e-12)


def test_fewer_samples_than_features_pads_eigenvalues_with_zeros():
    X, _, _ = known_spectrum_data()
    pca = PCA(3).fit(X[:4])
    assert pca.eigenvalues_.shape == (D,)
    assert np.all(pca.eigenvalues_[4:] == 0)  # 4 centred points span at most 3 dimensions
    assert pca.eigenvalues_[3] < 1e-12
    assert pca.reconstruction_mse(X[:4]) < 1e-24
    with pytest.raises(ShapeError, match=r"PCA\(k=5\) needs at least k samples.*\(4, 10\)"):
        PCA(5).fit(X[:4])


def test_dtypes():
    X, _, _ = known_spectrum_data()
    pca = PCA(3).fit(X.astype(np.float32))
    assert pca.components_.dtype == np.float64  # fitted in float64 whatever the input
    Z = pca.transform(X.astype(np.float32))
    assert Z.dtype == np.float32
    assert pca.inverse_transform(Z).dtype == np.float32
    np.testing.assert_allclose(Z, pca.transform(X), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3"])
def test_bad_k(k):
    with pytest.raises(ValueError, match="integer >= 1"):
        PCA(k)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros(5), r"2-D \(samples, features\), got shape \(5,\)"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "1 NaN or infinite"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric, got dtype <U1"),
        (np.ones((6, 3)), "zero variance"),
    ],
)
def test_bad_data(X, message):
    with pytest.raises(ShapeError, match=message):
        PCA(1).fit(X)


def test_use_before_fit_and_wrong_width():
    with pytest.raises(RuntimeError, match="not fitted"):
        PCA(2).transform(np.zeros((3, 4)))
    pca = PCA(2).fit(known_spectrum_data()[0])
    with pytest.raises(ShapeError, match=r"X must have 10 columns, got shape \(3, 4\)"):
        pca.transform(np.zeros((3, 4)))
    with pytest.raises(ShapeError, match=r"Z must have 2 columns, got shape \(3, 3\)"):
        pca.inverse_transform(np.zeros((3, 3)))
