"""procgen.plants: palettes, index images, one piece on the ground, distinct species, the dataset, golden bytes."""

import hashlib
import itertools

import numpy as np
import pytest
from scipy import ndimage

from procgen.errors import ProcgenError
from procgen.plants import (
    SIZES, SPECIES, SPECIES_TABLE, make_plant_dataset, render_plant, render_plant_indexed, species_palette,
)
from procgen.plants import raster

EIGHT = np.ones((3, 3), dtype=bool)  # 8-connected pieces, as on screen


def indexed(species, seed, n, size=32):
    rng = np.random.default_rng(seed)
    return np.array([render_plant_indexed(species, rng, size) for _ in range(n)])


def pieces(index):
    """Pixel counts of the 8-connected pieces of the opaque pixels of one index image."""
    labels, count = ndimage.label(index > 0, structure=EIGHT)
    return np.bincount(labels.ravel(), minlength=count + 1)[1:]


def test_the_ten_species_keep_the_old_five_first_and_each_has_a_small_palette_of_its_own():
    assert SPECIES[:5] == ("fern", "bush", "flowering", "sapling", "succulent") and len(SPECIES) >= 10
    palettes = [species_palette(s) for s in SPECIES]
    for name, palette in zip(SPECIES, palettes):
        assert palette == SPECIES_TABLE[name].palette and 3 <= len(palette) <= 7
        assert len(set(palette)) == len(palette)  # no colour twice
        assert all(len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in palette)
    assert len({frozenset(p) for p in palettes}) == len(SPECIES)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("species", SPECIES)
def test_same_rng_state_same_bytes_and_indices_within_the_palette(species, size):
    first, again = indexed(species, 11, 2, size), indexed(species, 11, 2, size)
    assert first.dtype == np.uint8 and first.shape == (2, size, size)
    assert np.array_equal(first, again)
    assert first.max() <= len(species_palette(species))
    assert 0 in first  # a transparent background


@pytest.mark.parametrize("species", SPECIES)
def test_rgba_is_the_index_image_looked_up_in_the_palette(species):
    index = render_plant_indexed(species, np.random.default_rng(5), 48)
    rgba = render_plant(species, np.random.default_rng(5), 48)
    assert rgba.dtype == np.uint8 and rgba.shape == (48, 48, 4)
    assert np.array_equal(rgba[..., 3], np.where(index > 0, 255, 0))  # binary alpha
    assert not rgba[index == 0].any()  # transparent pixels are (0, 0, 0, 0)
    palette = np.array(species_palette(species), dtype=np.uint8)
    assert np.array_equal(rgba[index > 0][:, :3], palette[index[index > 0] - 1])


