"""The decoder's likelihood p(x | z), in nats. The decoder always outputs logits a; the image is sigma(a).

Bernoulli: each pixel t in [0, 1] is scored by binary cross-entropy from the logits,
    -log p(x | z) = sum_pixels softplus(a) - t a
For binary t this is an exact negative log-likelihood. For grayscale t (Fashion-MNIST as pixel / 255,
the convention of the Keras tutorial and of PyTorch's VAE example) it is the usual surrogate and
not a normalized density; numbers are still comparable between models scored the same way.

Gaussian with FIXED variance sigma^2 (a hyperparameter, not learned), mean m = sigma(a):
    -log p(x | z) = sum_pixels (t - m)^2 / (2 sigma^2) + 0.5 log(2 pi sigma^2)
A smaller sigma weights reconstruction more heavily against the KL term.

Each likelihood gives the training loss (mean over the batch of the per-image sum, reduction
"batch") with its gradient w.r.t. the logits, and per-image values for evaluation.
"""

import numpy as np

from tinyae.layers.activations import sigmoid, softplus
from tinyae.losses import bce_with_logits, mse
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

    def config(self):
        return {"kind": self.name, "sigma": self.sigma}


def likelihood_from_config(cfg):
    """Rebuild a likelihood from {"kind": "bernoulli"} or {"kind": "gaussian", "sigma": s}."""
    cfg = dict(cfg)
    kind = cfg.pop("kind", None)
    if kind == "bernoulli":
        return Bernoulli()
    if kind == "gaussian":
        return Gaussian(**cfg)
    raise ValueError(f"likelihood: expected kind 'bernoulli' or 'gaussian', got {kind!r}")
