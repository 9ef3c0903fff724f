"""procgen.plants: seeded L-system sprites: determinism, species that differ, sensible alpha, the dataset."""

import itertools

import numpy as np
import pytest

from procgen.errors import ProcgenError
from procgen.plants import SPECIES, SPECIES_TABLE, make_plant_dataset, render_plant


def sprites(species, seed, n):
    rng = np.random.default_rng(seed)
    return np.array([render_plant(species, rng) for _ in range(n)])


def species_colours(species):
    spec = SPECIES_TABLE[species]
    return {tuple(c) for c in (*spec.stems, *spec.leaves, *(c for pair in spec.blossoms for c in pair))}


@pytest.mark.parametrize("species", SPECIES)
def test_the_same_seed_gives_the_same_sprite(species):
    assert np.array_equal(sprites(species, 11, 3), sprites(species, 11, 3))


@pytest.mark.parametrize("species", SPECIES)
def test_different_seeds_and_successive_draws_differ(species):
    batch = np.concatenate([sprites(species, seed, 4) for seed in range(3)])  # 12 sprites
    for a, b in itertools.combinations(batch, 2):
        assert np.mean(np.any(a != b, axis=-1)) > 0.01  # more than ~10 of 1024 pixels


@pytest.mark.parametrize("species", SPECIES)
def test_sprites_are_binary_alpha_pixel_art_anchored_at_the_bottom_centre(species):
    batch = sprites(species, 3, 12)
    assert batch.dtype == np.uint8 and batch.shape == (12, 32, 32, 4)
    alpha = batch[..., 3]
    assert set(np.unique(alpha)) == {0, 255}
    assert not batch[alpha == 0].any()  # transparent pixels are (0, 0, 0, 0)
    coverage = (alpha > 0).mean(axis=(1, 2))
    assert np.all((coverage > 0.04) & (coverage < 0.6))
    # every opaque pixel is one of the species' colours: no blending at edges
    assert {tuple(c) for c in batch[alpha > 0][:, :3]} <= species_colours(species)
    for a in alpha > 0:
        assert a[-1].any()  # stands on the bottom row
        # the stem base is on the centre column, in the bottom quarter: leaves and fronds may reach lower
        assert np.flatnonzero(a[:, 15:18].any(axis=1)).max() >= 24
        rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
        fills = max(rows[-1] - rows[0] + 1, 2 * max(16 - cols[0], cols[-1] - 15)) / 32
        assert fills >= 0.85  # scaled to fit: fills the height or the width about the centre


def test_species_have_measurably_different_silhouettes():
    train = {s: (sprites(s, 0, 30)[..., 3] > 0).mean(axis=0) for s in SPECIES}  # mean silhouettes
    for a, b in itertools.combinations(SPECIES, 2):
        assert np.abs(train[a] - train[b]).mean() > 0.05, (a, b)
    # a held-out plant is nearest to the mean silhouette of its own species
    means = np.array([train[s] for s in SPECIES])
    hits = [
        np.argmin(((means - (sprite[..., 3] > 0)) ** 2).sum(axis=(1, 2))) == k
        for k, s in enumerate(SPECIES)
        for sprite in sprites(s, 1, 10)
    ]
    assert np.mean(hits) >= 0.9


def test_other_sizes_keep_the_layout():
    rng = np.random.default_rng(0)
    for size in (16, 48):
        sprite = render_plant("bush", rng, size=size)
        assert sprite.shape == (size, size, 4) and sprite[-1, :, 3].any()


def test_dataset_is_balanced_deterministic_and_in_nchw_float32():
    images, labels = make_plant_dataset(23, np.random.default_rng(4))
    assert images.shape == (23, 4, 32, 32) and images.dtype == np.float32
    assert labels.shape == (23,) and labels.dtype == np.int64
    assert images.min() >= 0.0 and images.max() <= 1.0
    counts = np.bincount(labels, minlength=len(SPECIES))
    assert counts.max() - counts.min() <= 1
    assert len(set(labels[:10].tolist())) > 1  # shuffled, not in blocks
    again_images, again_labels = make_plant_dataset(23, np.random.default_rng(4))
    assert np.array_equal(images, again_images) and np.array_equal(labels, again_labels)


def test_dataset_labels_index_the_species_argument():
    images, labels = make_plant_dataset(10, np.random.default_rng(2), species=["succulent", "fern"])
    assert np.bincount(labels).tolist() == [5, 5]
    for image, label in zip(images, labels):
        rgba = np.rint(image.transpose(1, 2, 0) * 255).astype(np.uint8)
        colours = {tuple(c) for c in rgba[rgba[..., 3] > 0][:, :3]}
        assert colours <= species_colours(["succulent", "fern"][label])


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: render_plant("cactus", np.random.default_rng(0)), "species must be one of fern"),
        (lambda: render_plant("fern", 0), "rng must be a numpy.random.Generator"),
        (lambda: render_plant("fern", np.random.default_rng(0), size=4), "size must be an int >= 8"),
        (lambda: make_plant_dataset(-1, np.random.default_rng(0)), "n must be an int >= 0"),
        (lambda: make_plant_dataset(4, np.random.default_rng(0), species=["fern", "oak"]), "species must be"),
        (lambda: make_plant_dataset(4, np.random.default_rng(0), species=[]), "species must be"),
    ],
)
def test_bad_arguments_raise_a_procgen_error_naming_them(call, fragment):
    with pytest.raises(ProcgenError, match=fragment):
        call()
