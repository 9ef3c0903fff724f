"""procgen.decoder and procgen.sampler: the fixed-order kernels against their naive twin, the same bytes
alone, in a batch of 1000 and on 1 or 2 threads, the uniqueness and novelty promises, class latents, errors."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from procgen.decoder import DenseDecoder, byte_table, byte_thresholds
from procgen.errors import ProcgenError
from procgen.sampler import SpriteSampler, _model_path
from procgen.seeding import latents_from_keys
from procgen.sprites import postprocess
from procgen.distance import FeatureIndex, features, ssd
from procgen.uniqueness import attempt_key

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plants():
    return SpriteSampler.load("plants")


@pytest.fixture(scope="module")
def clothing():
    return SpriteSampler.load("clothing")


def random_decoder(rng, widths, slopes, image_shape):
    hidden = [(rng.standard_normal((a, b)).astype(np.float32) * np.sqrt(2 / a),
               rng.standard_normal(b).astype(np.float32) * 0.1, s) for a, b, s in zip(widths, widths[1:], slopes)]
    a, b = widths[-1], int(np.prod(image_shape))
    last = (rng.standard_normal((a, b)).astype(np.float32) * 2 / np.sqrt(a), rng.standard_normal(b).astype(np.float32))
    return DenseDecoder(hidden, last, image_shape)


# --- the kernels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("widths, slopes, shape", [
    ((16, 64, 96), (0.0, 0.0), (4, 32, 32)),  # ReLU, the shipped layout
    ((5, 33), (0.2,), (1, 30, 26)),  # LeakyReLU; 780 outputs: a partial tile
    ((8, 40, 24), (1.0, 0.0), (2, 8, 8)),  # identity then ReLU
    ((3,), (), (1, 4, 4)),  # no hidden layer
])
@pytest.mark.parametrize("n", [1, 9, 40])
def test_kernels_equal_their_naive_twin_byte_for_byte(widths, slopes, shape, n):
    rng = np.random.default_rng(len(widths) * 100 + n)
    decoder = random_decoder(rng, widths, slopes, shape)
    z = rng.standard_normal((n, widths[0]))
    expected = decoder.decode_reference(z)
    assert np.array_equal(decoder.decode_bytes(z, parallel=False), expected)
    assert np.array_equal(decoder.decode_bytes(z, parallel=True), expected)
    assert 0 < expected.mean() < 255  # the case exercises more than one byte value


def test_bytes_are_255_sigmoid_rounded():
    rng = np.random.default_rng(1)
    decoder = random_decoder(rng, (8, 32), (0.0,), (1, 16, 16))
    z = rng.standard_normal((50, 8))
    hidden = np.maximum(z.astype(np.float32) @ decoder.hidden[0][0] + decoder.hidden[0][1], 0)
    logits = (hidden @ decoder.last[0] + decoder.last[1]).astype(np.float64)
    scaled = 255 / (1 + np.exp(-logits))
    clear = np.abs(scaled - np.floor(scaled) - 0.5) > 1e-3  # away from a rounding boundary
    got = decoder.decode_bytes(z).reshape(50, -1)
    assert np.array_equal(got[clear], np.floor(scaled[clear] + 0.5).astype(np.uint8))
    assert clear.mean() > 0.99


def test_byte_table_gives_the_count_of_thresholds_below_even_at_the_thresholds():
    t = byte_thresholds()
    assert t[0] == -np.inf and np.all(np.diff(t) > 0) and len(t) == 256
    edges = np.concatenate([t[1:], np.nextafter(t[1:], -np.inf), np.nextafter(t[1:], np.inf)])
    v = np.concatenate([edges, np.linspace(-30, 30, 5001, dtype=np.float32), [-1e30, 1e30]]).astype(np.float32)
    v0, inv_width, below, threshold = byte_table(t)
    cell = np.clip((v - v0) * inv_width, 0, len(below) - 1).astype(np.int64)
    assert np.array_equal(below[cell] + (v >= threshold[cell]), np.searchsorted(t, v, side="right") - 1)
    # and the kernel itself: code 1 times weights v plus bias 0 feeds the logits v through exactly
    decoder = DenseDecoder([], (v[None, :], np.zeros(len(v), np.float32)), (1, 1, len(v)))
    assert np.array_equal(decoder.decode_bytes(np.ones((1, 1))).ravel(), np.searchsorted(t, v, side="right") - 1)


def test_from_sequential_reads_a_dense_decoder_and_refuses_others():
    from tinyae.vae import build_vae

    vae = build_vae((1, 8, 8), 4, encoder=(16,), decoder=(12, 10), rng=np.random.default_rng(0))
    decoder = DenseDecoder.from_sequential(vae.decoder, vae.image_shape)
    z = np.random.default_rng(1).standard_normal((20, 4)).astype(np.float32)
    probabilities = vae.decode(z)
    assert np.abs(decoder.decode(z) - probabilities).max() <= 0.5 / 255 + 1e-6  # rounding only
    conv = build_vae((1, 8, 8), 4, encoder=(16,), decoder=(4,), decoder_kind="conv", rng=np.random.default_rng(0))
    with pytest.raises(ProcgenError, match="Dense layers with ReLU"):
        DenseDecoder.from_sequential(conv.decoder, conv.image_shape)
    with pytest.raises(ProcgenError, match=r"shape \(N, 4\)"):
        decoder.decode_bytes(np.zeros((2, 5)))


def test_from_sequential_reads_a_dense_with_a_fused_relu():
    from tinyae.layers import Dense, ReLU, Reshape
    from tinyae.network import Sequential

    def decoder(fused):
        rng = np.random.default_rng(3)
        hidden = [Dense(4, 12, rng=rng, activation="relu")] if fused else [Dense(4, 12, rng=rng), ReLU()]
        return Sequential(hidden + [Dense(12, 64, rng=rng), Reshape((1, 8, 8))])

    z = np.random.default_rng(1).standard_normal((20, 4)).astype(np.float32)
    fused, separate = (DenseDecoder.from_sequential(decoder(f), (1, 8, 8)) for f in (True, False))
    assert np.array_equal(fused.decode_bytes(z), separate.decode_bytes(z))
    twice = decoder(True)
    twice.layers.insert(1, ReLU())
    with pytest.raises(ProcgenError, match="two activations in a row"):
        DenseDecoder.from_sequential(twice, (1, 8, 8))
    last = Sequential([Dense(4, 64, activation="relu"), Reshape((1, 8, 8))])
    with pytest.raises(ProcgenError, match="must end in a Dense layer giving logits"):
        DenseDecoder.from_sequential(last, (1, 8, 8))


# --- the same bytes alone, in a batch, on any number of threads ----------------------------------


def test_a_code_decoded_alone_equals_it_inside_a_batch_of_1000(plants):
    z = plants.latents(np.arange(1000, dtype=np.uint64))
    batch = plants.decoder.decode_bytes(z)
    for i in (0, 1, 7, 8, 500, 999):
        assert np.array_equal(plants.decoder.decode_bytes(z[i:i + 1])[0], batch[i])
    for size in (3, 31, 32, 33, 257):  # serial and threaded paths, partial blocks
        assert np.array_equal(plants.decoder.decode_bytes(z[:size]), batch[:size])


def test_sprite_at_alone_equals_its_cell_inside_a_region_of_1000():
    alone = SpriteSampler.load("plants")
    together = SpriteSampler.load("plants").region(42, -20, -12, 40, 25, scale=2, outline="#000000")
    assert len(together.sprites) == 1000
    for x, y in ((-20, -12), (10, -3), (19, 12), (0, 0)):
        i = (y + 12) * 40 + (x + 20)
        assert np.array_equal(alone.sprite_at(42, x, y, scale=2, outline="#000000"), together.sprites[i])


def test_world_answers_do_not_depend_on_the_order_of_questions():
    cells = [(x, y) for y in range(-4, 4) for x in range(-5, 5)]
    no_memory = SpriteSampler.load("plants", cache_cells=0)  # every call starts from nothing
    fresh = {c: no_memory.sprite_at(7, *c) for c in cells[::7]}
    shared = SpriteSampler.load("plants")
    order = np.random.default_rng(0).permutation(len(cells))
    answers = {cells[i]: shared.sprite_at(7, *cells[i]) for i in order}
    for c, sprite in fresh.items():
        assert np.array_equal(answers[c], sprite)


DIGEST_SCRIPT = """
import hashlib, numpy as np
from procgen.sampler import SpriteSampler
s = SpriteSampler.load("plants")
h = hashlib.sha256()
h.update(s.decoder.decode_bytes(s.latents(np.arange(1000, dtype=np.uint64))).tobytes())
h.update(s.region(3, 0, 0, 40, 25).sprites.tobytes())
h.update(s.sample(300, 5, palette="pico8").sprites.tobytes())
print(h.hexdigest())
"""


def test_same_bytes_with_one_and_two_numba_threads(plants):
    digests = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], env=env, capture_output=True, text=True, check=True)
        digests.append(out.stdout.strip())
    h = hashlib.sha256()
    h.update(plants.decoder.decode_bytes(plants.latents(np.arange(1000, dtype=np.uint64))).tobytes())
    h.update(SpriteSampler.load("plants").region(3, 0, 0, 40, 25).sprites.tobytes())
    h.update(plants.sample(300, 5, palette="pico8").sprites.tobytes())
    assert digests[0] == digests[1] == h.hexdigest()


# --- what uniqueness and novelty promise ---------------------------------------------------------


@pytest.mark.parametrize("model", ["plants", "clothing"])
def test_a_batch_of_1000_has_no_near_duplicates_and_no_copies_of_training_images(model):
    sampler = SpriteSampler.load(model)
    result = sampler.sample(1000, 11, raw=True)  # the canonical sprites, which the rules judge
    assert result.stats.exhausted == 0
    f = features(result.sprites)
    pair_ssd = ssd(f, f)[np.triu_indices(1000, 1)]
    assert pair_ssd.min() >= sampler.unique_limit
    nearest = ssd(f, sampler.index.vectors).min(axis=1)  # brute force over every training image
    assert nearest.min() >= sampler.novel_limit
    assert result.stats.decoded >= 1000


def test_world_neighbours_are_never_near_duplicates(plants):
    result = SpriteSampler.load("plants", uniqueness=0.12).region(5, 0, 0, 30, 20, raw=True)
    assert result.stats.near_duplicate > 0  # a strict threshold: the rule really had to act
    assert result.stats.exhausted == 0
    f = features(result.sprites).reshape(20, 30, -1).astype(np.int64)
    limit = SpriteSampler.load("plants", uniqueness=0.12).unique_limit
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
        a = f[max(0, -dy):20 - max(0, dy), max(0, -dx):30 - max(0, dx)]
        b = f[max(0, dy):, max(0, dx):][:a.shape[0], :a.shape[1]]
        assert (((a - b) ** 2).sum(-1) >= limit).all()


def test_batches_are_prefix_stable_and_seeds_differ(plants):
    small, large = plants.sample(40, 3), plants.sample(120, 3)
    assert np.array_equal(small.sprites, large.sprites[:40])
    assert not np.array_equal(small.sprites, plants.sample(40, 4).sprites)


def test_class_latents_are_the_class_gaussian_of_the_key(plants):
    result = plants.sample(30, 2, cls="fern")
    keys = np.array([attempt_key(k, a) for k, a in zip(result.keys, result.attempts)], dtype=np.uint64)
    eps = latents_from_keys(keys, plants.latent_dim)
    c = plants.class_names.index("fern")
    expected = (plants.class_mean[c] + plants.class_std[c] * eps).astype(np.float32)
    assert np.array_equal(result.latents[:, :plants.latent_dim], expected)
    assert np.array_equal(result.latents[:, plants.latent_dim:], np.eye(len(plants.class_names))[[c] * 30])


def test_style_options_change_the_look_but_not_the_choice(plants):
    plain = plants.sample(50, 8, raw=True)
    styled = plants.sample(50, 8, palette="forest", outline="#102030", scale=3)
    assert np.array_equal(plain.attempts, styled.attempts) and np.array_equal(plain.latents, styled.latents)
    canonical = plain.sprites.transpose(0, 3, 1, 2)  # (n, H, W, 4) -> (n, 4, H, W)
    assert np.array_equal(styled.sprites, postprocess(canonical, palette="forest", outline="#102030", scale=3))
    assert styled.sprites.shape == (50, 96, 96, 4)
    default = plants.sample(50, 8)  # the model's own style: its outline around the canonical sprite
    assert np.array_equal(default.sprites, postprocess(canonical, outline=plants.default_style["outline"]))


def test_tighter_thresholds_cost_counted_redraws(plants):
    strict = SpriteSampler.load("plants", uniqueness=0.1, novelty=0.06, max_attempts=64)
    result = strict.sample(200, 1)
    stats = result.stats
    assert stats.near_duplicate > 0 and stats.not_novel > 0 and stats.broken > 0 and stats.exhausted == 0
    assert stats.decoded == 200 + int(result.attempts.sum())  # one decode per candidate tried
    assert strict.stats.sprites == 200


# --- errors a user can cause ---------------------------------------------------------------------


def test_load_errors_name_the_problem(tmp_path, plants):
    with pytest.raises(ProcgenError, match="plants, plants64, clothing or a checkpoint"):
        SpriteSampler.load("trees")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(_model_path("plants").read_bytes()[:5000])
    with pytest.raises(ProcgenError, match="broken.npz"):
        SpriteSampler.load(broken)
    with pytest.raises(ProcgenError, match="unknown class 'palm'; expected one of fern"):
        plants.sample(3, 0, cls="palm")
    with pytest.raises(ProcgenError, match="n must be an int >= 1"):
        plants.sample(0, 0)
    with pytest.raises(ProcgenError, match="radius must be an int >= 1"):
        SpriteSampler.load("plants", radius=0)
    with pytest.raises(ProcgenError, match="x0 must be an int"):
        plants.sprite_at(1, 0.5, 0)


def test_novelty_index_fits_its_model(plants):
    assert isinstance(plants.index, FeatureIndex) and plants.index.vectors.shape[1] == plants.n_features
    assert len(plants.index) >= 1000
