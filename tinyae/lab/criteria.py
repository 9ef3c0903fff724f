"""The three measurements that compare a trained linear autoencoder with PCA, and their pass marks.

(1) Subspace: the largest principal angle (scipy.linalg.subspace_angles) between the top-k PCA
    subspace span(u_1..u_k) and the decoder's span, the columns of W_dec^T (D, k), and the encoder's,
    the columns of W_enc (D, k). 0 means the same subspace.
(2) Error: the reconstruction MSE per element on the data beside what ``theory`` predicts:
    PCA's sum_{i>k} e_i / D without weight decay, plus sum_{i<=k} lam^2 / e_i / D with it.
(3) Individual components (weight decay only): the thin SVD W_dec^T = u diag(s) v^T; each |cos| between
    u_i and the PCA component u_i, each eigenvalue read back as lam / (1 - s_i^2), and the symmetry
    ||W_enc - W_dec^T||_F / ||W_dec||_F. Only components whose eigenvalue is well separated from its
    neighbours (relative gap >= GAP_MIN) are required to match: equal eigenvalues leave any rotation.
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import subspace_angles

from tinyae.lab import theory

ANGLE_TOL = 1e-3    # radians
MSE_RTOL = 1e-3     # 0.1 %
COS_MIN = 0.999
EIGEN_RTOL = 1e-3
SYMMETRY_TOL = 1e-3
GAP_MIN = 0.02      # |e_i - e_j| / e_i to both neighbours


@dataclass
class Measurement:
    lam: float
    angle_decoder: float
    angle_encoder: float
    mse: float
    mse_predicted: float
    cos: np.ndarray              # (k,) |cos(u_i, PCA component i)|
    eigenvalues_read: np.ndarray  # (k,) lam / (1 - s_i^2); NaN without weight decay
    eigen_rel_error: np.ndarray  # (k,)
    symmetry: float
    separated: np.ndarray        # (k,) bool
    W_enc: np.ndarray
    W_dec: np.ndarray
    angle_tol: float = ANGLE_TOL

    @property
    def mse_rel_error(self):
        return abs(self.mse - self.mse_predicted) / self.mse_predicted

    def passes_subspace(self):
        return max(self.angle_decoder, self.angle_encoder) < self.angle_tol

    def passes_error(self):
        return self.mse_rel_error <= MSE_RTOL

    def passes_components(self):
        sep = self.separated
        eigen_ok = self.lam > 0 and bool(np.all(self.eigen_rel_error[sep] <= EIGEN_RTOL))
        return bool(np.all(self.cos[sep] >= COS_MIN)) and eigen_ok and self.symmetry <= SYMMETRY_TOL


def relative_gaps(eigenvalues, k):
    """(k,) min over the neighbours j = i-1, i+1 of |e_i - e_j| / e_i (e_{k+1} counts as a neighbour)."""
    e = eigenvalues
    gaps = np.full(k, np.inf)
    for i in range(k):
        for j in (i - 1, i + 1):
            if 0 <= j < len(e):
                gaps[i] = min(gaps[i], abs(e[i] - e[j]) / e[i])
    return gaps


def measure(model, x, pca, lam, angle_tol=ANGLE_TOL):
    """Compare the trained linear ``model`` with a PCA fitted to the same data x (N, D)."""
    k, d = pca.components_.shape
    e = pca.eigenvalues_
    W_enc = model.encoder.layers[0].params["W"]     # (D, k)
    W_dec = model.decoder.layers[0].params["W"]     # (k, D)
    pcs = pca.components_.T                          # (D, k)
    u, s, _ = np.linalg.svd(W_dec.T, full_matrices=False)  # u (D, k), s (k,) descending
    read = theory.eigenvalues_from_singular_values(s, lam) if lam > 0 else np.full(k, np.nan)
    return Measurement(
        lam=lam,
        angle_decoder=float(np.max(subspace_angles(W_dec.T, pcs))),
        angle_encoder=float(np.max(subspace_angles(W_enc, pcs))),
        mse=float(np.mean((model.reconstruct(x) - x) ** 2)),
        mse_predicted=float(theory.predicted_mse(e, k, lam, d)),
        cos=np.abs(np.sum(u * pcs, axis=0)),
        eigenvalues_read=read,
        eigen_rel_error=np.abs(read - e[:k]) / e[:k],
        symmetry=float(np.linalg.norm(W_enc - W_dec.T) / np.linalg.norm(W_dec)),
        separated=relative_gaps(e, k) >= GAP_MIN,
        W_enc=W_enc.copy(), W_dec=W_dec.copy(), angle_tol=angle_tol,
    )
