"""Corruptions measured on a million elements, against binomial and Gaussian tolerances of 5 sigma."""

import numpy as np
import pytest
from scipy.special import ndtr

from tinyae.noise import gaussian, masking, salt_and_pepper

N = 1_000_000
CORRUPTIONS = [
    lambda x, rng: gaussian(x, rng, sigma=0.2),
    lambda x, rng: gaussian(x, rng, sigma=0.2, clip=False),
    lambda x, rng: salt_and_pepper(x, rng, p=0.3),
    lambda x, rng: masking(x, rng, nu=0.3),
]


def interior_images(dtype=np.float32, shape=(100, 1, 100, 100)):
    """Values strictly inside (0, 1), so that every corrupted element visibly changes."""
    return np.random.default_rng(123).uniform(0.1, 0.9, size=shape).astype(dtype)


def assert_binomial(count, n, p):
    """count ~ Binomial(n, p) to within 5 standard deviations."""
    assert abs(count - n * p) <= 5 * np.sqrt(n * p * (1 - p)), (count, n * p)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_salt_and_pepper_corrupts_a_fraction_p_half_salt_half_pepper(p):
    x = interior_images()
    y = salt_and_pepper(x, np.random.default_rng(0), p)
    changed = y != x
    assert_binomial(changed.sum(), N, p)
    salt = (y == 1).sum()
    pepper = (y == 0).sum()
    assert salt + pepper == changed.sum()
    assert_binomial(salt, changed.sum(), 0.5)
    np.testing.assert_array_equal(y[~changed], x[~changed])


def test_salt_and_pepper_corrupts_every_region_alike():
    # One global coin per image, or hits only in some rows, would fail this.
    y = salt_and_pepper(interior_images(), np.random.default_rng(1), 0.2)
    per_row = ((y == 0) | (y == 1)).mean(axis=(0, 1, 3))  # (100,) fraction per image row
    assert np.all(np.abs(per_row - 0.2) <= 5 * np.sqrt(0.2 * 0.8 / 10_000))


@pytest.mark.parametrize("nu", [0.1, 0.5, 0.75])
def test_masking_zeroes_a_fraction_nu_and_keeps_the_rest_exactly(nu):
    x = interior_images()
    y = masking(x, np.random.default_rng(0), nu)
    zeroed = y == 0
    assert_binomial(zeroed.sum(), N, nu)
    np.testing.assert_array_equal(y[~zeroed], x[~zeroed])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sigma", [0.05, 0.3])
def test_gaussian_adds_zero_mean_noise_of_variance_sigma_squared(dtype, sigma):
    x = np.full((1000, 1000), 0.5, dtype=dtype)
    eps = (gaussian(x, np.random.default_rng(0), sigma, clip=False) - x).astype(np.float64)
    assert abs(eps.mean()) <= 5 * sigma / np.sqrt(N)
    # Var of the sample variance of a Gaussian is 2 sigma^4 / n.
    assert abs(eps.var() - sigma**2) <= 5 * sigma**2 * np.sqrt(2 / N)
    # Gaussian shape, not just its first two moments: P(|eps| > sigma) = 2 (1 - Phi(1)).
    assert_binomial((np.abs(eps) > sigma).sum(), N, 2 * (1 - ndtr(1.0)))


def test_gaussian_clip_is_exactly_the_clipped_unclipped_noise():
    x = interior_images(np.float64)
    free = gaussian(x, np.random.default_rng(5), 0.5, clip=False)
    clipped = gaussian(x, np.random.default_rng(5), 0.5)
    np.testing.assert_array_equal(clipped, np.clip(free, 0, 1))
    assert free.min() < 0 and free.max() > 1
    assert clipped.min() == 0 and clipped.max() == 1


def test_zero_strength_changes_nothing():
    x = interior_images(np.float64, shape=(4, 3, 5, 5))
    rng = np.random.default_rng(0)
    for y in (gaussian(x, rng, 0.0), salt_and_pepper(x, rng, 0.0), masking(x, rng, 0.0)):
        np.testing.assert_array_equal(y, x)


def test_full_strength():
    x = interior_images(np.float64, shape=(4, 3, 5, 5))
    rng = np.random.default_rng(0)
    assert np.all(masking(x, rng, 1.0) == 0)
    assert set(np.unique(salt_and_pepper(x, rng, 1.0))) == {0.0, 1.0}


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_untouched_new_array_same_dtype(corrupt, dtype):
    x = interior_images(dtype, shape=(8, 3, 6, 6))
    before = x.copy()
    y = corrupt(x, np.random.default_rng(0))
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(x, y)
    assert y.dtype == dtype and y.shape == x.shape


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_deterministic_per_seed(corrupt):
    x = interior_images(shape=(8, 1, 10, 10))
    a = corrupt(x, np.random.default_rng(42))
    np.testing.assert_array_equal(a, corrupt(x, np.random.default_rng(42)))
    assert np.any(a != corrupt(x, np.random.default_rng(43)))


@pytest.mark.parametrize("corrupt", [salt_and_pepper, masking])
def test_same_seed_hits_same_positions_in_float32_and_float64(corrupt):
    x64 = interior_images(np.float64, shape=(8, 1, 10, 10))
    y64 = corrupt(x64, np.random.default_rng(7), 0.4)
    y32 = corrupt(x64.astype(np.float32), np.random.default_rng(7), 0.4)
    np.testing.assert_array_equal(y64 != x64, y32 != x64.astype(np.float32))


@pytest.mark.parametrize("corrupt, name", [(salt_and_pepper, "p"), (masking, "nu")])
@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_fraction_outside_0_1_is_refused(corrupt, name, bad):
    with pytest.raises(ValueError, match=rf"{name} must be a fraction in \[0, 1\], got {bad}"):
        corrupt(np.zeros(3), np.random.default_rng(0), bad)


@pytest.mark.parametrize("bad", [-0.1, float("inf"), float("nan")])
def test_bad_sigma_is_refused(bad):
    with pytest.raises(ValueError, match=f"sigma must be a finite standard deviation >= 0, got {bad}"):
        gaussian(np.zeros(3), np.random.default_rng(0), bad)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator.*got int"):
        masking(np.zeros(3), 0, 0.5)
    with pytest.raises(TypeError, match="got RandomState"):
        gaussian(np.zeros(3), np.random.RandomState(0), 0.1)


@pytest.mark.parametrize("x, found", [(np.zeros(3, dtype=np.uint8), "uint8"), ([0.5, 0.5], "list")])
def test_x_must_be_a_float_array(x, found):
    with pytest.raises(TypeError, match=f"float32 or float64 numpy array, got {found}"):
        salt_and_pepper(x, np.random.default_rng(0), 0.1)
