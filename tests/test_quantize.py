"""procgen.quantize and procgen.datasets: images become categories under a class palette, exactly where they can."""

import numpy as np
import pytest

from procgen.datasets import GRAYS, hex_colours, load_dataset
from procgen.errors import ProcgenError
from procgen.quantize import class_palette, nearest, quantize


def rgba_images(rng, colours, n=6, size=8):
    """n random sprites painted only with ``colours`` ((P, 3) uint8): (n, 4, size, size) float32 and their indices."""
    index = rng.integers(0, len(colours) + 1, size=(n, size, size))
    rgba = np.zeros((n, size, size, 4), np.uint8)
    rgba[index > 0, :3] = colours[index[index > 0] - 1]
    rgba[index > 0, 3] = 255
    return rgba.transpose(0, 3, 1, 2) / np.float32(255), index  # (n, H, W, 4) -> (n, 4, H, W)


def test_few_colours_are_kept_exactly_and_sorted_dark_to_light():
    colours = np.array([[250, 250, 250], [10, 10, 10], [200, 30, 30]], np.uint8)
    x, index = rgba_images(np.random.default_rng(0), colours)
    categories, palettes = quantize(x, np.zeros(len(x), int), 1)
    assert hex_colours(palettes) == [["#0a0a0a", "#c81e1e", "#fafafa"]]  # luma 10, 83, 250
    rank = {1: 3, 2: 1, 3: 2}  # colours[k - 1] sits at palette position rank[k] - 1
    expected = np.vectorize(lambda k: rank.get(k, 0))(index)
    assert np.array_equal(categories, expected)


def test_many_colours_are_cut_to_the_budget_and_each_pixel_takes_its_nearest():
    rng = np.random.default_rng(1)
    colours = rng.integers(0, 256, size=(40, 3)).astype(np.uint8)
    x, _ = rgba_images(rng, colours, n=20, size=16)
    categories, palettes = quantize(x, np.zeros(20, int), 1, max_colours=7)
    assert palettes.shape == (1, 7, 3) and categories.max() == 7
    rgb = (x.transpose(0, 2, 3, 1)[..., :3] * 255 + 0.5).astype(np.uint8)
    opaque = categories > 0
    d = ((rgb[opaque][:, None].astype(int) - palettes[0][None].astype(int)) ** 2).sum(-1)
    assert np.array_equal(categories[opaque] - 1, d.argmin(axis=1))


def test_classes_get_their_own_palettes_padded_to_one_width():
    rng = np.random.default_rng(2)
    a, ia = rgba_images(rng, np.array([[0, 0, 200]], np.uint8))
    b, ib = rgba_images(rng, np.array([[0, 90, 0], [0, 200, 0]], np.uint8))
    categories, palettes = quantize(np.concatenate([a, b]), np.repeat([0, 1], 6), 2)
    assert hex_colours(palettes) == [["#0000c8", "#0000c8"], ["#005a00", "#00c800"]]
    assert np.array_equal(categories[:6], ia) and np.array_equal(categories[6:], ib)


def test_nearest_breaks_ties_to_the_lower_index_and_errors():
    palette = np.array([[0, 0, 0], [2, 0, 0]], np.uint8)
    assert nearest(np.array([[1, 0, 0]], np.uint8), palette).tolist() == [0]
    with pytest.raises(ProcgenError, match="1 to 15 colours"):
        quantize(np.zeros((1, 4, 2, 2), np.float32), np.zeros(1, int), 1, max_colours=16)
    with pytest.raises(ProcgenError, match="class 0 has no opaque pixel"):
        quantize(np.zeros((1, 4, 2, 2), np.float32), np.zeros(1, int), 1)
    assert class_palette(np.array([[5, 5, 5]] * 3, np.uint8), 4).tolist() == [[5, 5, 5]]


def test_fashion_mnist_cut_into_three_grays_padded_not_scaled():
    pytest.importorskip("tinyae.datasets")
    from tinyae.datasets import load_fashion_mnist

    try:
        x, _ = load_fashion_mnist("test", progress=False)
    except Exception as err:  # the Debian package is absent
        pytest.skip(f"Fashion-MNIST is not installed: {err}")
    data = load_dataset("fashion-mnist", 20, np.random.default_rng(0), 32, split="test")
    assert data.categories.shape == (20, 32, 32) and np.bincount(data.labels, minlength=10).tolist() == [2] * 10
    assert data.palettes.tolist() == [list(map(list, GRAYS))]
    assert not data.categories[:, :2].any() and not data.categories[:, :, -2:].any()  # the 2-pixel padding
    assert data.categories.max() == 3 and len(data.style["class_palettes"]) == 10
    with pytest.raises(ProcgenError, match="padded, never scaled"):
        load_dataset("fashion-mnist", 20, np.random.default_rng(0), 16)


def test_unknown_dataset_and_size_are_refused():
    with pytest.raises(ProcgenError, match="size must be one of 16, 32, 48, 64"):
        load_dataset("plants", 4, np.random.default_rng(0), 40)
    with pytest.raises(ProcgenError, match="dataset must be one of"):
        load_dataset("trees", 4, np.random.default_rng(0), 32)
