"""procgen.distance, procgen.uniqueness, procgen.world: the block features by hand and against their naive
twin, exact thresholds, index and pair search against brute force, the precedence rule on hand-made
conflicts, and the world closure against a plain BFS."""

import math

import numpy as np
import pytest

from procgen.errors import ProcgenError
from procgen.distance import (FeatureIndex, distance, features, features_reference, near_pairs, pooling_basis, ssd,
                              ssd_limit)
from procgen.uniqueness import EarlierSprites, HigherCells, RedrawStats, attempt_key, resolve
from procgen.world import closure


def random_features(n, rng, f=128, levels=255):
    return rng.integers(0, levels + 1, size=(n, f)).astype(np.uint8)


# --- features and distance -----------------------------------------------------------------------


def test_features_by_hand():
    sprite = np.zeros((1, 8, 8, 4), np.uint8)
    sprite[0, :4, :4] = (255, 255, 255, 255)  # block (0, 0): opaque white
    sprite[0, :4, 4:, :] = (255, 0, 0, 255)  # block (0, 1): opaque red
    sprite[0, 4:, :4][:, :2] = (0, 0, 255, 255)  # block (1, 0): half covered in blue
    f = features(sprite).astype(int)
    shade, cover = f[0, :4], f[0, 4:]
    assert cover.tolist() == [255, 255, 128, 0]  # 8 of 16 pixels: 127.5 rounds up
    # shade = 255 * mean(Y/255 * A/255): white 255, red .299 * 255 = 76.2, blue half .114 * 255 / 2 = 14.5
    assert shade.tolist() == [255, 76, 15, 0]


def test_features_kernel_equals_its_naive_twin():
    rng = np.random.default_rng(11)
    sprites = rng.integers(0, 256, size=(40, 32, 28, 4), dtype=np.uint8)
    sprites[::3, ..., 3] = rng.choice([0, 255], size=sprites[::3, ..., 3].shape)  # binary alpha, as sprites have
    assert np.array_equal(features(sprites), features_reference(sprites))
    assert features(sprites[:0]).shape == (0, 2 * 8 * 7)


def test_features_refuse_wrong_input():
    with pytest.raises(ProcgenError, match="multiples of 4"):
        features(np.zeros((1, 6, 8, 4), np.uint8))
    with pytest.raises(ProcgenError, match=r"\(N, H, W, 4\) uint8"):
        features(np.zeros((1, 8, 8, 4), np.float32))


def test_threshold_decision_is_exactly_the_rmse():
    rng = np.random.default_rng(0)
    a, b = random_features(300, rng, levels=12), random_features(300, rng, levels=12)
    d = np.sqrt(((a.astype(float) - b) ** 2).mean(axis=1)) / 255.0
    for tau in (0.01, 0.02, 0.025, float(np.median(d))):
        limit = ssd_limit(tau, a.shape[1])
        exact = np.diag(ssd(a, b))
        assert np.array_equal(exact < limit, d < tau - 1e-15) or np.array_equal(exact < limit, d < tau)


def test_ssd_is_exact_for_the_largest_values():
    a = np.full((1, 128), 255, np.uint8)
    b = np.zeros((1, 128), np.uint8)
    assert ssd(a, b)[0, 0] == 128 * 255 ** 2
    assert distance(a[0], b[0]) == 1.0
    with pytest.raises(ProcgenError, match=r"\[0, 1\]"):
        ssd_limit(1.5, 128)


# --- index and pairs against brute force ---------------------------------------------------------


def test_feature_index_within_matches_brute_force():
    rng = np.random.default_rng(1)
    stored = random_features(2000, rng, levels=40)
    nudged = stored[:50] + rng.integers(0, 3, (50, 128)).astype(np.uint8)  # near stored vectors
    queries = np.concatenate([random_features(200, rng, levels=40), nudged])
    index = FeatureIndex(stored)
    nearest_ssd = ssd(queries, stored).min(axis=1)
    limit = int(np.quantile(nearest_ssd, 0.5))  # half the queries have a neighbour inside
    assert np.array_equal(index.within(queries, limit), nearest_ssd < limit)
    assert np.allclose(index.nearest(queries), np.sqrt(nearest_ssd / 128) / 255)


def test_near_pairs_match_brute_force_with_either_basis():
    rng = np.random.default_rng(2)
    x = random_features(400, rng, levels=20)
    x[100:110] = x[:10]  # exact duplicates
    all_ssd = ssd(x, x)
    limit = int(np.quantile(all_ssd[np.triu_indices(400, 1)], 0.002)) + 1
    i, j = np.nonzero(np.triu(all_ssd < limit, 1))
    expected = np.stack([i, j], axis=1)
    for basis in (pooling_basis(128), FeatureIndex(x).basis):
        assert np.array_equal(near_pairs(x, limit, basis), expected)
    assert len(expected) >= 10


