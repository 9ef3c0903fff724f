"""The diagonal Gaussian posterior q(z | x) = N(mu, diag(exp(logvar))): clamp, sample, differentiate.

The encoder predicts log sigma^2 rather than sigma so that any real number is a valid output.
Sampling is rewritten so that the randomness sits outside the network (the reparameterization trick,
Kingma & Welling 2014, section 2.4):

    z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I)

With eps held fixed, z is an ordinary differentiable function of (mu, logvar):

    dz/dmu     = 1
    dz/dlogvar = eps * 0.5 * exp(logvar / 2)     (= 0.5 * sigma * eps)

Shapes: mu, logvar, eps, z all (N, d).
"""

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))


def clamp_logvar(raw, low, high):
    """logvar = clip(raw, low, high), and the mask where the clip is the identity.

    Why clamp: early in training the encoder can emit logvar of +-100; exp(logvar) then overflows to
    inf (float32 overflows past 88) or sigma collapses to exactly 0, and the KL term
    0.5 * (exp(logvar) - logvar) turns into inf or NaN that poisons every weight in one step.
    [-10, 10] allows sigma from 0.0067 to 148, far wider than a trained VAE uses.

    d logvar / d raw = 1 inside [low, high], 0 outside: the clip is flat there, so the gradient of
    every term that uses logvar (reconstruction and KL alike) is zeroed by the same mask.
    """
    inside = (raw >= low) & (raw <= high)
    return np.clip(raw, low, high), inside


def reparameterize(mu, logvar, eps):
    """z = mu + exp(logvar / 2) * eps; returns (z, sigma)."""
    sigma = np.exp(0.5 * logvar)
    return mu + sigma * eps, sigma


def reparameterize_backward(dz, sigma, eps):
    """(dL/dmu, dL/dlogvar) from dL/dz, by the chain rule through z = mu + sigma * eps."""
    dmu = dz
    dlogvar = dz * eps * 0.5 * sigma
    return dmu, dlogvar


def log_prob_ratio(z, eps, logvar):
    """log p(z) - log q(z | x) per example, (N, d) -> (N,), for p = N(0, I), q = N(mu, sigma^2).

        log p(z)     = -0.5 * sum_j (z_j^2 + log 2pi)
        log q(z | x) = -0.5 * sum_j (eps_j^2 + logvar_j + log 2pi)     since (z - mu) / sigma = eps
    The log 2pi terms cancel.
    """
    return 0.5 * np.sum(eps * eps + logvar - z * z, axis=-1, dtype=np.float64)
