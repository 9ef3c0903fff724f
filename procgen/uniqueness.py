"""Uniqueness and novelty: a perceptual distance between sprites, and the rules that keep sprites apart.

Distance
    A sprite (H, W, 4) uint8 is summarized on a grid of 4 x 4 pixel blocks (a 32 x 32 sprite gives
    8 x 8 blocks) by two integers 0..255 per block, each a mean over the block's 16 pixels, rounded::

        cover = 255 * mean(A / 255)                  how much of the block is drawn
        shade = 255 * mean(Y / 255 * A / 255)        Rec. 601 luma Y = .299 R + .587 G + .114 B over black

    f is the F = 2 * blocks integers (128 for 32 x 32), and the distance is their RMSE on [0, 1]::

        d(s, t) = sqrt(mean_k (f_k(s) - f_k(t))^2) / 255

    Block means forgive a one-pixel shift of a thin stem that a per-pixel distance would count in
    full; luma sees shape and shading but not hue, so a recoloured sprite is still the same sprite.
    Two sprites are near-duplicates when d < tau. Since ssd = sum_k (f_k(s) - f_k(t))^2 is an
    integer, ``d < tau  <=>  ssd < ceil(tau^2 * F * 255^2)``: every decision is an integer
    comparison, the same on any machine. (Integer sums below 2**53 are exact in float64 too, so the
    matrix products below that compute many ssd at once are exact whatever BLAS does.)

Precedence rule (``resolve``)
    Sprites are decided one at a time in an order of precedence. Sprite i draws candidates
    k = 0, 1, 2, ... (candidate 0 is the sprite's own key, see ``attempt_key``) and keeps the first
    that is novel and at distance >= tau from the final sprite of every j before it that it must
    differ from. After ``max_attempts`` candidates it keeps the best one it saw (novel first, then
    the largest smallest distance), and that is counted. ``sample`` orders a batch by index and makes
    each sprite differ from all earlier ones; the world orders cells by priority (below).

World rule
    Cell c must differ from every cell within Chebyshev distance r (max(|dx|, |dy|) <= r) that has
    a higher priority. So of any two cells within r, the lower one yields, and no pair is a
    near-duplicate. The answer for c depends only on the cells reachable from c by steps to
    higher-priority cells within r (``closure``), found from keys alone, so it is the same whichever
    cells were asked for before; they are decided in decreasing priority. Priority is::

        (-phase, key, y, x) compared lexicographically,   m = r + 1,   u = y mod m,   v = x mod m,
        phase = u m + (v if u is even else m - 1 - v)       (the m x m phases in snake order)

    Two cells of one phase are never within r of each other, so a chain of cells, each yielding to
    the next, climbs through at most m^2 phases: the closure is bounded. For r = 1 it holds 1, 3, 7
    or 13 cells by phase, 6 on average (row-major phases give 1, 3, 11, 17; priority = key alone
    averages 15 cells and reaches 80 or more). Within a phase the key decides, so which cells
    yield stays random.

Novelty
    A sprite at distance < tau_novel from a training image (``FeatureIndex``) is not novel and is redrawn.
"""

import math
from collections import OrderedDict
from dataclasses import dataclass, fields

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from procgen.errors import ProcgenError
from procgen.seeding import fnv1a64, mix64

BLOCK = 4  # pixels per block side
_ATTEMPT_SALT = fnv1a64("procgen.attempt")
_PROJECTED_DIMS = 16  # the KD-tree prefilter's dimensions


# --- distance ------------------------------------------------------------------------------------