def test_pooling_basis_is_orthonormal():
    basis = pooling_basis(128)
    assert basis.shape == (128, 32)
    assert np.allclose(basis.T @ basis, np.eye(32))


# --- the precedence rule -------------------------------------------------------------------------


def earlier(feats, limit):
    return EarlierSprites(feats, limit, pooling_basis(feats.shape[1]))


def test_resolve_redraws_a_later_duplicate_only():
    rng = np.random.default_rng(3)
    feats = random_features(5, rng)
    feats[3] = feats[1]  # 3 duplicates 1, so 3 (the later) yields
    fresh = random_features(10, rng)
    calls = []

    def draw(i, k):
        calls.append((i, k))
        return fresh[k], True, True

    stats = RedrawStats()
    suspect = np.array([False, False, False, True, False])
    limit = ssd_limit(0.05, 128)
    attempts = resolve(feats, np.ones(5, bool), np.ones(5, bool), suspect, draw, earlier(feats, limit), limit, 8, stats)
    assert attempts.tolist() == [0, 0, 0, 1, 0]
    assert calls == [(3, 1)]
    assert np.array_equal(feats[3], fresh[1])
    assert (stats.near_duplicate, stats.not_novel, stats.exhausted, stats.sprites) == (1, 0, 0, 5)


def test_resolve_propagates_a_redraw_to_later_sprites():
    rng = np.random.default_rng(4)
    feats = random_features(3, rng)
    feats[1] = feats[0]
    replacement = feats[2].copy()  # sprite 1's new candidate equals sprite 2's, so 2 must move too
    other = random_features(1, rng)[0]

    def draw(i, k):
        return (replacement, True, True) if i == 1 else (other, True, True)

    suspect = np.array([False, True, False])
    limit = ssd_limit(0.05, 128)
    attempts = resolve(feats, np.ones(3, bool), np.ones(3, bool), suspect, draw, earlier(feats, limit), limit, 8, RedrawStats())
    assert attempts.tolist() == [0, 1, 1]
    assert np.array_equal(feats[2], other)


def test_resolve_redraws_what_is_not_novel_and_stops_after_max_attempts():
    rng = np.random.default_rng(5)
    feats = random_features(2, rng)
    candidates = random_features(4, rng)
    stats = RedrawStats()
    attempts = resolve(feats, np.array([True, False]), np.ones(2, bool), np.array([False, True]),
                       lambda i, k: (candidates[k], k == 2, True), earlier(feats, 1), 1, 8, stats)
    assert attempts.tolist() == [0, 2] and stats.not_novel == 2
    stats = RedrawStats()
    feats = feats.copy()
    attempts = resolve(feats, np.array([True, False]), np.ones(2, bool), np.array([False, True]),
                       lambda i, k: (candidates[k], False, True), earlier(feats, 1), 1, 3, stats)
    assert attempts.tolist() == [0, 0]  # nothing novel: the earliest of the equally bad candidates
    assert (stats.exhausted, stats.not_novel, stats.decoded) == (1, 3, 2)


def test_resolve_redraws_a_broken_candidate_and_prefers_whole_ones_when_exhausted():
    rng = np.random.default_rng(7)
    feats = random_features(2, rng)
    candidates = random_features(4, rng)
    stats = RedrawStats()
    attempts = resolve(feats, np.ones(2, bool), np.array([True, False]), np.array([False, True]),
                       lambda i, k: (candidates[k], True, k == 3), earlier(feats, 1), 1, 8, stats)
    assert attempts.tolist() == [0, 3] and (stats.broken, stats.not_novel) == (3, 0)
    feats, stats, limit = feats.copy(), RedrawStats(), 10**9  # every candidate is a near-duplicate
    attempts = resolve(feats, np.ones(2, bool), np.array([True, False]), np.array([False, True]),
                       lambda i, k: (candidates[k], True, k == 2), earlier(feats, limit), limit, 3, stats)
    assert attempts.tolist() == [0, 2] and stats.exhausted == 1  # the whole one wins among the failures


def test_world_rule_moves_the_lower_cell_and_rechecks_cells_below_it():
    rng = np.random.default_rng(6)
    feats = random_features(3, rng)  # cell 0 highest; 1 must differ from 0; 2 must differ from 1
    feats[1] = feats[0]
    higher = np.array([[-1, -1], [0, -1], [1, -1]])
    replacement = feats[2].copy()
    other = random_features(1, rng)[0]
    limit = ssd_limit(0.05, 128)
    stats = RedrawStats()
    attempts = resolve(feats, np.ones(3, bool), np.ones(3, bool), np.array([False, True, False]),
                       lambda i, k: (replacement, True, True) if i == 1 else (other, True, True),
                       HigherCells(feats, higher, limit), limit, 8, stats)
    assert attempts.tolist() == [0, 1, 1] and stats.near_duplicate == 2


