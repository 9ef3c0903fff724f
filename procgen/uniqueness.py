"""Uniqueness: the precedence rule that redraws near-duplicates and copies of training images.

Sprites are decided one at a time in an order of precedence. Sprite i draws candidates
k = 0, 1, 2, ... (candidate 0 is the sprite's own key, see ``attempt_key``) and keeps the first
that is novel and at distance >= tau from the final sprite of every j before it that it must
differ from. After ``max_attempts`` candidates it keeps the best one it saw (novel first, then
the largest smallest distance), and that is counted. ``sample`` orders a batch by index and makes
each sprite differ from all earlier ones; the world orders cells by priority (``procgen.world``).

Distances and thresholds are ``procgen.distance``'s; novelty is ``distance.FeatureIndex.within``.
The rule takes who must differ from whom as an object: ``EarlierSprites`` for batches, ``HigherCells``
for world cells.
"""

import math
from dataclasses import dataclass, fields

import numpy as np
from scipy.spatial import cKDTree

from procgen.distance import ssd
from procgen.seeding import fnv1a64, mix64

_ATTEMPT_SALT = fnv1a64("procgen.attempt")


def attempt_key(key, attempt):
    """Candidate ``attempt`` of a sprite with key ``key``: the key itself for 0, else a fresh 64-bit key

    ``mix64(key ^ mix64(fnv1a64("procgen.attempt") + attempt))``: mix64 is a bijection, so distinct
    attempts of one key always get distinct keys.
    """
    return int(key) if attempt == 0 else mix64(int(key) ^ mix64(_ATTEMPT_SALT + int(attempt)))


@dataclass
class RedrawStats:
    """What uniqueness and novelty cost: counts over every sprite resolved since the stats were made.

    sprites: sprites decided;  decoded: candidates decoded (attempt 0 included);
    near_duplicate / not_novel / broken: candidates rejected for each reason (one candidate may count in
    several); broken: the clean-up removed more than a tenth of its pixels (a stem cut, a crown afloat);
    exhausted: sprites that kept their best candidate after max_attempts;
    cleaned: sprites returned whose clean-up (``procgen.paint.clean``) removed pixels.
    """

    sprites: int = 0
    decoded: int = 0
    near_duplicate: int = 0
    not_novel: int = 0
    broken: int = 0
    exhausted: int = 0
    cleaned: int = 0

    def add(self, other):
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


def resolve(feats, novel, whole, suspect, draw, neighbours, limit, max_attempts, stats):
    """Decide sprites 0..n-1 in that order of precedence; returns the chosen attempt per sprite.

    feats (n, F) uint8, novel (n,) bool, whole (n,) bool: every sprite's candidate 0, or its final choice
        if it was decided earlier (then ``suspect`` is False for it and it is never redrawn).
    suspect (n,) bool: sprites whose candidate 0 may fail (not novel, not whole, or near an earlier
        candidate 0); all others are kept unchecked, which is what makes this fast.
    draw(i, k) -> (features (F,), novel, whole): candidate k of sprite i.
    neighbours: who must differ from whom, ``EarlierSprites`` or ``HigherCells``.
    feats is updated in place to the final choices.
    """
    n = len(feats)
    attempts = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if not suspect[i]:
            continue
        tried = []
        f, ok_novel, ok_whole, k = feats[i], bool(novel[i]), bool(whole[i]), 0
        while True:
            nearest = neighbours.nearest_before(i, f)
            unique = nearest >= limit
            stats.near_duplicate += not unique
            stats.not_novel += not ok_novel
            stats.broken += not ok_whole
            if unique and ok_novel and ok_whole:
                break
            tried.append((ok_novel and ok_whole, nearest, -k, f))
            k += 1
            if k == max_attempts:  # keep the best: novel and whole first, then farthest, then the earliest
                _, _, neg_k, f = max(tried, key=lambda t: t[:3])
                k = -neg_k
                stats.exhausted += 1
                break
            f, ok_novel, ok_whole = draw(i, k)
            stats.decoded += 1
        if k:
            attempts[i], feats[i] = k, f
            neighbours.moved(i)
            suspect[neighbours.near_after(i, f)] = True
    stats.sprites += n
    return attempts


class EarlierSprites:
    """Batch neighbours: sprite i must differ from every sprite j < i.

    A KD-tree over the projected candidate-0 features finds the sprites near a candidate (as in
    ``near_pairs``); sprites that were redrawn since are checked one by one. ``feats`` is resolve's
    live array.
    """

    def __init__(self, feats, limit, basis):
        self.feats, self.limit, self.basis = feats, limit, basis
        self.tree = cKDTree(feats @ basis)
        self.radius = math.sqrt(limit) * (1 + 1e-9) + 1e-9
        self.redrawn = set()

    def _near(self, f):
        return np.array(self.tree.query_ball_point(f @ self.basis, self.radius), dtype=np.int64)

    def nearest_before(self, i, f):
        """min(limit, smallest ssd from f to the sprites before i)."""
        near = self._near(f)
        near = np.union1d(near[(near < i) & ~np.isin(near, list(self.redrawn))], [j for j in self.redrawn if j < i])
        return int(min(self.limit, ssd(f[None], self.feats[near.astype(np.int64)]).min())) if len(near) else self.limit

    def near_after(self, i, f):
        """Sprites after i (all still at candidate 0) within the limit of f."""
        near = self._near(f)
        near = near[near > i]
        return near[ssd(f[None], self.feats[near])[0] < self.limit] if len(near) else near

    def moved(self, i):
        self.redrawn.add(i)


class HigherCells:
    """World neighbours: cell i must differ from its higher-priority cells within r (``closure``'s table)."""

    def __init__(self, feats, higher, limit):
        self.feats, self.higher, self.limit = feats, higher, limit
        self.lower = [[] for _ in range(len(higher))]
        rows, slots = np.nonzero(higher >= 0)
        for i, j in zip(rows.tolist(), higher[rows, slots].tolist()):
            self.lower[j].append(i)

    def edges(self):
        """(rows, above): every pair where cell rows[k] must differ from cell above[k]."""
        rows, slots = np.nonzero(self.higher >= 0)
        return rows, self.higher[rows, slots]

    def nearest_before(self, i, f):
        above = self.higher[i][self.higher[i] >= 0]
        return int(min(self.limit, ssd(f[None], self.feats[above]).min())) if len(above) else self.limit

    def near_after(self, i, f):
        below = np.array(self.lower[i], dtype=np.int64)
        return below[ssd(f[None], self.feats[below])[0] < self.limit] if len(below) else below

    def moved(self, i):
        pass
