"""Reconstruction and regularization losses. Each returns (value, gradient w.r.t. its inputs).

The reduction is stated per call and the gradient always matches it:
    "mean":  L = (1 / numel) * sum_all l         (Keras' default: average over every element)
    "sum":   L = sum_all l
    "batch": L = (1 / N) * sum_n sum_i l[n, i]   (sum over each example, mean over the batch:
             the VAE convention, where one example's log-likelihood is a sum over its pixels)
"""

import numpy as np

from tinyae.errors import ShapeError
from tinyae.layers.activations import log_softmax, sigmoid, softmax


def _scale(reduction, shape, loss_name):
    """The factor 1/denominator that the reduction applies to the element-wise sum."""
    if reduction == "mean":
        return 1.0 / int(np.prod(shape))
    if reduction == "sum":
        return 1.0
    if reduction == "batch":
        return 1.0 / shape[0]
    raise ValueError(f"{loss_name}: reduction must be 'mean', 'sum' or 'batch', got {reduction!r}")


def _check_pair(pred, target, loss_name):
    if not isinstance(pred, np.ndarray) or not isinstance(target, np.ndarray):
        raise ShapeError(f"{loss_name}: expected numpy arrays, got {type(pred).__name__}, {type(target).__name__}")
    if pred.shape != target.shape:
        raise ShapeError(f"{loss_name}: expected target of shape {pred.shape} (the prediction's), got {target.shape}")


def mse(pred, target, reduction="mean"):
    """Squared error  l = (pred - target)^2;  dl/dpred = 2 (pred - target), times the reduction's scale."""
    _check_pair(pred, target, "mse")
    s = _scale(reduction, pred.shape, "mse")
    diff = pred - target
    return float(s * np.sum(diff * diff, dtype=np.float64)), (2 * s) * diff


def bce_with_logits(logits, target, reduction="mean"):
    """Binary cross-entropy from logits a, for targets t in [0, 1]:

        l = -[t log sigma(a) + (1 - t) log(1 - sigma(a))] = softplus(a) - t a
          = max(a, 0) - t a + log(1 + e^-|a|)          (never overflows, never takes log 0)
        dl/da = sigma(a) - t

    Computing from logits avoids clipping probabilities, which would give a wrong gradient.
    """
    _check_pair(logits, target, "bce_with_logits")
    s = _scale(reduction, logits.shape, "bce_with_logits")
    a = logits
    l = np.maximum(a, 0) - target * a + np.log1p(np.exp(-np.abs(a)))
    return float(s * np.sum(l, dtype=np.float64)), s * (sigmoid(a) - target)


def softmax_cross_entropy(logits, target, axis=1, reduction="batch"):
    """Cross-entropy of a target distribution t against softmax(a), from the logits a, at every position:

        l = -sum_k t_k log softmax(a)_k = -sum_k t_k a_k + S logsumexp(a),   S = sum_k t_k
        dl/da_j = S softmax(a)_j - t_j        since d logsumexp(a) / da_j = softmax(a)_j;
                                              = softmax(a) - t for a one-hot or any normalized t

    logits, target: one shape, the categories along ``axis`` (not the batch axis 0), e.g. (N, K, H, W)
    with axis=1. A position is one index of every other axis (a pixel); the reduction runs over positions:
    "mean" divides the sum by their number (N H W, per pixel), "sum" does not, "batch" divides by N
    (nats per image, averaged over the batch). log softmax is computed stably (see ``log_softmax``),
    so logits of +-1e4 give finite values and gradients.
    """
    _check_pair(logits, target, "softmax_cross_entropy")
    ndim = logits.ndim
    if ndim < 2 or not -ndim <= axis < ndim or axis % ndim == 0:
        raise ValueError(f"softmax_cross_entropy: expected the category axis to be one of axes 1..{ndim - 1} "
                         f"(axis 0 is the batch), got axis={axis} for shape {logits.shape}")
    axis = axis % ndim
    positions = logits.shape[:axis] + logits.shape[axis + 1:]  # (N, K, H, W), axis 1 -> (N, H, W)
    s = _scale(reduction, positions, "softmax_cross_entropy")
    l = -target * log_softmax(logits, axis)
    total = np.sum(target, axis=axis, keepdims=True)  # S per position
    return float(s * np.sum(l, dtype=np.float64)), s * (total * softmax(logits, axis) - target)


def kl_diag_gaussian(mu, logvar, reduction="batch"):
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ), in closed form, per latent dimension:

        kl = 0.5 * (mu^2 + exp(logvar) - logvar - 1)
        dkl/dmu = mu
        dkl/dlogvar = 0.5 * (exp(logvar) - 1)

    Returns (value, dmu, dlogvar). With reduction "batch", the value is nats per example.
    """
    _check_pair(mu, logvar, "kl_diag_gaussian")
    s = _scale(reduction, mu.shape, "kl_diag_gaussian")
    var = np.exp(logvar)
    kl = 0.5 * (mu * mu + var - logvar - 1)
    return float(s * np.sum(kl, dtype=np.float64)), s * mu, (0.5 * s) * (var - 1)
