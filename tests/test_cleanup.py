"""procgen.cleanup: the batched clean-up against its flood-fill twin, hand-made pieces, batch invariance."""

import numpy as np
import pytest

from procgen.cleanup import label_pieces, remove_islands, remove_islands_reference
from procgen.errors import ProcgenError


def random_maps(n, size, density, seed):
    """n random index maps: each pixel drawn with probability ``density``, with one of 4 colours."""
    rng = np.random.default_rng(seed)
    drawn = rng.random((n, size, size)) < density
    return (drawn * rng.integers(1, 5, (n, size, size))).astype(np.uint8)


def draw(rows):
    """An index map (1, H, W) from strings: '.' is transparent, a digit k is category k."""
    return np.array([[0 if c == "." else int(c) for c in row] for row in rows], dtype=np.uint8)[None]


# --- the fast path equals the reference ----------------------------------------------------------


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("density", [0.03, 0.15, 0.35, 0.6, 0.9])
@pytest.mark.parametrize("keep", ["big", "ground", "largest"])
def test_batched_equals_flood_fill(size, density, keep):
    maps = random_maps({16: 24, 32: 10, 64: 4}[size], size, density, seed=size * 100 + int(density * 100))
    for min_size in (1, 3, 7):
        fast = remove_islands(maps, min_size=min_size, keep=keep)
        slow = remove_islands_reference(maps, min_size=min_size, keep=keep)
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
        assert fast[0].dtype == np.uint8 and fast[1].dtype == np.int64
    assert fast[1].sum() > 0 or density > 0.5  # the random maps do have islands to remove


def test_batches_larger_than_a_chunk_and_non_square_maps_agree():
    maps = random_maps(600, 16, 0.3, seed=5)[:, :, :13]  # more sprites than one labelling pass takes
    maps = np.ascontiguousarray(maps)
    for keep in ("big", "ground", "largest"):
        fast = remove_islands(maps, min_size=4, keep=keep)
        slow = remove_islands_reference(maps, min_size=4, keep=keep)
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])


# --- hand-made pieces ---------------------------------------------------------------------------


def test_a_two_pixel_island_goes_and_a_three_pixel_one_stays():
    sprite = draw(["11.....",
                   ".......",
                   "....2..",
                   "....23.",
                   "......."])
    cleaned, removed = remove_islands(sprite, min_size=3)
    assert removed.tolist() == [2]
    expected = sprite.copy()
    expected[0, 0, :2] = 0
    assert np.array_equal(cleaned, expected)  # the 3-pixel piece keeps its colours
    assert remove_islands(sprite, min_size=4)[1].tolist() == [5]
    assert remove_islands(sprite, min_size=1)[1].tolist() == [0]


def test_diagonal_neighbours_are_connected():
    sprite = draw(["1...",
                   ".2..",
                   "..3.",
                   "...."])
    assert remove_islands(sprite, min_size=3)[1].tolist() == [0]  # one 3-pixel piece along the diagonal
    labels, sizes = label_pieces(sprite != 0)
    assert sizes.tolist() == [0, 3] and set(np.unique(labels)) == {0, 1}


def test_a_floating_flower_head_is_removed_on_the_ground():
    plant = draw(["..444..",
                  ".44444.",
                  "..444..",
                  ".......",
                  "...1...",
                  "...1...",
                  "..111.."])
    cleaned, removed = remove_islands(plant, min_size=3, keep="ground")
    assert removed.tolist() == [11]
    assert np.array_equal(cleaned[0, :4], np.zeros((4, 7))) and np.array_equal(cleaned[0, 4:], plant[0, 4:])
    # without the ground rule both pieces are large enough to stay
    assert remove_islands(plant, min_size=3, keep="big")[1].tolist() == [0]


