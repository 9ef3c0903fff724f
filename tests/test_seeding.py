"""procgen.seeding: golden values, scalar == vectorized bit for bit, statistics, neighbours, no global state."""

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from procgen.errors import ProcgenError
from procgen.seeding import (
    batch_key,
    batch_keys,
    fnv1a64,
    key,
    keys,
    latent_from_key,
    latents_from_keys,
    mix64,
    normal_from_uniform,
    splitmix64,
)


# --- golden values: published references, then numbers computed once and pinned --------------------


def test_splitmix64_matches_published_reference_for_seed_0():
    # Vigna's splitmix64.c seeded with 0
    assert splitmix64(0, 3) == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_fnv1a64_matches_published_test_vectors():
    # Fowler/Noll/Vo test vectors
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    assert fnv1a64("foobar") == 0x85944171F73967E8


def test_mix64_golden_values_and_twos_complement():
    assert mix64(0) == 0
    assert mix64(1) == 0x5692161D100B05E5
    assert mix64(-1) == mix64(2**64 - 1) == 0xB4D055FCF2CBBD7B


def test_key_golden_values():
    assert key(42, "plants", 10, -3) == 17792242116406687112
    assert key(42, "plants", 10, -3, cls=0) == 3325611473179626761
    assert key(42, "plants", 10, -3, cls="fern") == 5673058984497964121
    assert batch_key(42, 0, "plants") == 165465555820367519


def test_latent_golden_values_bit_for_bit():
    z = latent_from_key(17792242116406687112, 4)
    expected = ["-0x1.9efaacbfe0878p-6", "-0x1.ac759f65fbafdp-3", "0x1.5654769e24f42p+0", "0x1.afecc7acb3447p-1"]
    assert [float.hex(float(v)) for v in z] == expected


def test_normal_from_uniform_golden_values_bit_for_bit_in_both_tails_and_the_centre():
    u = np.array([2.0**-53, 1e-10, 0.01, 0.3, 0.99])
    expected = ["-0x1.06b48525582dap+3", "-0x1.9720359482785p+2", "-0x1.29c5c463cecf2p+1",
                "-0x1.0c7e395d14936p-1", "0x1.29c5c463cecf2p+1"]
    assert [float.hex(float(v)) for v in normal_from_uniform(u)] == expected


# --- keys ------------------------------------------------------------------------------------------


def test_vectorized_keys_equal_scalar_keys_including_negative_and_extreme_coordinates():
    coords = np.array([0, 1, -1, 2**31, -(2**31), 2**63 - 1, -(2**63)], dtype=np.int64)
    xs, ys = np.meshgrid(coords, coords, indexing="ij")
    for cls in (None, 3, "fern"):
        fast = keys(-5, "plants", xs, ys, cls=cls)
        slow = [[key(-5, "plants", int(x), int(y), cls=cls) for y in coords] for x in coords]
        assert fast.dtype == np.uint64
        assert fast.tolist() == slow


def test_vectorized_batch_keys_equal_scalar_batch_keys():
    idx = np.array([0, 1, 2, 1000, 2**40])
    assert batch_keys(9, idx, "clothing", cls=2).tolist() == [batch_key(9, int(i), "clothing", cls=2) for i in idx]


def test_numpy_integer_arguments_give_the_same_key_as_python_ints():
    assert key(np.int64(42), "plants", np.int32(10), np.int64(-3)) == key(42, "plants", 10, -3)


def test_every_tile_of_a_chunk_and_its_neighbours_gets_a_distinct_key():
    grid = keys(123, "plants", *np.mgrid[-32:32, -32:32])  # (64, 64)
    assert np.unique(grid).size == grid.size
    assert np.all(grid[1:, :] != grid[:-1, :]) and np.all(grid[:, 1:] != grid[:, :-1])


@pytest.mark.parametrize(
    "other",
    [
        dict(world=43), dict(kind="clothing"), dict(x=3, y=10), dict(cls=0), dict(cls="0"),
    ],
)
def test_each_input_changes_the_key(other):
    base = dict(world=42, kind="plants", x=10, y=3, cls=None)
    assert key(**{**base, **other}) != key(**base)


