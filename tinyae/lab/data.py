"""The lab's data: Fashion-MNIST as vectors, a synthetic set whose spectrum is known exactly, and the
moment-matched rows on which the linear autoencoder's loss is the same as on the data.
"""

import numpy as np

from tinyae.errors import ShapeError


def synthetic_spectrum(d):
    """A well-separated spectrum: e_i = 10 * 0.8^(i-1), i = 1..d (neighbours 20% apart)."""
    return 10.0 * 0.8 ** np.arange(d)


def synthetic_data(n, eigenvalues, rng, mean=None):
    """X (n, D) whose covariance (1/N convention) has exactly these eigenvalues, at random orientation.

        X = sqrt(n) Q diag(sqrt(e)) V^T + mu
    Q (n, D) has orthonormal, zero-mean columns (QR of a centred Gaussian matrix), so
    (1/n) (X - mu)^T (X - mu) = V diag(e) V^T exactly, up to rounding; V (D, D) is a random rotation.
    mu defaults to a random vector in [0, 1)^D, so the biases have something to learn.
    """
    e = np.asarray(eigenvalues, dtype=np.float64)
    d = len(e)
    if n <= d:
        raise ValueError(f"synthetic_data needs n > D to realise a full spectrum; got n = {n}, D = {d}")
    g = rng.standard_normal((n, d))
    q, _ = np.linalg.qr(g - g.mean(axis=0))  # (n, D); combinations of zero-mean columns are zero-mean
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mu = rng.random(d) if mean is None else np.asarray(mean, dtype=np.float64)
    return np.sqrt(n) * (q * np.sqrt(e)) @ v.T + mu


def fashion_mnist_vectors(n):
    """The first n Fashion-MNIST training images as float64 vectors (n, 784) in [0, 1]."""
    from tinyae.datasets.fashion_mnist import load_fashion_mnist
    images, _ = load_fashion_mnist("train")
    if not 1 <= n <= len(images):
        raise ValueError(f"--n must be in [1, {len(images)}] for Fashion-MNIST, got {n}")
    return images[:n].reshape(n, -1).astype(np.float64)  # (n, 1, 28, 28) -> (n, 784)


def moment_rows(x):
    """2r rows with the mean and covariance of x (N, D), hence the same linear-autoencoder loss.

    With x - mu = U S V^T (thin SVD, r nonzero singular values s_i, rows v_i of V^T), the rows
        mu + sqrt(r / N) s_i v_i   and   mu - sqrt(r / N) s_i v_i,    i = 1..r
    have mean mu and covariance (1/2r) sum_i 2 (r / N) s_i^2 v_i^T v_i = (1/N) (x - mu)^T (x - mu).
    The loss depends on the data only through these two moments (``theory``, point 1), so L and its
    gradients are the same on these 2r <= 2D rows as on the N rows of x, at a fraction of the cost.
    """
    if x.ndim != 2:
        raise ShapeError(f"moment_rows: expected x of shape (N, D), got {x.shape}")
    n = len(x)
    mu = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mu, full_matrices=False)  # s (min(N, D),), vt (min(N, D), D)
    keep = s > s[0] * 1e-12 if s[0] > 0 else s > 0
    s, vt = s[keep], vt[keep]
    y = np.sqrt(len(s) / n) * s[:, None] * vt  # (r, D)
    return np.concatenate([mu + y, mu - y])    # (2r, D)
