"""The decoder's likelihood p(x | z), in nats. The decoder always outputs logits a; the image it decodes
is the likelihood's ``mean(a)``: sigma(a) for Bernoulli and Gaussian, softmax(a) over categories for Categorical.

Bernoulli: each pixel t in [0, 1] is scored by binary cross-entropy from the logits,
    -log p(x | z) = sum_pixels softplus(a) - t a
For binary t this is an exact negative log-likelihood. For grayscale t (Fashion-MNIST as pixel / 255,
the convention of the Keras tutorial and of PyTorch's VAE example) it is the usual surrogate and
not a normalized density; numbers are still comparable between models scored the same way.

Gaussian with FIXED variance sigma^2 (a hyperparameter, not learned), mean m = sigma(a):
    -log p(x | z) = sum_pixels (t - m)^2 / (2 sigma^2) + 0.5 log(2 pi sigma^2)
A smaller sigma weights reconstruction more heavily against the KL term.

Categorical over K categories along axis 1 (pixel art: 0 = transparent, 1..K-1 = palette entries):
the target t is one-hot (N, K, H, W) (see ``one_hot``), or any distribution over the K categories,
    -log p(x | z) = sum_pixels -sum_k t_k log softmax(a)_k       (softmax cross-entropy from the logits)
exactly normalized: the decoded image is a probability per category, and ``mode`` picks one per pixel.

Each likelihood gives the training loss (mean over the batch of the per-image sum, reduction
"batch") with its gradient w.r.t. the logits, and per-image values for evaluation.
"""

import numpy as np

from tinyae.errors import ShapeError
from tinyae.layers.activations import log_softmax, sigmoid, softmax, softplus
from tinyae.losses import bce_with_logits, mse, softmax_cross_entropy
from tinyae.vae.gaussian import LOG_2PI


def _per_image(values):
    """(N, ...) -> (N,): sum over everything but the batch axis, in float64."""
    return values.reshape(values.shape[0], -1).sum(axis=1, dtype=np.float64)  # (N, C, H, W) -> (N, CHW)


class Bernoulli:
    name = "bernoulli"

    def loss_and_grad(self, logits, target):
        """(1/N) sum_n sum_pixels BCE, and its gradient (sigma(a) - t) / N."""
        return bce_with_logits(logits, target, reduction="batch")

    def nll(self, logits, target):
        """-log p(x | z) per image, (N, ...) -> (N,), stable for any logit."""
        return _per_image(softplus(logits) - target * logits)

    def mean(self, logits):
        """E[x | z] = sigma(a), the probability of each pixel being on."""
        return sigmoid(logits)

    def config(self):
        return {"kind": self.name}


class Gaussian:
    name = "gaussian"

    def __init__(self, sigma=0.1):
        if not sigma > 0:
            raise ValueError(f"Gaussian likelihood: sigma must be > 0, got {sigma!r}")
        self.sigma = float(sigma)

    def loss_and_grad(self, logits, target):
        """(1/N) sum_n -log p(x_n | z_n) and its gradient w.r.t. the logits a:

            dL/dm = (m - t) / (sigma^2 N)       from mse's 2 (m - t) / N, divided by 2 sigma^2
            dL/da = dL/dm * m (1 - m)           through m = sigma(a)
        """
        m = sigmoid(logits)
        sq, dsq = mse(m, target, reduction="batch")
        n_pixels = logits[0].size
        value = sq / (2 * self.sigma ** 2) + 0.5 * n_pixels * np.log(self.sigma ** 2) + 0.5 * n_pixels * LOG_2PI
        dm = dsq / (2 * self.sigma ** 2)
        return value, dm * m * (1 - m)

    def nll(self, logits, target):
        """-log p(x | z) per image, (N, ...) -> (N,)."""
        diff = target - sigmoid(logits)
        n_pixels = logits[0].size
        const = 0.5 * n_pixels * (np.log(self.sigma ** 2) + LOG_2PI)
        return _per_image(diff * diff) / (2 * self.sigma ** 2) + const

    def mean(self, logits):
        """E[x | z] = m = sigma(a)."""
        return sigmoid(logits)

    def config(self):
        return {"kind": self.name, "sigma": self.sigma}