def test_ground_ties_go_to_the_larger_piece_then_the_earlier_one():
    larger = draw(["1......",
                   "1..22..",
                   "1..22..",
                   "1..22.."])  # both reach the bottom row: the 6-pixel piece beats the 4-pixel one
    assert np.array_equal(remove_islands(larger, keep="ground")[0][0] != 0, larger[0] == 2)
    equal = draw(["..1..3.",
                  "..1..3.",
                  "..1..3."])  # same bottom row, same size: the first in raster order wins
    assert np.array_equal(remove_islands(equal, keep="ground")[0][0] != 0, equal[0] == 1)


def test_a_low_speck_does_not_count_as_ground():
    plant = draw(["..1..",
                  "..1..",
                  "..1..",
                  ".....",
                  "2...."])  # the lowest pixel is a 1-pixel speck, below min_size
    cleaned, removed = remove_islands(plant, min_size=3, keep="ground")
    assert removed.tolist() == [1] and np.array_equal(cleaned[0] != 0, plant[0] == 1)


def test_empty_and_speck_only_sprites_become_empty():
    maps = np.zeros((3, 16, 16), dtype=np.uint8)
    maps[1, 5, 5] = 2  # only a speck: nothing to stand on
    for keep in ("big", "ground", "largest"):
        cleaned, removed = remove_islands(maps, keep=keep)
        assert not cleaned.any() and removed.tolist() == [0, 1, 0]
    cleaned, removed = remove_islands(np.zeros((0, 32, 32), dtype=np.uint8), keep="ground")
    assert cleaned.shape == (0, 32, 32) and removed.shape == (0,)


# --- purity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["big", "ground", "largest"])
def test_each_sprite_is_cleaned_the_same_alone_or_in_any_batch(keep):
    maps = random_maps(40, 32, 0.3, seed=11)
    batch = remove_islands(maps, keep=keep)
    order = np.random.default_rng(3).permutation(40)
    shuffled = remove_islands(maps[order], keep=keep)
    assert np.array_equal(shuffled[0], batch[0][order]) and np.array_equal(shuffled[1], batch[1][order])
    for i in (0, 17, 39):
        alone = remove_islands(maps[i:i + 1], keep=keep)
        assert alone[0].tobytes() == batch[0][i].tobytes() and alone[1][0] == batch[1][i]


def test_the_input_is_not_modified():
    maps = random_maps(20, 16, 0.3, seed=2)
    before = maps.copy()
    for clean in (remove_islands, remove_islands_reference):
        for keep in ("big", "ground", "largest"):
            cleaned, removed = clean(maps, keep=keep)
            assert removed.sum() > 0 and cleaned is not maps
    assert np.array_equal(maps, before)


@pytest.mark.parametrize("bad, message", [
    (dict(index_maps=np.zeros((16, 16), np.uint8)), "(N, H, W) uint8"),
    (dict(index_maps=np.zeros((1, 16, 16), np.int64)), "(N, H, W) uint8"),
    (dict(index_maps=[[[0]]]), "(N, H, W) uint8"),
    (dict(min_size=0), "min_size"),
    (dict(min_size=2.5), "min_size"),
    (dict(keep="yes"), "keep must be one of big, ground, largest"),
])
def test_bad_arguments_raise(bad, message):
    arguments = {"index_maps": np.zeros((1, 16, 16), np.uint8), **bad}
    for clean in (remove_islands, remove_islands_reference):
        with pytest.raises(ProcgenError, match=message.replace("(", r"\(").replace(")", r"\)")):
            clean(**arguments)


def test_largest_keeps_one_piece_the_biggest_then_the_first():
    sprite = draw(["11..22",
                   "1...22",
                   "....22",
                   "33....",
                   "33...."])
    cleaned, removed = remove_islands(sprite, min_size=3, keep="largest")
    assert np.array_equal(cleaned[0] != 0, sprite[0] == 2) and removed.tolist() == [7]
    tie = draw(["11..22",
                "1...2."])
    assert np.array_equal(remove_islands(tie, keep="largest")[0][0] != 0, tie[0] == 1)  # 3 each: the first
    assert not remove_islands(draw(["1..2"]), min_size=2, keep="largest")[0].any()  # no piece is big enough
