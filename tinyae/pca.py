"""Principal component analysis by the SVD of the centred data: the linear baseline for every autoencoder.

For data X (N, D) with mean mu (D,), the centred data Xc = X - mu has the thin SVD

    Xc = U S V^T,    U (N, r), S = diag(s_1 >= ... >= s_r), V^T (r, D), r = min(N, D).

The rows of V^T are the eigenvectors of the covariance C = Xc^T Xc / N, with eigenvalues
lambda_i = s_i^2 / N. Keeping the first k rows W = V^T[:k] (k, D):

    encode   z     = (x - mu) W^T                  (k,)
    decode   x_hat = z W + mu                      (D,)
    error    sum over the training set of ||x - x_hat||^2 = sum_{i>k} s_i^2       (Eckart-Young)
    so       reconstruction MSE per element = sum_{i>k} lambda_i / D.

Normalisation: the covariance uses 1/N (not 1/(N-1)). That is the choice that makes the last line
exact on the training data, so the eigenvalues can be compared directly with an autoencoder's MSE.
A linear autoencoder with k hidden units trained to the MSE minimum spans the same subspace as W.
"""

import numpy as np

from tinyae.errors import ShapeError


class PCA:
    """PCA keeping ``k`` components. Computed in float64 whatever the input dtype.

    After ``fit(X)``:
        mean_                      (D,)  mu
        components_                (k, D) orthonormal rows, each with its largest-|.| entry positive
        eigenvalues_               (D,)  all eigenvalues of C = Xc^T Xc / N, descending (zeros past rank N)
        explained_variance_        (k,)  eigenvalues_[:k]
        explained_variance_ratio_  (k,)  explained_variance_ / eigenvalues_.sum()
    """

    def __init__(self, k):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"PCA needs k, the number of components, as an integer >= 1; got {k!r}")
        self.k = int(k)

    def fit(self, X):
        """Fit to X (N, D); returns self."""
        X = _as_data(X, "X")
        N, D = X.shape
        if self.k > min(N, D):
            raise ShapeError(f"PCA(k={self.k}) needs at least k samples and k features; X has shape {(N, D)}")
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)  # s (r,), Vt (r, D)
        # Singular vectors are defined up to sign; fix it so results are reproducible across LAPACKs.
        largest = Vt[np.arange(len(s)), np.abs(Vt).argmax(axis=1)]  # (r,)
        Vt = Vt * np.where(largest < 0, -1.0, 1.0)[:, None]
        total = np.sum(s**2)
        if total == 0:
            raise ShapeError(f"PCA cannot fit X with zero variance (all {N} rows are identical)")
        self.eigenvalues_ = np.zeros(D)
        self.eigenvalues_[: len(s)] = s**2 / N
        self.components_ = Vt[: self.k]
        self.explained_variance_ = self.eigenvalues_[: self.k]
        self.explained_variance_ratio_ = self.explained_variance_ / self.eigenvalues_.sum()
        return self

    def transform(self, X):
        """z = (X - mu) W^T: X (N, D) -> (N, k), in X's float dtype."""
        X = self._check_fitted_input(X, "X")
        return ((X - self.mean_) @ self.components_.T).astype(X.dtype, copy=False)

    def inverse_transform(self, Z):
        """x_hat = Z W + mu: Z (N, k) -> (N, D), in Z's float dtype."""
        Z = self._check_fitted_input(Z, "Z")
        return (Z @ self.components_ + self.mean_).astype(Z.dtype, copy=False)

    def reconstruction_mse(self, X):
        """Mean over all N*D elements of (X - inverse_transform(transform(X)))^2, computed in float64.

        On the data the PCA was fitted to, this equals eigenvalues_[k:].sum() / D.
        """
        X = self._check_fitted_input(X, "X").astype(np.float64)
        return float(np.mean((X - self.inverse_transform(self.transform(X))) ** 2))

    def _check_fitted_input(self, A, name):
        """A as data with D columns (name "X") or k columns (name "Z")."""
        if not hasattr(self, "components_"):
            raise RuntimeError("this PCA is not fitted yet: call fit(X) first")
        A = _as_data(A, name, keep_dtype=True)
        width = self.components_.shape[1] if name == "X" else self.k
        if A.shape[1] != width:
            raise ShapeError(f"PCA {name} must have {width} columns, got shape {A.shape}")
        return A


def _as_data(A, name, keep_dtype=False):
    """A as a finite 2-D float array: float64, or its own float dtype when keep_dtype."""
    A = np.asarray(A)
    if A.ndim != 2:
        raise ShapeError(f"PCA {name} must be 2-D (samples, features), got shape {A.shape}")
    if A.dtype.kind not in "biuf":
        raise ShapeError(f"PCA {name} must be numeric, got dtype {A.dtype}")
    if not np.all(np.isfinite(A)):
        raise ShapeError(f"PCA {name} contains {np.size(A) - np.isfinite(A).sum()} NaN or infinite values")
    if keep_dtype and A.dtype.kind == "f":
        return A
    return A.astype(np.float64)