class Categorical:
    name = "categorical"

    def __init__(self, n_categories):
        if int(n_categories) != n_categories or n_categories < 2:
            raise ValueError(f"Categorical likelihood: n_categories must be an integer >= 2, got {n_categories!r}")
        self.n_categories = int(n_categories)

    def _check(self, logits):
        if logits.ndim < 2 or logits.shape[1] != self.n_categories:
            raise ShapeError(f"Categorical likelihood: expected logits of shape (N, {self.n_categories}, ...), "
                             f"got {logits.shape}")

    def loss_and_grad(self, logits, target):
        """(1/N) sum_n sum_pixels -sum_k t log softmax(a), and its gradient (S softmax(a) - t) / N (S = sum_k t)."""
        self._check(logits)
        return softmax_cross_entropy(logits, target, axis=1, reduction="batch")

    def nll(self, logits, target):
        """-log p(x | z) per image, (N, K, ...) -> (N,), stable for any logit."""
        self._check(logits)
        return _per_image(-target * log_softmax(logits, axis=1))

    def mean(self, logits):
        """E[x | z] = softmax(a) along the categories: (N, K, H, W) probabilities summing to 1 at each pixel."""
        self._check(logits)
        return softmax(logits, axis=1)

    def config(self):
        return {"kind": self.name, "n_categories": self.n_categories}


def one_hot(indices, n_categories, dtype=np.float32):
    """Category indices (N, ...) ints in 0..K-1 -> one-hot (N, K, ...): out[n, k, ...] = [indices[n, ...] == k].

    (N, H, W) category images become the (N, K, H, W) input and target of a Categorical VAE;
    (N,) class labels become (N, K) rows.
    """
    indices = np.asarray(indices)
    if indices.ndim < 1 or indices.dtype.kind not in "iu":
        raise ShapeError(f"one_hot: expected an integer array of shape (N, ...), got {indices.dtype} of shape "
                         f"{indices.shape}")
    if indices.size and (indices.min() < 0 or indices.max() >= n_categories):
        raise ValueError(f"one_hot: expected indices in 0..{n_categories - 1}, "
                         f"got values in [{indices.min()}, {indices.max()}]")
    rows = np.eye(n_categories, dtype=dtype)[indices]  # (N, ...) -> (N, ..., K)
    return np.ascontiguousarray(np.moveaxis(rows, -1, 1))  # (N, ..., K) -> (N, K, ...)


def mode(logits):
    """The most likely category at each pixel: argmax over axis 1, (N, K, H, W) -> (N, H, W) uint8.

    A tie goes to the LOWEST index (numpy's argmax returns the first maximum). The rule is fixed, not left
    to the library, because the sprite decoders in other languages must pick the same category byte for byte.
    """
    if logits.ndim < 2 or not 1 <= logits.shape[1] <= 256:
        raise ShapeError(f"mode: expected logits (N, K, ...) with 1 <= K <= 256 (uint8 categories), got {logits.shape}")
    return np.argmax(logits, axis=1).astype(np.uint8)


def likelihood_from_config(cfg):
    """Rebuild a likelihood from its config(): {"kind": "bernoulli"}, {"kind": "gaussian", "sigma": s} or
    {"kind": "categorical", "n_categories": K}."""
    cfg = dict(cfg)
    kind = cfg.pop("kind", None)
    if kind == "bernoulli":
        return Bernoulli()
    if kind == "gaussian":
        return Gaussian(**cfg)
    if kind == "categorical":
        return Categorical(**cfg)
    raise ValueError(f"likelihood: expected kind 'bernoulli', 'gaussian' or 'categorical', got {kind!r}")
