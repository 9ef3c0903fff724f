"""A perceptual distance between sprites, exact to the last integer, and an index of training sprites.

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

Novelty: a sprite at distance < tau_novel from a training image is not novel; ``FeatureIndex``
answers "is any training image that close?" exactly, fast enough for one sprite at a time.
"""

import math

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from procgen.errors import ProcgenError

BLOCK = 4  # pixels per block side
_PROJECTED_DIMS = 16  # dimensions of the projection that prunes candidates


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
