"""Walking the latent space: interpolation paths and per-class Gaussians.

Functions of latent vectors only; ``VAE`` wraps them with its encoder and decoder. The tutorial's
2-D manifold grid is ``tinyae.plots.manifold(vae.decode, ...)``.
"""

import numpy as np

from tinyae.errors import ShapeError


def lerp(z_a, z_b, steps):
    """Straight line from z_a to z_b: z(t) = (1 - t) z_a + t z_b, t = 0 .. 1.  (d,), (d,) -> (steps, d)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    return ((1 - t) * z_a + t * z_b).astype(np.result_type(z_a, z_b), copy=False)


def slerp(z_a, z_b, steps):
    """Great-circle path (Shoemake 1985; White 2016 for VAEs), (d,), (d,) -> (steps, d):

        z(t) = sin((1 - t) w) / sin(w) * z_a + sin(t w) / sin(w) * z_b,   cos w = z_a.z_b / (|z_a| |z_b|)

    Why: under a N(0, I) prior almost all mass lies near the sphere |z| = sqrt(d), and the midpoint of
    a straight line between two typical points falls inside it, where the decoder saw few codes.
    Falls back to lerp when the two directions are (nearly) parallel and sin(w) ~ 0.
    """
    cos_w = np.dot(z_a, z_b) / max(np.linalg.norm(z_a) * np.linalg.norm(z_b), 1e-12)
    w = np.arccos(np.clip(cos_w, -1.0, 1.0))
    if np.sin(w) < 1e-6:
        return lerp(z_a, z_b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    path = (np.sin((1 - t) * w) * z_a + np.sin(t * w) * z_b) / np.sin(w)
    return path.astype(np.result_type(z_a, z_b), copy=False)


class ClassGaussians:
    """One diagonal Gaussian per class, fitted to the posterior means of that class's images.

    For class k with encoded means {mu_i : y_i = k}:
        mean_k = average of mu_i                       (the tutorial's class centroid)
        var_k  = per-dimension variance of mu_i + floor (the spread the encoder learned)
    Sampling a class is z = mean_k + sqrt(var_k) * eps. The floor keeps a class with one image (or
    identical codes) from having zero variance.  Shapes: mean, var (K, d).
    """

    def __init__(self, mean, var):
        self.mean, self.var = np.asarray(mean), np.asarray(var)
        if self.mean.ndim != 2 or self.mean.shape != self.var.shape:
            raise ShapeError(f"ClassGaussians: expected mean and var of one shape (K, d), "
                             f"got {self.mean.shape} and {self.var.shape}")

    @classmethod
    def fit(cls, mu, labels, n_classes=None, floor=1e-6):
        """Fit from encoded means mu (N, d) and integer labels (N,); every class must occur."""
        labels = np.asarray(labels)
        if labels.shape != (mu.shape[0],):
            raise ShapeError(f"ClassGaussians.fit: expected labels of shape ({mu.shape[0]},), got {labels.shape}")
        n_classes = int(labels.max()) + 1 if n_classes is None else int(n_classes)
        counts = np.bincount(labels, minlength=n_classes)
        if counts.size > n_classes or np.any(counts == 0):
            raise ValueError(f"ClassGaussians.fit: expected labels 0..{n_classes - 1}, each at least once; "
                             f"counts per label {counts.tolist()}")
        mean = np.stack([mu[labels == k].mean(axis=0) for k in range(n_classes)])
        var = np.stack([mu[labels == k].var(axis=0) for k in range(n_classes)]) + floor
        return cls(mean, var)

    @property
    def n_classes(self):
        return self.mean.shape[0]

    def sample(self, cls, n, rng):
        """n codes from class cls's Gaussian, (n, d)."""
        if not 0 <= int(cls) < self.n_classes:
            raise ValueError(f"sample_class: expected a class in 0..{self.n_classes - 1}, got {cls!r}")
        eps = rng.standard_normal((n, self.mean.shape[1]))
        return self.mean[cls] + np.sqrt(self.var[cls]) * eps