def test_attempt_keys_are_distinct_and_attempt_zero_is_the_key():
    key = 0x1234_5678_9ABC_DEF0
    assert attempt_key(key, 0) == key
    assert len({attempt_key(key, k) for k in range(1000)}) == 1000


# --- the world's closure -------------------------------------------------------------------------


def reference_closure(P, origin, start, r, known=None):
    """Plain BFS over Python ints: every cell reachable by steps to higher (-phase, key, row, col) within r."""
    h, w = P.shape
    m = r + 1

    def rank(c):
        u, v = (origin[0] + c[0]) % m, (origin[1] + c[1]) % m
        return (-(u * m + (v if u % 2 == 0 else m - 1 - v)), int(P[c]), c[0], c[1])

    seen, todo = {start}, [start]
    while todo:
        a = todo.pop()
        if known is not None and known[a]:
            continue
        for b0 in range(a[0] - r, a[0] + r + 1):
            for b1 in range(a[1] - r, a[1] + r + 1):
                b = (b0, b1)
                if 0 <= b0 < h and 0 <= b1 < w and b not in seen and rank(b) > rank(a):
                    seen.add(b)
                    todo.append(b)
    return sorted(seen, key=rank, reverse=True), rank


@pytest.mark.parametrize("r", [1, 2])
def test_closure_matches_bfs_and_lists_higher_neighbours(r):
    rng = np.random.default_rng(6 + r)
    for trial in range(30):
        P = rng.integers(0, 2**63, size=(41, 41), dtype=np.uint64)
        if trial % 3 == 0:
            P[::2] = P[1::2].min()  # many equal keys: the (row, col) tie-break decides
        origin = tuple(int(v) for v in rng.integers(-1000, 1000, 2))  # negative coordinates: Python's mod
        start = (20, 20)
        cells, higher, edge = closure(P, *origin, np.array([start]), np.zeros(P.shape, bool), r)
        expected, rank = reference_closure(P, origin, start, r)
        if edge:  # the window was too small: nothing returned is trusted
            assert any(min(c[0], c[1], 40 - c[0], 40 - c[1]) < r for c in expected)
            continue
        assert [tuple(c) for c in cells.tolist()] == expected
        for i, (a0, a1) in enumerate(cells.tolist()):
            listed = sorted(tuple(cells[j]) for j in higher[i] if j >= 0)
            nearby = [(b0, b1) for b0 in range(a0 - r, a0 + r + 1) for b1 in range(a1 - r, a1 + r + 1)]
            assert listed == sorted(b for b in nearby if rank(b) > rank((a0, a1)))
            assert all(j < i for j in higher[i] if j >= 0)  # decreasing priority: higher cells come first


def test_closure_of_radius_1_is_bounded_by_the_phases():
    rng = np.random.default_rng(9)
    sizes = []
    for _ in range(400):
        P = rng.integers(0, 2**63, size=(15, 15), dtype=np.uint64)
        origin = tuple(int(v) for v in rng.integers(-50, 50, 2))
        cells, _, edge = closure(P, *origin, np.array([[7, 7]]), np.zeros(P.shape, bool), 1)
        assert not edge
        sizes.append(len(cells))
    assert set(sizes) == {1, 3, 7, 13}  # one size per phase, whatever the keys
    assert 5 < np.mean(sizes) < 7


def test_closure_does_not_expand_known_cells_and_reports_a_small_window():
    rng = np.random.default_rng(10)
    P = rng.integers(0, 2**63, size=(9, 9), dtype=np.uint64)
    known = np.zeros((9, 9), bool)
    known[3:6, 5] = True  # a wall of decided cells right of the start
    for origin in ((0, 0), (1, 0), (0, 1), (1, 1)):
        cells, _, edge = closure(P, *origin, np.array([[4, 4]]), known, 1)
        expected, _ = reference_closure(P, origin, (4, 4), 1, known)
        assert not edge and sorted(map(tuple, cells.tolist())) == sorted(expected)
    small = P[3:6, 3:6]  # the start (1, 1) is (x, y) = (2, 1) at origin (0, 1): the last phase, outranked by all
    assert closure(small, 0, 1, np.array([[1, 1]]), np.zeros((3, 3), bool), 1)[2]


def test_redraw_stats_add_up():
    names = ("sprites", "decoded", "near_duplicate", "not_novel", "broken", "exhausted", "cleaned")
    a = RedrawStats(**{name: i + 1 for i, name in enumerate(names)})
    a.add(RedrawStats(**{name: 10 * (i + 1) for i, name in enumerate(names)}))
    assert a.as_dict() == {name: 11 * (i + 1) for i, name in enumerate(names)}
    assert math.isclose(distance(np.zeros(2, np.uint8), np.full(2, 51, np.uint8)), 0.2)
