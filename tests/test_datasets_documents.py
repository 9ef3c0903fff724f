"""Synthetic scanned documents, their degradations, aligned crops, and the Kaggle folder loader."""

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from tinyae.datasets import documents as doc
from tinyae.errors import DataError

SEEDS = range(10)


def high_pass(page):
    """Page minus its blur: the text strokes, without lighting, stains and shadows."""
    page = page.astype(np.float64)
    return page - gaussian_filter(page, 2)


def correlation(a, b):
    return np.corrcoef(a.ravel(), b.ravel())[0, 1]


def test_a_seed_fixes_the_pages():
    a = doc.make_documents(3, np.random.default_rng(7), size=(48, 64))
    b = doc.make_documents(3, np.random.default_rng(7), size=(48, 64))
    c = doc.make_documents(3, np.random.default_rng(8), size=(48, 64))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert not np.array_equal(a[0][0], a[0][1]), "pages of one batch differ"


def test_shapes_dtype_and_range():
    clean, dirty = doc.make_documents(2, np.random.default_rng(0), size=(40, 56))
    for x in (clean, dirty):
        assert x.shape == (2, 1, 40, 56) and x.dtype == np.float32
        assert x.min() >= 0 and x.max() <= 1
    c, d = doc.make_document_pair(np.random.default_rng(0), 30, 20, dtype=np.float64)
    assert c.shape == d.shape == (30, 20) and d.dtype == np.float64


def test_clean_page_is_dark_text_on_white():
    clean, _ = doc.make_document_pair(np.random.default_rng(1), 96, 128)
    assert np.median(clean) == 1.0, "the paper is white"
    ink = clean < 0.5
    assert 0.02 < ink.mean() < 0.3, "text covers some of the page, not all"
    assert clean.min() <= 0.25
    # Text comes in lines: some rows hold ink, the gaps between lines hold none.
    rows = ink.any(axis=1)
    assert 0.3 < rows.mean() < 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_dirty_differs_from_clean_but_the_text_survives(seed):
    clean, dirty = doc.make_document_pair(np.random.default_rng(seed), 64, 96)
    rmse = np.sqrt(np.mean((clean.astype(np.float64) - dirty) ** 2))
    assert 0.05 < rmse < 0.4
    # Ink stays darker than the paper around it...
    assert dirty[clean > 0.95].mean() - dirty[clean < 0.5].mean() > 0.2
    # ...and the strokes stay where they were: the fine detail of the two pages correlates.
    assert correlation(high_pass(clean), high_pass(dirty)) > 0.3


def test_the_text_measure_can_fail():
    clean, _ = doc.make_document_pair(np.random.default_rng(1), 64, 96)
    _, other = doc.make_document_pair(np.random.default_rng(2), 64, 96)
    assert abs(correlation(high_pass(clean), high_pass(other))) < 0.1


def fields(field, n=20, h=64, w=96):
    rng = np.random.default_rng(3)
    return [field(rng, h, w) for _ in range(n)]


def test_lighting_is_a_plane_that_dims_by_at_most_a_quarter():
    for light in fields(doc.lighting_field):
        assert 0.9 * 0.75 - 1e-9 <= light.min() and light.max() <= 1.0
        assert light.min() / light.max() >= 0.75 - 1e-9
        # Linear in x and y: second differences vanish.
        np.testing.assert_allclose(np.diff(light, 2, axis=1), 0, atol=1e-12)
        np.testing.assert_allclose(np.diff(light, 2, axis=0), 0, atol=1e-12)


def test_stains_and_rings_are_local_darkening():
    for field, most in ((doc.stain_field, 0.3), (doc.coffee_ring_field, 0.4)):
        for darkness in fields(field):
            assert darkness.min() >= 0 and darkness.max() <= most
            assert darkness.max() > 0.01, "every stain shows somewhere"
            assert np.mean(darkness < 0.01) > 0.2, "and leaves part of the page clean"


def filled_share(darkness):
    """Share of its bounding box that the darker half of a mark fills: ~0.8 for a disc, small for a ring."""
    ys, xs = np.nonzero(darkness > 0.5 * darkness.max())
    return len(ys) / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))


def test_a_stain_is_filled_and_a_coffee_ring_is_hollow():
    for stain in fields(doc.stain_field, h=128, w=128):
        assert filled_share(stain) > 0.4
    for ring in fields(doc.coffee_ring_field, h=128, w=128):
        assert filled_share(ring) < 0.2


def test_a_shadow_is_darkest_at_the_page_edge():
    for shadow in fields(doc.shadow_field):
        assert shadow.min() >= 0 and shadow.max() <= 0.45
        border = np.concatenate([shadow[0], shadow[-1], shadow[:, 0], shadow[:, -1]])
        assert border.max() == pytest.approx(shadow.max())
        assert shadow.max() - shadow.min() > 0.1