def features(sprites):
    """RGBA sprites (N, H, W, 4) uint8 -> block features (N, 2 * H/4 * W/4) uint8: shades then covers.

    H and W must be multiples of 4. All arithmetic is in integers, rounding halves up; a Numba
    kernel equal to ``features_reference`` byte for byte, without its dozen whole-array passes.
    """
    _check_sprites(sprites)
    n, h, w, _ = sprites.shape
    out = np.empty((n, 2 * (h // BLOCK) * (w // BLOCK)), dtype=np.uint8)
    _features_kernel(np.ascontiguousarray(sprites), out)
    return out


def _check_sprites(sprites):
    if not isinstance(sprites, np.ndarray) or sprites.ndim != 4 or sprites.shape[3] != 4 or sprites.dtype != np.uint8:
        found = f"{sprites.dtype} {sprites.shape}" if isinstance(sprites, np.ndarray) else type(sprites).__name__
        raise ProcgenError(f"sprites must be an (N, H, W, 4) uint8 array, got {found}")
    if sprites.shape[1] % BLOCK or sprites.shape[2] % BLOCK:
        raise ProcgenError(f"sprite height and width must be multiples of {BLOCK}, got "
                           f"{sprites.shape[1]} x {sprites.shape[2]}")


@njit(cache=True)
def _features_kernel(sprites, out):
    n, h, w, _ = sprites.shape
    blocks, pixels = (h // BLOCK) * (w // BLOCK), BLOCK * BLOCK
    den = 1000 * 255 * pixels
    for s in range(n):
        for by in range(h // BLOCK):
            for bx in range(w // BLOCK):
                alpha, luma_alpha = 0, 0
                for y in range(by * BLOCK, by * BLOCK + BLOCK):
                    for x in range(bx * BLOCK, bx * BLOCK + BLOCK):
                        a = np.int64(sprites[s, y, x, 3])
                        alpha += a
                        luma_alpha += (299 * np.int64(sprites[s, y, x, 0]) + 587 * np.int64(sprites[s, y, x, 1])
                                       + 114 * np.int64(sprites[s, y, x, 2])) * a
                b = by * (w // BLOCK) + bx
                out[s, b] = (2 * luma_alpha + den) // (2 * den)
                out[s, blocks + b] = (2 * alpha + pixels) // (2 * pixels)


def features_reference(sprites):
    """The naive numpy twin of ``features``: block sums by reshape, the same integer rounding."""
    _check_sprites(sprites)
    n, h, w, _ = sprites.shape
    s = sprites.astype(np.int64)
    alpha = s[..., 3]
    luma_alpha = (299 * s[..., 0] + 587 * s[..., 1] + 114 * s[..., 2]) * alpha  # 1000 * 255 * (Y/255 * A/255) * 255
    pixels = BLOCK * BLOCK

    def block_sums(a):  # (N, H, W) -> (N, H/4 * W/4)
        return a.reshape(n, h // BLOCK, BLOCK, w // BLOCK, BLOCK).sum(axis=(2, 4)).reshape(n, h * w // pixels)

    cover = (2 * block_sums(alpha) + pixels) // (2 * pixels)
    den = 1000 * 255 * pixels
    shade = (2 * block_sums(luma_alpha) + den) // (2 * den)
    return np.concatenate([shade, cover], axis=1).astype(np.uint8)


def ssd_limit(tau, n_features):
    """The integer L with d < tau <=> ssd < L, for feature vectors of length n_features."""
    if not isinstance(tau, (int, float)) or isinstance(tau, bool) or not 0.0 <= tau <= 1.0:
        raise ProcgenError(f"distance threshold must be a number in [0, 1], got {tau!r}")
    return int(math.ceil(tau * tau * n_features * 255.0 * 255.0))


def ssd(a, b):
    """Squared distances of the rows of a (n, F) to the rows of b (m, F): (n, m) int64, exact."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)  # integers < 2**53: exact
    return d.astype(np.int64)


def distance(a, b):
    """d(s, t) of two feature vectors (F,), as a float in [0, 1] (for reports; decisions use ssd)."""
    return math.sqrt(int(ssd(a[None], b[None])[0, 0]) / a.shape[0]) / 255.0


class FeatureIndex:
    """Feature vectors (M, F) uint8 with exact range queries: is any within ssd < limit of a query?

    Candidates are found in a 16-dimensional orthonormal projection U (the principal directions):
    |U^T (a - b)| <= |a - b|, so no vector within the limit is missed. The stored vectors are sorted by
    their first projected coordinate, so a query scans only those within the radius on that axis,
    drops those farther in the first 2, then all 16 dimensions, and checks the rest exactly in
    integers. The projection only prunes: answers are exact whatever its rounding.
    """

    def __init__(self, vectors):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.uint8)
        if self.vectors.ndim != 2 or len(self.vectors) == 0:
            raise ProcgenError(f"a feature index needs an (M, F) array with M >= 1, got shape {self.vectors.shape}")
        self.basis = _principal_directions(self.vectors, _PROJECTED_DIMS)
        projected = self.vectors @ self.basis
        order = np.argsort(projected[:, 0], kind="stable")
        self._projected, self._sorted = np.ascontiguousarray(projected[order]), self.vectors[order]
        self._first, self._second = self._projected[:, 0].copy(), self._projected[:, 1].copy()

    def __len__(self):
        return len(self.vectors)

    def within(self, queries, limit):
        """(n,) bool: for each query row, is some stored vector at ssd < limit?"""
        queries = np.ascontiguousarray(queries, dtype=np.uint8)
        radius = math.sqrt(limit) * (1 + 1e-9) + 1e-9  # a hair wider: rounding may only add candidates
        found = np.zeros(len(queries), dtype=bool)
        _any_within(queries @ self.basis, queries, self._first, self._second, self._projected, self._sorted, radius,
                    int(limit), found)
        return found

    def nearest(self, queries, chunk=512):
        """(n,) the exact distance d of each query to its nearest stored vector, by brute force."""
        queries = np.asarray(queries, dtype=np.uint8)
        best = np.concatenate([ssd(queries[i:i + chunk], self.vectors).min(axis=1)
                               for i in range(0, len(queries), chunk)]) if len(queries) else np.zeros(0)
        return np.sqrt(best / queries.shape[1]) / 255.0


@njit(cache=True)
def _any_within(q_projected, queries, first, second, projected, vectors, radius, limit, found):
    """found[i] = some vectors[m] has ssd(queries[i], vectors[m]) < limit.

    Rows are sorted by the first projected coordinate; ``first`` and ``second`` are the first two
    projected columns stored apart, so the scan of a window reads 16 bytes a row, not 128.
    """
    r2 = radius * radius
    for i in range(queries.shape[0]):
        lo = np.searchsorted(first, q_projected[i, 0] - radius)
        hi = np.searchsorted(first, q_projected[i, 0] + radius, side="right")
        for m in range(lo, hi):
            t0, t1 = q_projected[i, 0] - first[m], q_projected[i, 1] - second[m]
            d = t0 * t0 + t1 * t1
            if d > r2:
                continue
            for k in range(2, projected.shape[1]):
                t = q_projected[i, k] - projected[m, k]
                d += t * t
            if d > r2:
                continue
            exact = 0
            for f in range(queries.shape[1]):
                t = np.int64(queries[i, f]) - np.int64(vectors[m, f])
                exact += t * t
            if exact < limit:
                found[i] = True
                break


def _principal_directions(vectors, p):
    """(F, min(p, F)) orthonormal columns: the top eigenvectors of the vectors' covariance."""
    x = vectors.astype(np.float64)
    x -= x.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(x.T @ x)  # ascending eigenvalues; eigh's vectors are orthonormal
    return np.ascontiguousarray(eigenvectors[:, ::-1][:, :p])


def near_pairs(vectors, limit, basis):
    """Every pair (i, j), i < j, of rows at ssd < limit: (P, 2) int64 sorted, via the projected KD-tree."""
    vectors = np.asarray(vectors, dtype=np.uint8)
    radius = math.sqrt(limit) * (1 + 1e-9) + 1e-9
    pairs = cKDTree(vectors @ basis).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    a, b = vectors[pairs[:, 0]].astype(np.int64), vectors[pairs[:, 1]].astype(np.int64)
    pairs = np.sort(pairs[((a - b) ** 2).sum(axis=1) < limit], axis=1).astype(np.int64)  # each pair as i < j
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def pooling_basis(n_features):
    """(F, F/4) orthonormal columns averaging 2 x 2 blocks of each channel: a prefilter needing no data."""
    blocks = n_features // 2
    side = int(round(math.sqrt(blocks)))
    columns = []
    for channel in range(2):
        for i in range(0, side, 2):
            for j in range(0, side, 2):
                col = np.zeros(n_features)
                for di in range(min(2, side - i)):
                    for dj in range(min(2, side - j)):
                        col[channel * blocks + (i + di) * side + j + dj] = 1.0
                columns.append(col / np.linalg.norm(col))
    return np.stack(columns, axis=1)


# --- candidates ----------------------------------------------------------------------------------


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
    near_duplicate / not_novel: candidates rejected for each reason (one candidate may count in both);
    exhausted: sprites that kept their best candidate after max_attempts.
    """

    sprites: int = 0
    decoded: int = 0
    near_duplicate: int = 0
    not_novel: int = 0
    exhausted: int = 0

    def add(self, other):
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --- the precedence rule -------------------------------------------------------------------------


def resolve(feats, novel, suspect, draw, neighbours, limit, max_attempts, stats):
    """Decide sprites 0..n-1 in that order of precedence; returns the chosen attempt per sprite.

    feats (n, F) uint8, novel (n,) bool: every sprite's candidate 0, or its final choice if it was
        decided earlier (then ``suspect`` is False for it and it is never redrawn).
    suspect (n,) bool: sprites whose candidate 0 may fail (not novel, or near an earlier candidate 0);
        all others are kept unchecked, which is what makes this fast.
    draw(i, k) -> (features (F,), novel): candidate k of sprite i.
    neighbours: who must differ from whom, ``EarlierSprites`` or ``HigherCells``.
    feats is updated in place to the final choices.
    """
    n = len(feats)
    attempts = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if not suspect[i]:
            continue
        tried = []
        f, ok_novel, k = feats[i], bool(novel[i]), 0
        while True:
            nearest = neighbours.nearest_before(i, f)
            unique = nearest >= limit
            stats.near_duplicate += not unique
            stats.not_novel += not ok_novel
            if unique and ok_novel:
                break
            tried.append((ok_novel, nearest, -k, f))
            k += 1
            if k == max_attempts:  # keep the best: novel first, then farthest, then the earliest attempt
                ok_novel, _, neg_k, f = max(tried, key=lambda t: t[:3])
                k = -neg_k
                stats.exhausted += 1
                break
            f, ok_novel = draw(i, k)
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


# --- the world's closure -------------------------------------------------------------------------


@njit(cache=True)
def _phase(row, col, origin_y, origin_x, r):
    """The phase of the window cell (row, col), see the module docstring; Python's mod, never negative."""
    m = r + 1
    u, v = (origin_y + row) % m, (origin_x + col) % m
    return u * m + (v if u % 2 == 0 else m - 1 - v)


@njit(cache=True)
def _higher(P, a0, a1, b0, b1, origin_y, origin_x, r):
    """Cell (b0, b1) outranks cell (a0, a1): priority = (-phase, key, row, column), lexicographic."""
    pa, pb = _phase(a0, a1, origin_y, origin_x, r), _phase(b0, b1, origin_y, origin_x, r)
    if pa != pb:
        return pb < pa
    if P[b0, b1] != P[a0, a1]:
        return P[b0, b1] > P[a0, a1]
    return (b0, b1) > (a0, a1)


@njit(cache=True)
def closure(P, origin_y, origin_x, starts, known, r):
    """The cells reachable from ``starts`` by steps to higher-priority cells within Chebyshev r.

    P (h, w) uint64 keys of a window whose cell (row, col) is (x, y) = (origin_x + col, origin_y + row);
    starts (s, 2) window (row, col);
    known (h, w) bool: cells already decided, which are included but not expanded.
    Returns (cells (m, 2) in decreasing priority, higher (m, (2r+1)^2 - 1) indices into cells of each
    cell's higher neighbours padded with -1, reached_edge): reached_edge means a cell within r of the
    window's edge needed expanding, so the window was too small and nothing else is valid.
    """
    h, w = P.shape
    index = -np.ones((h, w), dtype=np.int64)
    cells = np.empty((h * w, 2), dtype=np.int64)
    m = 0
    for s in range(starts.shape[0]):
        a0, a1 = starts[s, 0], starts[s, 1]
        if index[a0, a1] < 0:
            index[a0, a1] = m
            cells[m, 0], cells[m, 1] = a0, a1
            m += 1
    head = 0
    while head < m:
        a0, a1 = cells[head, 0], cells[head, 1]
        head += 1
        if known[a0, a1]:
            continue
        if a0 < r or a1 < r or a0 + r >= h or a1 + r >= w:
            return cells[:0], np.empty((0, 0), dtype=np.int64), True
        for b0 in range(a0 - r, a0 + r + 1):
            for b1 in range(a1 - r, a1 + r + 1):
                if index[b0, b1] < 0 and _higher(P, a0, a1, b0, b1, origin_y, origin_x, r):
                    index[b0, b1] = m
                    cells[m, 0], cells[m, 1] = b0, b1
                    m += 1
    cells = cells[:m]
    order = np.empty(m, dtype=np.int64)  # insertion sort by decreasing priority: m is small
    for i in range(m):
        j = i
        while j > 0 and _higher(P, cells[order[j - 1], 0], cells[order[j - 1], 1], cells[i, 0], cells[i, 1],
                                   origin_y, origin_x, r):
            order[j] = order[j - 1]
            j -= 1
        order[j] = i
    cells = cells[order]
    for i in range(m):
        index[cells[i, 0], cells[i, 1]] = i
    side = 2 * r + 1
    higher = -np.ones((m, side * side - 1), dtype=np.int64)
    for i in range(m):
        a0, a1 = cells[i, 0], cells[i, 1]
        if known[a0, a1]:
            continue
        c = 0
        for b0 in range(a0 - r, a0 + r + 1):
            for b1 in range(a1 - r, a1 + r + 1):
                if _higher(P, a0, a1, b0, b1, origin_y, origin_x, r):
                    higher[i, c] = index[b0, b1]
                    c += 1
    return cells, higher, False


class CellCache:
    """The final choice (attempt, features) of recently decided cells, least recently used out first.

    Caching changes no answer (a cell's sprite is a function of the keys), only how much is decoded.
    """

    def __init__(self, capacity=1 << 16):
        self.capacity = int(capacity)
        self.entries = OrderedDict()

    def get(self, key):
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key, value):
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def clear(self):
        self.entries.clear()
