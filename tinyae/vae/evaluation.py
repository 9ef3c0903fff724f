"""How good is a trained VAE, in nats per image on held-out data.

The negative ELBO, split into its two terms (one z ~ q(z | x) per image, so a stochastic estimate):

    -ELBO(x) = E_q[-log p(x | z)] + KL(q(z | x) || p(z))  >=  -log p(x)
                    recon               kl (closed form)

It only bounds the quantity we care about, log p(x). The importance-weighted estimate
(Burda et al. 2016, "Importance Weighted Autoencoders") tightens the bound with K samples:

    log p(x) >= L_K(x) = E[ log (1/K) sum_k w_k ],   w_k = p(x | z_k) p(z_k) / q(z_k | x),  z_k ~ q(z | x)

L_1 is the ELBO, L_K never decreases with K, and L_K -> log p(x) as K -> infinity. Each w_k is
e^(hundreds of nats), so the average is taken in log space (log-mean-exp).
"""

import numpy as np

from tinyae.losses import kl_diag_gaussian
from tinyae.vae.gaussian import log_prob_ratio, reparameterize


def log_mean_exp(a, axis=0):
    """log((1/K) sum_k exp(a_k)) = m + log((1/K) sum_k exp(a_k - m)), m = max_k a_k.

    Subtracting the max makes the largest term exp(0) = 1: nothing overflows, and the sum is >= 1
    so its log is finite even when every a_k is -1000.
    """
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.mean(np.exp(a - m), axis=axis))


def negative_elbo(vae, x, target, rng, batch_size=500, labels=None):
    """{"neg_elbo", "recon", "kl"}: the negative ELBO and its two terms, nats per image averaged over x.

    recon uses one z ~ q(z | x) per image; kl is exact. beta is 1 here whatever the model trained with.
    labels: the (N,) classes of x, for a ConditionalVAE (None otherwise).
    """
    recon = kl = 0.0
    for i in range(0, x.shape[0], batch_size):
        xb, tb = x[i:i + batch_size], target[i:i + batch_size]
        lb = None if labels is None else labels[i:i + batch_size]
        mu, logvar, _ = vae.posterior(xb, labels=lb)
        z, _ = reparameterize(mu, logvar, rng.standard_normal(mu.shape).astype(mu.dtype))
        recon += float(np.sum(vae.likelihood.nll(vae.decoder_logits(z, lb), tb)))
        kl += kl_diag_gaussian(mu.astype(np.float64), logvar.astype(np.float64), reduction="sum")[0]
    n = x.shape[0]
    return {"neg_elbo": (recon + kl) / n, "recon": recon / n, "kl": kl / n}


def importance_weighted_log_likelihood(vae, x, target, k, rng, rows=8192, labels=None):
    """The IWAE estimate L_K of log p(x), per image, (N, ...) -> (N,) in nats (higher is better).

    log w_k = -nll(x | z_k) + log p(z_k) - log q(z_k | x); images go through in batches so that
    K * batch <= rows decoder passes at a time. labels: (N,) classes for a ConditionalVAE, whose
    estimate is then of log p(x | y).
    """
    if int(k) < 1:
        raise ValueError(f"importance_weighted_log_likelihood: k must be >= 1, got {k!r}")
    k = int(k)
    batch = max(1, rows // k)
    out = []
    for i in range(0, x.shape[0], batch):
        xb, tb = x[i:i + batch], target[i:i + batch]
        n = xb.shape[0]
        lb = None if labels is None else labels[i:i + batch]
        mu, logvar, _ = vae.posterior(xb, labels=lb)
        eps = rng.standard_normal((k,) + mu.shape).astype(mu.dtype)  # (K, n, d)
        z, _ = reparameterize(mu, logvar, eps)  # (n, d) broadcast against (K, n, d)
        lk = None if lb is None else np.tile(lb, k)  # (n,) -> (K * n,), in the order of z's rows below
        logits = vae.decoder_logits(z.reshape(k * n, -1), lk)  # (K, n, d) -> (K * n, d)
        targets = np.broadcast_to(tb, (k,) + tb.shape).reshape((k * n,) + tb.shape[1:])  # (K, n, ...) -> (K * n, ...)
        log_w = -vae.likelihood.nll(logits, targets).reshape(k, n) + log_prob_ratio(z, eps, logvar)  # (K, n)
        out.append(log_mean_exp(log_w, axis=0))
    return np.concatenate(out)