@pytest.mark.parametrize("size", (16, 32))
@pytest.mark.parametrize("species", SPECIES)
def test_every_plant_is_one_piece_standing_at_the_bottom_centre_and_uses_its_whole_palette(species, size):
    batch = indexed(species, 3, 50, size)
    for index in batch:
        sizes = pieces(index)
        assert len(sizes) == 1 and sizes[0] >= 3
        assert index[-1, size // 2] > 0  # the stem base
        assert np.flatnonzero(index[-1])[[0, -1]].tolist() != [0, size - 1]  # stands, not a slab
    if size == 32:  # no dead palette entry (at 16 the succulent drops its 1-px leaf edges, colour 1)
        assert set(np.unique(batch)) == set(range(len(species_palette(species)) + 1))


@pytest.mark.parametrize("species", SPECIES)
def test_plants_are_drawn_connected_not_cut_to_one_piece(species, monkeypatch):
    # the final ground-piece filter is only a safety net: without it, stems already join every part
    monkeypatch.setattr(raster, "ground_piece", lambda index: index)
    connected = [len(pieces(index)) == 1 for index in indexed(species, 8, 40)]
    assert np.mean(connected) >= 0.99


@pytest.mark.parametrize("species", SPECIES)
def test_plants_are_scaled_to_fill_the_sprite(species):
    for index in indexed(species, 4, 12):
        rows, cols = np.flatnonzero(index.any(axis=1)), np.flatnonzero(index.any(axis=0))
        fills = max(rows[-1] - rows[0] + 1, 2 * max(16 - cols[0], cols[-1] - 16)) / 32
        assert fills >= 0.85  # the height, or the width about the base column
        assert 0.04 < (index > 0).mean() < 0.75


def test_stems_are_one_pixel_at_16_and_32_and_two_at_48_and_64():
    for size, width in zip(SIZES, (1, 1, 2, 2)):
        for index in indexed("flowering", 6, 5, size):  # a single stem reaches the ground
            assert np.count_nonzero(index[-1]) == width and index[-1, size // 2] > 0


def test_different_seeds_and_successive_draws_differ():
    for species in SPECIES:
        batch = np.concatenate([indexed(species, seed, 3) for seed in range(3)])  # 9 plants
        for a, b in itertools.combinations(batch, 2):
            assert np.mean(a != b) > 0.01, species  # more than ~10 of 1024 pixels


def test_species_are_told_apart_by_a_nearest_centroid_classifier():
    # features: the mean (alpha, R, G, B) of each 4 x 4 block, an 8 x 8 grid of them
    def features(species, seed):
        rgba = np.array([render_plant(species, rng, 32) for rng in [np.random.default_rng(seed)] for _ in range(30)])
        return (rgba / 255.0).reshape(30, 8, 4, 8, 4, 4).mean(axis=(2, 4)).reshape(30, -1)
        # (30, 32, 32, 4) -> (30, 8, 4, 8, 4, 4) -> (30, 8, 8, 4) -> (30, 256)

    centroids = np.array([features(s, 0).mean(axis=0) for s in SPECIES])  # (K, 256)
    hits = []
    for k, species in enumerate(SPECIES):
        distances = ((features(species, 1)[:, None] - centroids[None]) ** 2).sum(axis=-1)  # (30, K)
        hits += (distances.argmin(axis=1) == k).tolist()
    assert np.mean(hits) >= 0.95


def test_reduce_keeps_pixels_covered_at_least_40_percent_in_their_most_frequent_index():
    samples = np.zeros((4, 12), dtype=np.uint8)  # three sprite pixels in a row, 4 x 4 samples each
    samples[:, :4] = [[2, 2, 2, 2], [2, 2, 2, 1], [1, 0, 0, 0], [0, 0, 0, 0]]  # 9 of 16 drawn, mostly 2
    samples[:, 4:8] = [[3, 3, 3, 3], [3, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]  # 6 of 16 (0.375)
    samples[:, 8:] = [[1, 1, 3, 3], [1, 1, 3, 3], [0, 0, 0, 0], [0, 0, 0, 0]]  # 8 of 16, a tie of 1 and 3
    wide = np.zeros((12, 12), dtype=np.uint8)  # reduce_samples takes square sprites: 3 x 3 pixels
    wide[:4] = samples
    assert raster.reduce_samples(wide, 3, 3).tolist() == [[2, 0, 1], [0, 0, 0], [0, 0, 0]]  # ties: the lower index


@pytest.mark.parametrize("indexed_output", (False, True))
def test_dataset_is_balanced_shuffled_and_deterministic(indexed_output):
    images, labels = make_plant_dataset(23, np.random.default_rng(4), size=16, indexed=indexed_output)
    if indexed_output:
        assert images.shape == (23, 16, 16) and images.dtype == np.uint8
    else:
        assert images.shape == (23, 4, 16, 16) and images.dtype == np.float32
        assert images.min() >= 0.0 and images.max() <= 1.0
    assert labels.shape == (23,) and labels.dtype == np.int64
    counts = np.bincount(labels, minlength=len(SPECIES))
    assert counts.max() - counts.min() <= 1
    assert len(set(labels[:10].tolist())) > 1  # shuffled, not in blocks
    again_images, again_labels = make_plant_dataset(23, np.random.default_rng(4), size=16, indexed=indexed_output)
    assert np.array_equal(images, again_images) and np.array_equal(labels, again_labels)


def test_indexed_and_rgba_datasets_are_the_same_plants():
    maps, labels = make_plant_dataset(12, np.random.default_rng(2), indexed=True)
    images, rgba_labels = make_plant_dataset(12, np.random.default_rng(2))
    assert np.array_equal(labels, rgba_labels)
    for index, image, label in zip(maps, images, labels):
        table = np.vstack([np.zeros((1, 3)), np.array(species_palette(SPECIES[label]))]) / 255
        expected = np.concatenate([table[index], (index > 0)[..., None]], axis=-1).transpose(2, 0, 1)
        # (H, W, RGB + A) -> (4, H, W)
        assert np.allclose(image, expected, atol=1e-6)


def test_dataset_labels_index_the_species_argument():
    maps, labels = make_plant_dataset(10, np.random.default_rng(2), species=["mushroom", "fern"], indexed=True)
    assert np.bincount(labels).tolist() == [5, 5]
    for index, label in zip(maps, labels):
        assert index.max() <= len(species_palette(["mushroom", "fern"][label]))
        assert (label == 0) == (index.max() >= 5)  # only the mushroom's palette reaches index 5


def test_golden_dataset_bytes():
    # sha256 of the index images, taken from the single-file procgen/plants.py before it became a package:
    # any change to how a plant is grown or drawn shows here. Float geometry and Pillow's polygon fill make
    # the bytes machine- and Pillow-version-specific; after a meant change, look at the sprites, then re-pin.
    pinned = {
        (60, 0, 16): "207577876f2693390013924c408313cf73a850275142ed74236b039286e224c4",
        (40, 3, 64): "d501141a46132dd0179218cd482d115e6d886a1ddb2c0158e85f56633526889c",
    }
    for (n, seed, size), digest in pinned.items():
        images, _ = make_plant_dataset(n, np.random.default_rng(seed), size=size, indexed=True)
        assert hashlib.sha256(images.tobytes()).hexdigest() == digest, (n, seed, size)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: render_plant("oak", np.random.default_rng(0)), "species must be one of fern"),
        (lambda: render_plant_indexed("fern", 0), "rng must be a numpy.random.Generator, got int"),
        (lambda: render_plant("fern", np.random.default_rng(0), size=24), "size must be one of 16, 32, 48, 64, got 24"),
        (lambda: render_plant("fern", np.random.default_rng(0), size=32.0), "size must be one of"),
        (lambda: species_palette("rose"), "species must be one of"),
        (lambda: make_plant_dataset(-1, np.random.default_rng(0)), "n must be an int >= 0"),
        (lambda: make_plant_dataset(4, np.random.RandomState(0)), "rng must be a numpy.random.Generator"),
        (lambda: make_plant_dataset(4, np.random.default_rng(0), size=20), "size must be one of"),
        (lambda: make_plant_dataset(4, np.random.default_rng(0), species=["fern", "oak"]), "species must be"),
        (lambda: make_plant_dataset(4, np.random.default_rng(0), species=[]), "species must be"),
    ],
)
def test_bad_arguments_raise_a_procgen_error_naming_them(call, fragment):
    with pytest.raises(ProcgenError, match=fragment):
        call()
