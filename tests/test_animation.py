"""procgen.animation: latent paths keep their promises (exact ends, slerp on the prior's shell, class
coordinates), play orders, and the frames' first and last are the two keyed sprites byte for byte."""

import numpy as np
import pytest

from tinyae import models
from tinyae.vae import build_vae
from tinyae.vae.generation import ClassGaussians

from procgen import seeding
from procgen.animation import between_cells, decode_frames, latent_path, play_order, sheet_animations
from procgen.errors import ProcgenError
from procgen.sampler import SpriteSampler

CLASSES = ["mint", "sage"]


def tiny_model(path):
    """A small untrained VAE checkpoint (4 x 16 x 16 RGBA, 4-D latent, two classes) that loads as a sampler.

    Its sprites are noise, which is all the export and animation tests need, and it loads in milliseconds.
    """
    vae = build_vae((4, 16, 16), 4, encoder=(8,), decoder=(24,), rng=np.random.default_rng(0))
    vae.class_gaussians = ClassGaussians(np.array([[1.5, 0, 0, 0], [-1.5, 0, 0, 0]]), np.full((2, 4), 0.25))
    models.save(vae, path, force=True, training={"procgen": {"kind": "herbs", "class_names": CLASSES}})
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model") / "tiny.npz")


@pytest.fixture(scope="module")
def sampler(model):
    return SpriteSampler.load(model)


def keyed_codes(n, d, seed=0):
    return seeding.latents_from_keys(seeding.batch_keys(seed, np.arange(n), "test"), d)  # (n, d) ~ N(0, I)


# --- paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["slerp", "lerp"])
def test_paths_start_and_end_at_the_keyed_codes_exactly(path):
    z = keyed_codes(2, 16).astype(np.float32)
    mean, std = np.linspace(-1, 1, 16), np.linspace(0.3, 2.0, 16)
    codes = latent_path(z[0], z[1], 7, path, mean, std)
    assert codes.shape == (7, 16) and codes.dtype == np.float32
    assert np.array_equal(codes[0], z[0]) and np.array_equal(codes[-1], z[1])
    assert len({c.tobytes() for c in codes}) == 7  # every frame a new code


def test_slerp_stays_on_the_priors_shell_where_lerp_cuts_inside():
    d = 16
    z = keyed_codes(400, d)
    a, b = z[:200], z[200:]
    lerp_mid = np.array([np.linalg.norm(latent_path(p, q, 3, "lerp")[1]) for p, q in zip(a, b)])
    slerp_mid = np.array([np.linalg.norm(latent_path(p, q, 3, "slerp")[1]) for p, q in zip(a, b)])
    ends = (np.linalg.norm(a, axis=1) + np.linalg.norm(b, axis=1)) / 2
    # slerp: the midpoint's norm is the mean of the ends' norms (float32 rounding only)
    np.testing.assert_allclose(slerp_mid, ends, rtol=1e-6)
    # lerp: two nearly orthogonal codes of norm ~sqrt(d) meet at ~sqrt(d / 2) = 2.83, inside the shell at ~4
    assert abs(lerp_mid.mean() - np.sqrt(d / 2)) < 0.2
    assert np.all(lerp_mid < slerp_mid)


def test_a_class_path_runs_in_the_standard_coordinates_of_the_class_gaussian():
    d = 8
    mean, std = np.full(d, 3.0), np.full(d, 0.5)
    e = keyed_codes(2, d, seed=1)
    z = mean + std * e
    codes = latent_path(z[0], z[1], 5, "slerp", mean, std).astype(np.float64)
    norms = np.linalg.norm((codes - mean) / std, axis=1)
    expected = np.linspace(np.linalg.norm(e[0]), np.linalg.norm(e[1]), 5)
    np.testing.assert_allclose(norms, expected, rtol=1e-5)
    # about the origin instead, the path cuts inside the class's shell: the coordinates matter
    assert np.abs(latent_path(z[0], z[1], 5, "slerp")[2] - codes[2]).max() > 0.05


def test_play_orders():
    assert play_order(5, "loop") == [0, 1, 2, 3, 4]
    assert play_order(5, "pingpong") == [0, 1, 2, 3, 4, 3, 2, 1]
    assert play_order(2, "pingpong") == [0, 1]


@pytest.mark.parametrize("call, message", [
    (lambda: latent_path(np.zeros(3), np.ones(3), 1), "frames must be an int >= 2"),
    (lambda: latent_path(np.zeros(3), np.ones(3), 4, "cubic"), "path must be one of slerp, lerp"),
    (lambda: latent_path(np.zeros(3), np.ones(4), 4), r"one shape \(d,\)"),
    (lambda: play_order(4, "bounce"), "play must be one of pingpong, loop"),
    (lambda: play_order(True), "frames must be an int >= 2"),
])
def test_bad_arguments_name_the_problem(call, message):
    with pytest.raises(ProcgenError, match=message):
        call()


# --- frames --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, style", [(None, {}), ("sage", {"scale": 2, "outline": "#102030", "mirror": True})])
def test_first_and_last_frames_are_the_two_cells_sprites(model, sampler, cls, style):
    frames = between_cells(sampler, 42, (3, -2), (4, -2), 6, cls, **style)
    fresh = SpriteSampler.load(model)  # no shared cache: the sprites are made again
    assert np.array_equal(frames[0], fresh.sprite_at(42, 3, -2, cls, **style))
    assert np.array_equal(frames[-1], fresh.sprite_at(42, 4, -2, cls, **style))
    assert not np.array_equal(frames[0], frames[-1])


def test_frames_change_a_little_at_a_time(sampler):
    z = sampler.sample(2, 5).latents
    data = sampler.decoder.decode_bytes(latent_path(z[0], z[1], 9)).astype(np.int64)  # (9, C, H, W)
    steps = [np.abs(a - b).mean() for a, b in zip(data, data[1:])]
    assert max(steps) < 0.5 * np.abs(data[0] - data[-1]).mean()


def test_sheet_animations_start_from_the_plain_sheet_and_end_on_the_next_sprites(sampler):
    n, frames = 3, 4
    sprites, animations = sheet_animations(sampler, n, 9, frames, "mint", play="pingpong", scale=2)
    plain = sampler.sample(2 * n, 9, "mint", scale=2).sprites
    named = dict(sprites)
    assert len(named) == len(sprites) == n * frames
    assert list(animations) == ["herbs_0000", "herbs_0001", "herbs_0002"]
    for i, (name, played) in enumerate(animations.items()):
        assert played == [f"{name}_{k:02d}" for k in (0, 1, 2, 3, 2, 1)]
        assert np.array_equal(named[f"{name}_00"], plain[i])
        assert np.array_equal(named[f"{name}_03"], plain[n + i])
    assert np.array_equal(named["herbs_0000_00"], sampler.sample(n, 9, "mint", scale=2).sprites[0])


def test_decode_frames_is_the_samplers_decode_and_style(sampler):
    result = sampler.sample(4, 11, outline="#ffffff")
    assert np.array_equal(decode_frames(sampler, result.latents, outline="#ffffff"), result.sprites)
