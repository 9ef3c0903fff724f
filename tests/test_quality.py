"""procgen.quality: pieces and colours of hand-made sprites, the feature space, precision / recall, the classifier."""

import numpy as np
import pytest

from procgen.cleanup import _flood_fill_pieces
from procgen.errors import ProcgenError
from procgen.quality import (
    SpriteClassifier,
    class_fidelity,
    colour_counts,
    islands,
    pieces,
    precision_recall,
    sprite_features,
)

RED, GREEN, WHITE, BLACK = (255, 0, 0), (0, 160, 0), (255, 255, 255), (0, 0, 0)


def sprite(rows, colours):
    """An RGBA sprite (H, W, 4) from strings: '.' is transparent, a digit k is opaque colours[k]."""
    out = np.zeros((len(rows), len(rows[0]), 4), dtype=np.uint8)
    for y, row in enumerate(rows):
        for x, c in enumerate(row):
            if c != ".":
                out[y, x] = (*colours[int(c)], 255)
    return out


def random_sprites(n, size, density, seed):
    """n sprites of random opaque pixels (4 colours) whose transparent pixels keep random RGB."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 256, (n, size, size, 4), dtype=np.uint8)
    palette = np.array([RED, GREEN, WHITE, BLACK], dtype=np.uint8)
    out[..., :3] = palette[rng.integers(0, 4, (n, size, size))]
    out[..., 3] = np.where(rng.random((n, size, size)) < density, 255, 0)
    return out


# --- islands, pieces, colours ----------------------------------------------------------------------


def test_islands_pieces_and_colours_of_a_hand_made_sprite():
    s = sprite(["0....1.....",
                "......1....",
                "...........",
                "..2.....00.",
                "..22....00.",
                "..222...00.",
                "3.........."], [RED, GREEN, WHITE, BLACK])
    # pieces: a 1-px speck (0, 0), a diagonal 2-px pair, a 1-px speck (6, 0), a 6-px and a 6-px piece
    assert islands(s[None]).tolist() == [3]
    assert islands(s[None], max_size=1).tolist() == [2]
    assert pieces(s[None]).tolist() == [2]
    assert pieces(s[None], min_size=7).tolist() == [0]
    assert colour_counts(s[None]).tolist() == [4]  # red, green, white and black


def test_transparent_pixels_count_for_nothing():
    s = sprite(["11..", "11..", "....", "...."], [RED, WHITE])
    s[2:, 2:] = (0, 0, 255, 0)  # blue but transparent
    s[0, 3] = (10, 20, 30, 127)  # below half alpha: transparent
    assert islands(s[None]).tolist() == [0] and pieces(s[None]).tolist() == [1]
    assert colour_counts(s[None]).tolist() == [1]


def test_empty_sprites_and_batches():
    empty = np.zeros((3, 16, 16, 4), dtype=np.uint8)
    assert islands(empty).tolist() == pieces(empty).tolist() == colour_counts(empty).tolist() == [0, 0, 0]
    none = np.zeros((0, 16, 16, 4), dtype=np.uint8)
    assert islands(none).shape == pieces(none).shape == colour_counts(none).shape == (0,)


@pytest.mark.parametrize("density", [0.1, 0.3, 0.6])
def test_counts_match_a_flood_fill_and_a_set_per_sprite(density):
    sprites = random_sprites(25, 16, density, seed=int(density * 10))
    sprites[3] = 0  # an empty sprite among full ones: the pieces of the next must not shift
    expected_islands, expected_pieces, expected_colours = [], [], []
    for s in sprites:
        sizes = [len(p) for p in _flood_fill_pieces(s[..., 3] == 255)]
        expected_islands.append(sum(size <= 2 for size in sizes))
        expected_pieces.append(sum(size >= 3 for size in sizes))
        expected_colours.append(len({tuple(p[:3]) for p in s.reshape(-1, 4) if p[3] == 255}))
    assert islands(sprites).tolist() == expected_islands
    assert pieces(sprites).tolist() == expected_pieces
    assert colour_counts(sprites).tolist() == expected_colours
    assert max(expected_islands) > 0 and max(expected_colours) == 4


def test_counts_and_features_do_not_depend_on_the_batch():
    sprites = random_sprites(1100, 16, 0.3, seed=9)  # more sprites than one pass takes
    for measure in (islands, pieces, colour_counts):
        whole = measure(sprites)
        assert np.array_equal(whole, np.concatenate([measure(sprites[i:i + 100]) for i in range(0, 1100, 100)]))
        assert np.array_equal(whole[[0, 511, 512, 1099]], [measure(sprites[i:i + 1])[0] for i in (0, 511, 512, 1099)])
    features = sprite_features(sprites)
    np.testing.assert_allclose(features[500:600], sprite_features(sprites[500:600]), atol=1e-7)


# --- features -------------------------------------------------------------------------------------


def test_features_of_flat_sprites_follow_the_formula():
    white = np.full((1, 16, 16, 4), 255, dtype=np.uint8)
    red = white.copy()
    red[..., 1:3] = 0
    f = sprite_features(np.concatenate([white, red]))
    assert f.shape == (2, 1024) and f.dtype == np.float32
    cells = f.reshape(2, 4, 256) * 32  # back to the cell means
    np.testing.assert_allclose(cells[0], np.repeat([[1.0], [1.0], [0.0], [0.0]], 256, axis=1), atol=1e-6)
    y = 0.299
    np.testing.assert_allclose(cells[1], np.repeat([[1.0], [y], [-y / 1.772], [(1 - y) / 1.402]], 256, axis=1),
                               atol=1e-6)
    # the distance is the RMS difference of the cells: opaque white against empty differs by 1 in 2 of 4 channels
    empty = np.zeros_like(white)
    distance = np.linalg.norm(sprite_features(white) - sprite_features(empty))
    assert distance == pytest.approx(np.sqrt(0.5), rel=1e-6)


@pytest.mark.parametrize("size, factor", [(16, 2), (16, 4), (24, 2), (32, 2), (16, 3)])
def test_an_upscaled_sprite_has_the_features_of_the_original(size, factor):
    small = random_sprites(6, size, 0.5, seed=size + factor)
    large = small.repeat(factor, axis=1).repeat(factor, axis=2)  # nearest-neighbour upscale
    np.testing.assert_allclose(sprite_features(large), sprite_features(small), atol=2e-6)
    assert np.abs(sprite_features(small[::-1]) - sprite_features(large)).max() > 0.01  # the test can tell sprites apart


def test_features_ignore_hidden_colour_and_the_rest_of_the_batch():
    sprites = random_sprites(10, 32, 0.4, seed=1)
    recoloured = sprites.copy()
    recoloured[..., :3] = np.where(sprites[..., 3:] == 0, 77, sprites[..., :3])  # only transparent RGB changes
    np.testing.assert_array_equal(sprite_features(recoloured), sprite_features(sprites))
    np.testing.assert_allclose(sprite_features(sprites[4:5])[0], sprite_features(sprites)[4], atol=1e-7)


# --- precision and recall -----------------------------------------------------------------------


def brute_force_precision_recall(real, fake, k):
    """The definition, pair by pair in float64."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)

    def radii(x):  # distance to the k-th nearest other row
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        return np.sort(d, axis=1)[:, k]  # column 0 is the row itself

    cross = np.sqrt(((fake[:, None] - real[None]) ** 2).sum(-1))  # (m, n)
    return (cross <= radii(real)[None]).any(1).mean(), (cross <= radii(fake)[:, None]).any(0).mean()


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_equals_the_definition(k):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(1100, 6)).astype(np.float32)  # more rows than one distance block
    fake = (rng.normal(size=(700, 6)) * 1.3 + 0.4).astype(np.float32)
    precision, recall = precision_recall(real, fake, k=k)
    expected = brute_force_precision_recall(real, fake, k)
    assert (precision, recall) == pytest.approx(expected, abs=1.5e-3)  # one vector of 700 may sit on a boundary
    assert 0.3 < precision < 0.99 and 0.3 < recall < 0.99  # neither trivially 0 nor 1


