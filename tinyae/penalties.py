"""Penalties on an autoencoder's code h (N, K), each returning (value, gradients) like a loss.

Each value is a per-example quantity averaged over the N examples of the batch (the KL sparsity
is a function of the batch-mean activation), summed over the K code units. A model adds
weight * value to its reconstruction loss, and weight * gradient to the code's upstream gradient.
"""

import numpy as np

from tinyae.errors import ShapeError

# rho_hat is kept this far from 0 and 1: a saturated float32 sigmoid rounds to exactly 0 or 1, where KL is infinite.
RHO_HAT_EPS = 1e-7


def _check_code(h, name):
    if not isinstance(h, np.ndarray) or h.ndim != 2:
        raise ShapeError(f"{name}: expected a code h of shape (N, K), got {getattr(h, 'shape', type(h).__name__)}")


def kl_sparsity(h, rho):
    """KL sparsity of the mean activations (Ng, "Sparse autoencoder", CS294A lecture notes, 2011).

        rho_hat_j = (1/N) sum_n h[n, j]                     mean activation of unit j, in (0, 1)
        value     = sum_j KL(rho || rho_hat_j)
                  = sum_j rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j))
        d value / d rho_hat_j = -rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j)
        d value / d h[n, j]   = (1/N) d value / d rho_hat_j          (every example moves rho_hat_j by 1/N)

    h: (N, K) in [0, 1], e.g. a sigmoid code layer. rho: the target mean activation, in (0, 1).
    Returns (value, dh) with dh (N, K). rho_hat is clamped to [1e-7, 1 - 1e-7]; the gradient is the
    formula's at the clamped value, which still pushes a saturated unit back.
    """
    _check_code(h, "kl_sparsity")
    if not 0.0 < rho < 1.0:
        raise ValueError(f"kl_sparsity: rho must be in (0, 1), got {rho}")
    if h.size and (h.min() < 0 or h.max() > 1):
        raise ShapeError(f"kl_sparsity: expected activations in [0, 1] (a sigmoid code), got values in "
                         f"[{h.min():.4g}, {h.max():.4g}]")
    n = h.shape[0]
    rho_hat = np.clip(h.mean(axis=0, dtype=np.float64), RHO_HAT_EPS, 1 - RHO_HAT_EPS)  # (K,)
    value = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    d_rho_hat = -rho / rho_hat + (1 - rho) / (1 - rho_hat)                                  # (K,)
    dh = np.broadcast_to(d_rho_hat / n, h.shape).astype(h.dtype)                            # (N, K)
    return float(value), dh


def l1_activity(h):
    """L1 activity penalty, the alternative to KL that needs no bounded code:

        value = (1/N) sum_n sum_j |h[n, j]|
        d value / d h[n, j] = sign(h[n, j]) / N        (0 at h = 0, the subgradient we choose)

    h: (N, K). Returns (value, dh) with dh (N, K).
    """
    _check_code(h, "l1_activity")
    n = h.shape[0]
    value = np.sum(np.abs(h), dtype=np.float64) / n
    return float(value), (np.sign(h) / n).astype(h.dtype)


def contractive(h, W):
    """Contractive penalty (Rifai et al. 2011) of one sigmoid layer h = sigma(x W + b), in closed form.

    Shapes: x (N, D), W (D, K), b (K,), h (N, K). Per example, the Jacobian of h w.r.t. x is
        J[j, i] = d h_j / d x_i = h_j (1 - h_j) W[i, j]
    so, writing g = h (1 - h) (N, K) and s_j = sum_i W[i, j]^2 (K,),
        ||J||_F^2 = sum_j g_j^2 s_j
        value     = (1/N) sum_n sum_j g[n, j]^2 s_j

    The value depends on W twice: through h (h = sigma(x W + b)) and directly through s. This returns
    the two partial derivatives, and the layers' own backward passes apply the chain rule to the first:
        dh     = d value / d h[n, j]   (W held fixed) = (2/N) g[n, j] (1 - 2 h[n, j]) s_j     (dg/dh = 1 - 2h)
        dW_dir = d value / d W[i, j]   (h held fixed) = (2/N) W[i, j] sum_n g[n, j]^2
    The full gradients then follow through a = x W + b and h = sigma(a), with da = dh * g:
        d value / d W = x^T da + dW_dir,    d value / d b = sum_n da,    d value / d x = da W^T

    Returns (value, dh (N, K), dW_dir (D, K)).
    """
    _check_code(h, "contractive")
    if not isinstance(W, np.ndarray) or W.ndim != 2 or W.shape[1] != h.shape[1]:
        raise ShapeError(f"contractive: expected W of shape (D, {h.shape[1]}), got {getattr(W, 'shape', None)}")
    n = h.shape[0]
    g = h * (1 - h)                               # (N, K)
    s = np.sum(W * W, axis=0)                     # (K,)
    value = np.sum(g * g * s, dtype=np.float64) / n
    dh = (2.0 / n) * g * (1 - 2 * h) * s          # (N, K)
    dW_direct = (2.0 / n) * W * np.sum(g * g, axis=0)  # (D, K)
    return float(value), dh.astype(h.dtype, copy=False), dW_direct.astype(W.dtype, copy=False)