def test_batch_keys_and_world_keys_are_separate_domains():
    # the same words in the two domains must not give the same key
    assert batch_key(42, 5, "plants") != key(42, "plants", 5, 0)
    assert batch_key(1, 0, "plants") != batch_key(0, 1, "plants")


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: key(1.5, "plants", 0, 0), "world must be an int"),
        (lambda: key(1, "plants", 0.0, 0), "x must be an int"),
        (lambda: key(1, "plants", 0, True), "y must be an int"),
        (lambda: key(1, "plants", 2**64, 0), "x must lie in"),
        (lambda: key(1, "plants", -(2**63) - 1, 0), "x must lie in"),
        (lambda: key(1, "", 0, 0), "kind must be a non-empty str"),
        (lambda: key(1, None, 0, 0), "kind must be a non-empty str"),
        (lambda: key(1, "plants", 0, 0, cls=1.0), "cls must be an int"),
        (lambda: batch_key(1, -1, "plants"), "index must be an int >= 0"),
        (lambda: batch_keys(1, np.array([0, -2]), "plants"), "indices must be non-negative"),
        (lambda: keys(1, "plants", np.zeros(3), 0), "xs must be an array of ints"),
        (lambda: latent_from_key(5, 0), "dim must be an int >= 1"),
        (lambda: normal_from_uniform(np.array([0.5, 1.0])), r"strictly inside \(0, 1\)"),
        (lambda: latents_from_keys(np.zeros((2, 2), dtype=np.uint64), 4), "keys must be a 1-D array"),
    ],
)
def test_bad_arguments_raise_a_procgen_error_naming_them(call, fragment):
    with pytest.raises(ProcgenError, match=fragment):
        call()


# --- latents ---------------------------------------------------------------------------------------


def test_vectorized_latents_equal_scalar_latents_bit_for_bit():
    ks = keys(7, "plants", np.arange(-50, 50), 3)
    fast = latents_from_keys(ks, 17)
    slow = np.stack([latent_from_key(int(k), 17) for k in ks])
    assert fast.dtype == np.float64 and fast.shape == (100, 17)
    assert np.array_equal(fast.view(np.uint64), slow.view(np.uint64))


def test_latent_is_a_prefix_stream_so_longer_latents_extend_shorter_ones():
    k = key(1, "plants", 0, 0)
    assert np.array_equal(latent_from_key(k, 64)[:8], latent_from_key(k, 8))


def test_normal_from_uniform_matches_scipy_ndtri_within_acklams_bound():
    # cell midpoints across (0, 1), the two extreme cells and both sides of the tail switch at 0.02425
    u = (np.linspace(0, 2**52 - 1, 200_001).round() + 0.5) * 2.0**-52
    u = np.concatenate([u, [2.0**-53, 1 - 2.0**-53, 1e-12, 0.02425, 0.0242499, 0.97575, 0.9757501]])
    z = normal_from_uniform(u)
    exact = special.ndtri(u)
    assert np.all(np.abs(z - exact) <= 1.15e-9 * np.abs(exact) + 1e-15)


def test_normal_from_uniform_is_odd_bit_for_bit_around_one_half():
    m = np.array([0, 1, 12345, 2**40, 2**51 - 1, 2**51 + 7], dtype=np.float64)
    u = (m + 0.5) * 2.0**-52
    mirrored = ((2**52 - 1 - m) + 0.5) * 2.0**-52  # exactly 1 - u
    assert np.array_equal(normal_from_uniform(mirrored), -normal_from_uniform(u))


def test_100k_latent_draws_are_standard_normal():
    z = latents_from_keys(keys(2024, "plants", np.arange(10_000), 0), 10).ravel()
    # 5 standard errors: se(mean) = 1/sqrt(n) = 0.0032, se(var) = sqrt(2/n) = 0.0045
    assert abs(z.mean()) < 0.016
    assert abs(z.var() - 1.0) < 0.023
    assert stats.kstest(z, "norm").pvalue > 0.01
    # the tails are there too: P(|z| > 3) = 0.0027
    assert 0.0020 < np.mean(np.abs(z) > 3) < 0.0034


def test_neighbouring_tiles_have_uncorrelated_latents():
    z = latents_from_keys(keys(5, "plants", np.arange(20_001), 0), 8)
    r = np.corrcoef(z[:-1].ravel(), z[1:].ravel())[0, 1]
    assert abs(r) < 0.01  # 5 standard errors of a correlation over 160k pairs


# --- no global state ----------------------------------------------------------------------------------


def test_global_random_state_is_neither_read_nor_written():
    np.random.seed(0)
    random.seed(0)
    first = latent_from_key(key(3, "plants", 1, 2), 8), latents_from_keys(keys(3, "plants", np.arange(4), 0), 8)
    assert np.random.random() == np.random.RandomState(0).random_sample()  # numpy's global stream untouched
    assert random.random() == random.Random(0).random()  # and Python's
    np.random.seed(999)
    random.seed(999)
    again = latent_from_key(key(3, "plants", 1, 2), 8), latents_from_keys(keys(3, "plants", np.arange(4), 0), 8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_keys_do_not_depend_on_pythons_string_hash_seed():
    code = "from procgen.seeding import key; print(key(42, 'plants', 10, -3, cls='fern'))"
    outs = set()
    root = Path(__file__).resolve().parents[1]  # so that the child imports this checkout's procgen
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outs.add(run.stdout)
    assert outs == {f"{key(42, 'plants', 10, -3, cls='fern')}\n"}
