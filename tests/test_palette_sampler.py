"""SpriteSampler on a palette (categorical, class-conditioned) model: the same bytes however a sprite is asked
for, the clean-up on the canonical sprite, the class asked for or the key's own, the default style and raw.

The model is a small untrained ConditionalVAE written by procgen.train.save_model: its noisy categories give
the clean-up plenty to remove, and nothing here depends on what it learned.
"""

import numpy as np
import pytest

from procgen.datasets import SpriteSet
from procgen.errors import ProcgenError
from procgen.quality import colour_counts, islands, pieces
from procgen.sampler import SpriteSampler
from procgen.seeding import batch_keys, classes_of_keys
from procgen.train import save_model
from tinyae.train import History
from tinyae.vae import build_conditional_vae

NAMES = ["fern", "cactus", "T-shirt/top"]
PALETTES = np.array([[[20, 60, 20], [60, 140, 60], [120, 200, 90]],
                     [[30, 90, 40], [70, 170, 70], [240, 110, 160]],
                     [[90, 90, 90], [150, 150, 150], [220, 220, 220]]], dtype=np.uint8)  # (3 classes, 3, 3)
RAMP = [["#102030", "#304050", "#506070"]] * 3
OUTLINE = "#1a1c2c"


def write_model(path, keep, class_palettes=None):
    rng = np.random.default_rng(0)
    vae = build_conditional_vae((4, 16, 16), 4, len(NAMES), encoder=(16,), decoder=(24,), rng=rng)
    for name, p, _ in vae.parameters():  # larger weights: categories that change from pixel to pixel
        p *= 3.0
    categories = rng.integers(0, 4, size=(12, 16, 16)).astype(np.uint8)
    data = SpriteSet(categories, np.arange(12) % 3, NAMES, PALETTES, "test", keep, "test",
                     style={"palette": None, "outline": OUTLINE, "class_palettes": class_palettes},
                     licence="MIT", credit="tests")
    save_model(vae, path, data, thresholds={"uniqueness": 0.0, "novelty": 0.0},
               settings={"size": 16}, history=History())
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("palette") / "m.npz", keep="big")


@pytest.fixture(scope="module")
def sampler(model):
    return SpriteSampler.load(model)


def test_a_sprite_is_the_same_alone_in_a_batch_and_in_a_region(model, sampler):
    batch = sampler.sample(300, 5, raw=True)
    for i in (0, 17, 299):
        assert np.array_equal(SpriteSampler.load(model).sample(i + 1, 5, raw=True).sprites[i], batch.sprites[i])
    region = sampler.region(3, -2, 7, 4, 3, raw=True)
    for k, (y, x) in enumerate(np.ndindex(3, 4)):
        assert np.array_equal(SpriteSampler.load(model).sprite_at(3, x - 2, y + 7, raw=True), region.sprites[k])


def test_the_clean_up_leaves_no_island_and_is_counted(sampler):
    result = sampler.sample(200, 1, raw=True)
    assert islands(result.sprites).max() == 0
    assert 0 < result.stats.cleaned <= 200  # the noisy decoder leaves specks for it to remove
    decoded = sampler.decoder.decode_bytes(result.latents)  # the same codes without the clean-up
    rgba = sampler.style(decoded, sampler.code_classes(result.latents), raw=True)
    assert islands(rgba).sum() > 0  # so the clean-up is what removed them


@pytest.mark.parametrize("keep", ["ground", "largest"])
def test_a_model_that_keeps_one_piece_draws_one_piece(tmp_path, keep):
    single = SpriteSampler.load(write_model(tmp_path / "g.npz", keep=keep))
    sprites = single.sample(100, 2, raw=True).sprites
    assert pieces(sprites).max() <= 1 and islands(sprites).max() == 0


def test_classes_asked_for_named_by_alias_or_drawn_from_the_key(sampler):
    asked = sampler.sample(20, 3, cls="t-shirt")
    assert asked.cls == "T-shirt/top" and asked.classes == ["T-shirt/top"] * 20
    free = sampler.sample(60, 3)
    expected = classes_of_keys(batch_keys(3, np.arange(60), "test"), 3)
    kept = free.attempts == 0  # a redrawn sprite's class is its candidate key's
    assert [free.classes[i] for i in np.flatnonzero(kept)] == [NAMES[c] for c in expected[kept]]
    assert set(free.classes) == set(NAMES)
    with pytest.raises(ProcgenError, match="fern"):
        sampler.sample(1, 0, cls="palm")


def test_the_palette_bounds_the_colours_and_the_default_style_adds_the_outline(sampler):
    raw = sampler.sample(50, 4, raw=True).sprites
    styled = sampler.sample(50, 4).sprites
    assert colour_counts(raw).max() <= 3
    assert colour_counts(styled).max() <= 4
    outline = np.array([0x1a, 0x1c, 0x2c])
    assert not (raw[..., :3] == outline).all(-1).any() and (styled[..., :3] == outline).all(-1).any()
    assert np.array_equal(sampler.sample(50, 4, palette=None, outline=None).sprites, raw)
    opaque = raw[..., 3] > 0
    assert np.array_equal(styled[..., :3][opaque], raw[..., :3][opaque])  # the outline only adds a ring


def test_class_palettes_recolour_by_default_and_raw_keeps_the_model_colours(tmp_path):
    ramped = SpriteSampler.load(write_model(tmp_path / "r.npz", keep="big", class_palettes=RAMP))
    styled = ramped.sample(30, 6, outline=None).sprites
    raw = ramped.sample(30, 6, raw=True).sprites
    ramp = {(16, 32, 48), (48, 64, 80), (80, 96, 112)}
    assert {tuple(c) for c in styled[styled[..., 3] > 0][:, :3].tolist()} <= ramp
    assert not {tuple(c) for c in raw[raw[..., 3] > 0][:, :3].tolist()} & ramp
    assert np.array_equal(styled[..., 3], raw[..., 3])  # the same shapes, recoloured


def test_animation_codes_keep_the_class_fixed(sampler):
    from procgen.animation import between_cells

    frames = between_cells(sampler, 9, (0, 0), (5, 0), 5, cls="cactus", raw=True)
    assert np.array_equal(frames[0], sampler.sprite_at(9, 0, 0, cls="cactus", raw=True))
    assert np.array_equal(frames[-1], sampler.sprite_at(9, 5, 0, cls="cactus", raw=True))
    assert colour_counts(frames).max() <= 3
