"""The shipped models against the bars an artist's sprite must clear (issue 15), on what `procgen sample` writes:
no islands, one piece, few colours, and the class asked for (a classifier trained on training images must find it
at least 0.9 as often as it finds the class of held-out real images). benchmarks/sprite_quality.py prints the same
figures on larger samples, with precision and recall."""

import numpy as np
import pytest

from procgen.datasets import load_dataset
from procgen.errors import ProcgenError
from procgen.quality import SpriteClassifier, colour_counts, islands, pieces, sprite_features
from procgen.sampler import SpriteSampler
from procgen.train import canonical_sprites

MODELS = ("plants", "plants64", "clothing")


def dataset(model, n, seed, split):
    """n images of the model's own training set (fresh plants, or Fashion-MNIST's split), as canonical sprites."""
    name, size = {"plants": ("plants", 32), "plants64": ("plants", 64), "clothing": ("fashion-mnist", 32)}[model]
    try:
        data = load_dataset(name, n, np.random.default_rng([seed, 99]), size, split=split)
    except ProcgenError as err:
        pytest.skip(f"{name} is not available here: {err}")
    return canonical_sprites(data), data.labels


@pytest.mark.parametrize("model", MODELS)
def test_default_output_has_no_islands_one_piece_and_few_colours(model):
    sampler = SpriteSampler.load(model)
    sprites = sampler.sample(256, 7).sprites  # `procgen sample --model M -n 256 --seed 7`
    assert islands(sprites).max() == 0
    assert (pieces(sprites) > 1).mean() <= 0.05
    assert colour_counts(sprites).max() <= 16


@pytest.mark.parametrize("model", MODELS)
def test_the_class_asked_for_is_the_class_drawn(model):
    sampler = SpriteSampler.load(model)
    train, train_labels = dataset(model, 1500, 1, "train")
    real, real_labels = dataset(model, 500, 2, "test")
    classifier = SpriteClassifier().fit(sprite_features(train), train_labels)
    real_accuracy = classifier.accuracy(sprite_features(real), real_labels)
    per_class = 40
    fake = np.concatenate([sampler.sample(per_class, 3, cls=c, raw=True).sprites
                           for c in range(len(sampler.class_names))])
    fake_labels = np.repeat(np.arange(len(sampler.class_names)), per_class)
    fake_accuracy = classifier.accuracy(sprite_features(fake), fake_labels)
    assert fake_accuracy >= 0.9 * real_accuracy, (fake_accuracy, real_accuracy)
