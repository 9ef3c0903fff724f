"""Corruptions for denoising autoencoders: x -> x~, the input the network must learn to clean.

Each function takes a float array ``x`` of any shape (usually NCHW images in [0, 1]) and a
``numpy.random.Generator``, and returns a new array of the same shape and dtype; ``x`` is never modified.
Corruption is independent per element: in an (N, C, H, W) array every channel value is its own draw.
The masking and salt-and-pepper draws are made in float64 whatever the dtype of ``x``, so one seed
corrupts the same positions of a float32 and a float64 copy of the same data.

Reference: Vincent et al., "Stacked Denoising Autoencoders", JMLR 11 (2010), section 4.1, which
defines the same three corruptions (there the fraction is exact per example; here each element is
hit independently, so the corrupted fraction is p on average and Binomial(n, p) / n in a given draw).
"""

import numpy as np


def _check_input(x, rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        found = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"x must be a float32 or float64 numpy array, got {found}")


def _check_fraction(name, p):
    if not 0.0 <= p <= 1.0:  # also refuses NaN
        raise ValueError(f"{name} must be a fraction in [0, 1], got {p}")


def gaussian(x, rng, sigma, clip=True):
    """Additive Gaussian noise: x~ = x + sigma * eps, eps ~ N(0, 1) independently per element.

    With ``clip=True`` the result is clipped to [0, 1], the range of an image: the added noise then
    no longer has mean 0 near 0 and 1, which is the price of a valid image.
    x: any shape, float32 or float64. sigma: standard deviation, finite and >= 0.
    """
    _check_input(x, rng)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite standard deviation >= 0, got {sigma}")
    eps = rng.standard_normal(x.shape, dtype=x.dtype)
    noisy = x + x.dtype.type(sigma) * eps
    return np.clip(noisy, 0, 1, out=noisy) if clip else noisy


def salt_and_pepper(x, rng, p):
    """Salt-and-pepper noise: each element is, independently, corrupted with probability p.

    A corrupted element is set to 0 (pepper) or 1 (salt) by a fair coin, so
        P(x~ = 0) = P(x~ = 1) = p/2 for a corrupted draw, and x~ = x with probability 1 - p.
    (An element already equal to the value drawn is "corrupted" without changing.)
    x: any shape, float32 or float64. p: in [0, 1].
    """
    _check_input(x, rng)
    _check_fraction("p", p)
    hit = rng.random(x.shape) < p
    salt = rng.random(x.shape) < 0.5
    return np.where(hit, salt, x).astype(x.dtype, copy=False)


def masking(x, rng, nu):
    """Masking noise: each element is, independently, set to 0 with probability nu; x~ = x * m, m ~ Bernoulli(1 - nu).

    x: any shape, float32 or float64. nu: in [0, 1].
    """
    _check_input(x, rng)
    _check_fraction("nu", nu)
    keep = rng.random(x.shape) >= nu
    return np.where(keep, x, x.dtype.type(0))