def test_identical_sets_give_one_and_far_sets_zero():
    rng = np.random.default_rng(0)
    real = sprite_features(random_sprites(300, 32, 0.4, seed=3))
    real[100:110] = real[99]  # duplicates give balls of radius 0, which must still hold their copies
    assert precision_recall(real, real.copy()) == (1.0, 1.0)
    assert precision_recall(real, real[rng.permutation(len(real))]) == (1.0, 1.0)
    assert precision_recall(real, real + 10.0) == (0.0, 0.0)


def discs(n, modes, rng):
    """n points uniform in unit discs around the first ``modes`` of 10 centres 10 apart, modes in turn."""
    centres = np.stack([np.arange(10) * 10.0, np.zeros(10)], axis=1)
    r, t = np.sqrt(rng.random(n)), rng.random(n) * 2 * np.pi
    return centres[np.arange(n) % modes] + np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def test_a_generator_that_covers_half_the_modes_has_recall_one_half():
    rng = np.random.default_rng(4)
    real = discs(2000, 10, rng)
    precision, recall = precision_recall(real, discs(1000, 5, rng))
    assert precision > 0.95 and 0.46 < recall <= 0.5
    precision, recall = precision_recall(real, discs(2000, 10, rng))  # all modes: both near 1
    assert precision > 0.95 and recall > 0.95