def test_a_crease_is_a_thin_dark_line_with_a_bright_ridge():
    for crease in fields(doc.crease_field, h=128, w=128):
        # The fold line runs through a point of the page, so its valley always shows.
        valley = crease < -0.1
        assert 0 < valley.mean() < 0.05, "the dark valley is thin"
        assert crease.max() > 0.02, "a bright ridge runs beside it"
        assert crease.min() >= -0.5


def test_noise_is_zero_mean_and_small():
    for noise in fields(doc.noise_field):
        assert abs(noise.mean()) < 0.01
        assert 0.008 < noise.std() < 0.07


def test_random_crops_are_aligned_and_cover_pages_by_their_positions():
    rng = np.random.default_rng(5)
    small = np.arange(16, dtype=np.float32).reshape(1, 4, 4)             # exactly one 4x4 position
    large = 100 + np.arange(52, dtype=np.float32).reshape(1, 4, 13)      # ten 4x4 positions
    clean = [small, large]
    dirty = [small + 1000, large + 1000]
    c, d = doc.random_crops(clean, dirty, 1100, (4, 4), rng)
    assert c.shape == d.shape == (1100, 1, 4, 4) and c.dtype == np.float32
    np.testing.assert_array_equal(d, c + 1000)
    from_small = c[:, 0, 0, 0] < 100
    assert 60 < from_small.sum() < 140, "one position in eleven: about 100 of 1100"
    # A crop is a real window: its top-left value fixes the rest.
    left = (c[~from_small, 0, 0, 0] - 100).astype(int)
    np.testing.assert_array_equal(c[~from_small, 0, 3, 3], 100 + left + 3 * 13 + 3)
    assert set(left) == set(range(10))


def test_random_crops_takes_an_nchw_array():
    clean, dirty = doc.make_documents(2, np.random.default_rng(0), size=(20, 30))
    c, d = doc.random_crops(clean, dirty, 5, (8, 8), np.random.default_rng(1))
    assert c.shape == (5, 1, 8, 8)


def test_random_crops_errors():
    page = np.zeros((1, 4, 4))
    with pytest.raises(DataError, match=r"page 0.*H >= 5"):
        doc.random_crops([page], [page], 1, (5, 2), np.random.default_rng(0))
    with pytest.raises(DataError, match="as many clean as dirty"):
        doc.random_crops([page], [], 1, (2, 2), np.random.default_rng(0))


def test_a_seed_integer_is_refused():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        doc.make_document_pair(0)


def save(path, value, shape=(6, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def kaggle(root, names=("1.png", "2.png", "10.png")):
    for i, name in enumerate(names):
        save(root / "train" / name, 10 * i)
        save(root / "train_cleaned" / name, 10 * i + 255 - 30)
    save(root / "test" / "3.png", 77)
    return root


def test_document_folder_pairs_by_name(tmp_path):
    pages = doc.load_document_folder(kaggle(tmp_path))
    assert pages.train_names == ["1.png", "10.png", "2.png"]
    for name, dirty, clean in zip(pages.train_names, pages.train_dirty, pages.train_clean):
        i = ("1.png", "2.png", "10.png").index(name)
        assert dirty.shape == clean.shape == (1, 6, 8) and dirty.dtype == np.float32
        np.testing.assert_array_equal(dirty * 255, np.float32(10 * i))
        np.testing.assert_array_equal(clean * 255, np.float32(10 * i + 225))
    assert pages.test_names == ["3.png"]
    np.testing.assert_array_equal(pages.test_dirty[0] * 255, np.float32(77))


def test_document_folder_test_is_optional(tmp_path):
    root = kaggle(tmp_path)
    for p in (root / "test").iterdir():
        p.unlink()
    (root / "test").rmdir()
    pages = doc.load_document_folder(root)
    assert pages.test_names == [] and pages.test_dirty == [] and len(pages.train_clean) == 3


def test_document_folder_names_a_missing_pair(tmp_path):
    root = kaggle(tmp_path)
    (root / "train_cleaned" / "2.png").unlink()
    save(root / "train_cleaned" / "9.png", 0)
    with pytest.raises(DataError, match=r"2\.png \(only in train/\), 9\.png \(only in train_cleaned/\)"):
        doc.load_document_folder(root)


def test_document_folder_names_a_missing_folder(tmp_path):
    save(tmp_path / "train" / "1.png", 0)
    save(tmp_path / "clean" / "1.png", 0)
    with pytest.raises(DataError, match=r"missing \['train_cleaned'\], found \['clean', 'train'\]"):
        doc.load_document_folder(tmp_path)


def test_document_folder_pair_of_different_sizes(tmp_path):
    root = kaggle(tmp_path)
    save(root / "train_cleaned" / "2.png", 0, shape=(6, 9))
    with pytest.raises(DataError, match=r"train_cleaned/2\.png: expected the size of"):
        doc.load_document_folder(root)
