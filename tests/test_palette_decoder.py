"""The categorical (palette) decode path: fixed-order kernels against the naive twin, ties to the lowest index,
the same categories alone, in a batch and on 1 or 2 threads; drawing categories as sprites (procgen.paint)."""

import numpy as np
import pytest

from procgen import paint
from procgen.decoder import DenseDecoder
from procgen.errors import ProcgenError
from procgen.seeding import class_of_key, classes_of_keys


def random_decoder(rng, widths, image_shape):
    hidden = [(rng.standard_normal((a, b)).astype(np.float32) * np.sqrt(2 / a),
               rng.standard_normal(b).astype(np.float32) * 0.1, 0.0) for a, b in zip(widths, widths[1:])]
    a, b = widths[-1], int(np.prod(image_shape))
    last = (rng.standard_normal((a, b)).astype(np.float32) * 2 / np.sqrt(a), rng.standard_normal(b).astype(np.float32))
    return DenseDecoder(hidden, last, image_shape, output="categories")


@pytest.mark.parametrize("widths, shape", [((19, 64, 48), (8, 16, 16)), ((5, 33), (5, 12, 10)), ((3,), (2, 4, 4))])
@pytest.mark.parametrize("n", [1, 9, 300])
def test_categories_equal_the_naive_twin(widths, shape, n):
    rng = np.random.default_rng(n + len(widths))
    decoder = random_decoder(rng, widths, shape)
    z = rng.standard_normal((n, widths[0]))
    expected = decoder.decode_reference(z)
    assert expected.shape == (n, 1) + shape[1:]
    for parallel in (False, True):
        assert np.array_equal(decoder.decode_bytes(z, parallel=parallel), expected)
    assert len(np.unique(expected)) == shape[0]  # every category is taken somewhere: the argmax is exercised


def test_a_sprite_alone_equals_itself_in_a_batch():
    rng = np.random.default_rng(3)
    decoder = random_decoder(rng, (12, 40, 40), (6, 16, 16))
    z = rng.standard_normal((600, 12))
    batch = decoder.decode_bytes(z)
    for i in (0, 7, 599):
        assert np.array_equal(decoder.decode_bytes(z[i:i + 1])[0], batch[i])


def test_ties_go_to_the_lowest_category():
    # logits = b: pixel 0 ties categories 1 and 2 (both 5), pixel 1 ties all three at 0, pixel 2 is 2
    b = np.array([0, 0, 0,   5, 0, 1,   5, 0, 9], dtype=np.float32)  # (K=3, H=1, W=3) channel-major
    decoder = DenseDecoder([], (np.zeros((1, 9), np.float32), b), (3, 1, 3), output="categories")
    got = decoder.decode_bytes(np.zeros((1, 1)), parallel=False)
    assert got.ravel().tolist() == [1, 0, 2]
    assert decoder.decode_reference(np.zeros((1, 1))).ravel().tolist() == [1, 0, 2]


def test_categorical_decoder_errors():
    with pytest.raises(ProcgenError, match="output must be one of"):
        DenseDecoder([], (np.zeros((1, 4), np.float32), np.zeros(4, np.float32)), (1, 2, 2), output="rgb")
    with pytest.raises(ProcgenError, match="2..256 categories"):
        DenseDecoder([], (np.zeros((1, 4), np.float32), np.zeros(4, np.float32)), (1, 2, 2), output="categories")
    decoder = random_decoder(np.random.default_rng(0), (3,), (2, 4, 4))
    with pytest.raises(ProcgenError, match="decode_bytes"):
        decoder.decode(np.zeros((1, 3)))


def test_class_of_key_fast_path_equals_the_reference_and_is_uniform():
    keys = np.array([0, 1, 2**63, 2**64 - 1, 0x0123456789ABCDEF], dtype=np.uint64)
    assert classes_of_keys(keys, 7).tolist() == [class_of_key(int(k), 7) for k in keys]
    assert class_of_key(0x0123456789ABCDEF, 10) == 8  # pinned: the JS runtime must give the same
    counts = np.bincount(classes_of_keys(np.arange(100_000, dtype=np.uint64), 10), minlength=10)
    assert counts.min() > 9_600 and counts.max() < 10_400  # within 4 standard deviations of 10,000


def test_paint_looks_up_each_class_palette_and_keeps_zero_transparent():
    colours = np.array([[[10, 20, 30], [40, 50, 60]], [[1, 2, 3], [4, 5, 6]]], dtype=np.uint8)  # (2, 2, 3)
    categories = np.array([[[[0, 1, 2]]], [[[2, 0, 1]]]], dtype=np.uint8)  # (2, 1, 1, 3)
    rgba = paint.paint(categories, np.array([0, 1]), colours)  # (2, 1, 3, 4)
    assert rgba[0, 0].tolist() == [[0, 0, 0, 0], [10, 20, 30, 255], [40, 50, 60, 255]]
    assert rgba[1, 0].tolist() == [[4, 5, 6, 255], [0, 0, 0, 0], [1, 2, 3, 255]]
    one_row = paint.paint(categories, np.array([0, 1]), colours[:1])  # one palette serves every class
    assert one_row[1, 0].tolist() == [[40, 50, 60, 255], [0, 0, 0, 0], [10, 20, 30, 255]]
    with pytest.raises(ProcgenError, match="category 3 has no colour"):
        paint.paint(categories + 1, np.array([0, 1]), colours)


def test_mirror_matches_postprocess_rule():
    from procgen.sprites import postprocess

    rng = np.random.default_rng(1)
    for width in (7, 8):
        categories = rng.integers(0, 3, size=(5, 1, 6, width)).astype(np.uint8)
        colours = np.array([[[200, 0, 0], [0, 200, 0]]], dtype=np.uint8)
        mirrored = paint.paint(paint.mirror(categories), np.zeros(5, int), colours)
        expected = postprocess(paint.paint(categories, np.zeros(5, int), colours).transpose(0, 3, 1, 2), mirror=True)
        assert np.array_equal(mirrored, expected)