@pytest.mark.parametrize("call, message", [
    (lambda: precision_recall(np.zeros((10, 3)), np.zeros((10, 4))), "same length"),
    (lambda: precision_recall(np.zeros((3, 3)), np.zeros((10, 3))), "at least 4"),
    (lambda: precision_recall(np.zeros((10, 3)), np.zeros((10, 3)), k=0), "k must be"),
    (lambda: precision_recall(np.full((10, 3), np.nan), np.zeros((10, 3))), "NaN"),
    (lambda: precision_recall(np.zeros(10), np.zeros((10, 3))), r"\(n, F\)"),
    (lambda: sprite_features(np.zeros((2, 16, 16, 3), np.uint8)), r"\(N, H, W, 4\)"),
    (lambda: islands(np.zeros((16, 16, 4), np.uint8)), r"\(N, H, W, 4\)"),
    (lambda: islands(np.zeros((1, 16, 16, 4), np.uint8), max_size=0), "max_size"),
    (lambda: pieces(np.zeros((1, 16, 16, 4), np.uint8), min_size=2.0), "min_size"),
    (lambda: SpriteClassifier().predict(np.zeros((2, 3))), "fitted"),
    (lambda: SpriteClassifier().fit(np.zeros((10, 3)), np.zeros(9)), "labels"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ProcgenError, match=message):
        call()


# --- the classifier -------------------------------------------------------------------------------


def brute_force_knn(train, labels, queries, k):
    """Majority of the k nearest (sorted by distance, then training order); ties to the nearest tied label."""
    out = []
    for q in queries.astype(np.float64):
        d = ((train.astype(np.float64) - q) ** 2).sum(1)
        near = [labels[i] for i in np.lexsort((np.arange(len(d)), d))[:k]]
        best = max(near.count(c) for c in near)
        out.append(next(c for c in near if near.count(c) == best))
    return np.array(out)


def test_the_classifier_equals_the_definition():
    rng = np.random.default_rng(2)
    train = rng.normal(size=(300, 5)).astype(np.float32)
    labels = rng.integers(0, 4, 300)
    queries = rng.normal(size=(1100, 5)).astype(np.float32)
    predicted = SpriteClassifier().fit(train, labels).predict(queries)
    assert np.array_equal(predicted, brute_force_knn(train, labels, queries, 5))


def test_a_tied_vote_goes_to_the_nearest():
    train = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    query = np.zeros((1, 1))
    assert SpriteClassifier().fit(train, ["a", "b", "b", "a", "c"]).predict(query).tolist() == ["a"]
    assert SpriteClassifier().fit(train, ["b", "a", "b", "a", "c"]).predict(query).tolist() == ["b"]
    assert SpriteClassifier().fit(train, ["c", "a", "b", "a", "b"]).predict(query).tolist() == ["a"]  # 2-2-1


def test_separable_classes_are_learned_and_shuffled_labels_are_not():
    rng = np.random.default_rng(6)
    centres = rng.normal(size=(4, 16)) * 4

    def draw(n):
        labels = rng.integers(0, 4, n)
        return (centres[labels] + rng.normal(size=(n, 16))).astype(np.float32), labels

    (train, train_labels), (test, test_labels) = draw(400), draw(400)
    classifier = SpriteClassifier().fit(train, train_labels)
    assert classifier.accuracy(test, test_labels) == 1.0
    shuffled = SpriteClassifier().fit(train, rng.permutation(train_labels))
    assert 0.15 < shuffled.accuracy(test, test_labels) < 0.35  # chance is 1/4; sd over 400 is 0.02
    assert class_fidelity(classifier, test, test_labels, test, test_labels) == 1.0
    assert class_fidelity(classifier, test, test_labels, test, (test_labels + 1) % 4) == 0.0


def test_the_classifier_tells_plant_species_apart():
    from procgen.plants import make_plant_dataset

    images, labels = make_plant_dataset(300, np.random.default_rng(0), size=32)
    sprites = np.ascontiguousarray((images.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8))  # NCHW -> NHWC
    features = sprite_features(sprites)
    classifier = SpriteClassifier().fit(features[:200], labels[:200])
    assert classifier.accuracy(features[200:], labels[200:]) > 0.9  # five species; chance is 0.2
