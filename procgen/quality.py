"""How good generated sprites are: stray pixels, broken shapes, colours, realism and class fidelity.

On RGBA sprites (N, H, W, 4) uint8, where a pixel is opaque when its alpha is at least 128 (sprites
carry alpha 0 or 255):

    islands(s)          8-connected opaque pieces of <= max_size pixels per sprite: specks of noise
    pieces(s)           8-connected opaque pieces of >= min_size pixels: 1 for a whole sprite
    colour_counts(s)    distinct RGB colours among the opaque pixels
    sprite_features(s)  a vector per sprite in which Euclidean distance compares sprites of any size

and on feature vectors:

    precision_recall    improved precision and recall (Kynkaanniemi et al., NeurIPS 2019): how much of
                        the generated set looks real, and how much of the real set it covers
    SpriteClassifier    a 5-nearest-neighbour classifier; class fidelity = its accuracy on sprites asked
                        for by class over its accuracy on held-out real sprites (``class_fidelity``)
"""

import numpy as np

from procgen.cleanup import label_pieces
from procgen.errors import ProcgenError

GRID = 16  # cells per side of the feature grid
_CHUNK = 1024  # query rows per distance block: (1024, M) float32 blocks, 20 MB at M = 5000
_SPRITES_PER_PASS = 512  # sprites labelled or averaged at once, bounding the temporaries (64 x 64: 70 MB)
_NO_COLOUR = np.uint32(1 << 24)  # above every packed RGB word: marks transparent pixels


def _check_sprites(sprites):
    if not isinstance(sprites, np.ndarray) or sprites.ndim != 4 or sprites.shape[3] != 4 or sprites.dtype != np.uint8:
        found = f"{sprites.dtype} {sprites.shape}" if isinstance(sprites, np.ndarray) else type(sprites).__name__
        raise ProcgenError(f"sprites must be an (N, H, W, 4) uint8 RGBA array, got {found}")


def _opaque(sprites):
    _check_sprites(sprites)
    return sprites[..., 3] >= 128  # (N, H, W)


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ProcgenError(f"{name} must be an int >= 1, got {value!r}")


def _count_pieces(sprites, counted):
    """(N,) int64: each sprite's 8-connected opaque pieces whose size passes ``counted(sizes) -> bool``."""
    opaque = _opaque(sprites)
    counts = np.empty(len(sprites), dtype=np.int64)
    for start in range(0, len(sprites), _SPRITES_PER_PASS):
        labels, sizes = label_pieces(opaque[start:start + _SPRITES_PER_PASS])
        # labels run in raster order over the stack: sprite n owns those above sprite n-1's highest, up to its own
        highest = np.maximum.accumulate(labels.max(axis=(1, 2), initial=0))  # (n,)
        owner = np.repeat(np.arange(len(labels)), np.diff(highest, prepend=0))  # (L,) the sprite of each piece
        counts[start:start + len(labels)] = np.bincount(owner[counted(sizes[1:])], minlength=len(labels))
    return counts


def islands(sprites, max_size=2):
    """(N,) int64: the 8-connected opaque pieces of at most ``max_size`` pixels in each sprite."""
    _check_size("max_size", max_size)
    return _count_pieces(sprites, lambda sizes: sizes <= max_size)


def pieces(sprites, min_size=3):
    """(N,) int64: the 8-connected opaque pieces of at least ``min_size`` pixels in each sprite."""
    _check_size("min_size", min_size)
    return _count_pieces(sprites, lambda sizes: sizes >= min_size)


def colour_counts(sprites):
    """(N,) int64: the distinct RGB colours among each sprite's opaque pixels (0 for an empty sprite)."""
    opaque = _opaque(sprites)
    n, h, w, _ = sprites.shape
    rgb = sprites[..., :3].astype(np.uint32)
    words = np.where(opaque, rgb[..., 0] | rgb[..., 1] << 8 | rgb[..., 2] << 16, _NO_COLOUR)  # (N, H, W)
    words = np.sort(words.reshape(n, h * w), axis=1)  # (N, H, W) -> (N, H*W), equal colours adjacent
    starts = np.ones(words.shape, dtype=bool)  # where a run of one colour starts
    starts[:, 1:] = words[:, 1:] != words[:, :-1]
    return np.count_nonzero(starts & (words != _NO_COLOUR), axis=1).astype(np.int64)


# --- features -------------------------------------------------------------------------------------


def _cell_weights(size, cells):
    """(cells, size): row i averages the pixels under cell i when ``size`` pixels are cut into equal cells.

    A pixel [x, x + 1) weighs its overlap with the cell [i s, (i + 1) s), s = size / cells, over s, so
    every row sums to 1 and sizes that ``cells`` does not divide (24, 40) are averaged by area.
    """
    edges = np.arange(cells + 1) * (size / cells)
    x = np.arange(size)
    overlap = np.minimum(edges[1:, None], x + 1.0) - np.maximum(edges[:-1, None], x)  # (cells, size)
    return np.clip(overlap, 0.0, None) * (cells / size)


def sprite_features(sprites):
    """RGBA sprites (N, H, W, 4) uint8 -> features (N, 4 * 16 * 16) float32: alpha, then luma, then 2 chroma.

    Each pixel becomes four numbers, the colour premultiplied by alpha a in [0, 1] (so a transparent
    pixel is all zeros, whatever its RGB)::

        a,   Y a,   Cb a = (B - Y) / 1.772 a,   Cr a = (R - Y) / 1.402 a,   Y = .299 R + .587 G + .114 B

    (ITU-R BT.601 on RGB in [0, 1]: a, Y in [0, 1] and Cb, Cr in [-1/2, 1/2], so each channel spans
    a range of 1 and weighs alike). Their means over a 16 x 16 grid of cells, by area, make sprites of
    any size 16..64 comparable; the vector is divided by sqrt(4 * 16 * 16), so the Euclidean distance
    of two sprites is the RMS difference of their cells.

    Why this space: no pretrained network (the Inception or VGG features of FID and of Kynkaanniemi et
    al.) is available here, and at sprite scale what the eye compares is silhouette, shading and hue
    per region, which the cells keep while forgiving a one-pixel shift. The scale is fixed rather than
    z-scored on a data set, so a sprite's vector never depends on which other sprites came with it,
    and real and generated sets are measured in one space.
    """
    _check_sprites(sprites)
    n, h, w, _ = sprites.shape
    rows = _cell_weights(h, GRID).astype(np.float32)  # (16, H)
    cols = _cell_weights(w, GRID).astype(np.float32)  # (16, W)
    out = np.empty((n, 4 * GRID * GRID), dtype=np.float32)
    for start in range(0, n, _SPRITES_PER_PASS):
        x = sprites[start:start + _SPRITES_PER_PASS].astype(np.float32) / np.float32(255)  # (c, H, W, 4)
        a = x[..., 3]
        y = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
        cb, cr = (x[..., 2] - y) / 1.772, (x[..., 0] - y) / 1.402
        channels = np.stack([a, y * a, cb * a, cr * a], axis=1)  # 4 x (c, H, W) -> (c, 4, H, W)
        cells = rows @ channels @ cols.T  # (16, H) @ (c, 4, H, W) @ (W, 16) -> (c, 4, 16, 16)
        cells = cells.reshape(len(x), 4 * GRID * GRID)  # (c, 4, 16, 16) -> (c, 1024)
        out[start:start + len(x)] = cells / np.float32(2 * GRID)  # 2 * 16 = sqrt(4 * 16 * 16)
    return out


# --- nearest neighbours -----------------------------------------------------------------------------


def _check_features(x, name, least):
    if not isinstance(x, np.ndarray) or x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        found = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise ProcgenError(f"{name} must be an (n, F) array of feature vectors, got {found}")
    if len(x) < least:
        raise ProcgenError(f"{name} needs at least {least} feature vectors, got {len(x)}")
    if not np.isfinite(x).all():
        raise ProcgenError(f"{name} holds a NaN or infinite feature")
    return x.astype(np.float32)


def _squared_distances(a, b, b_norms):
    """(n, m) float32: |a_i - b_j|^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j, clipped at 0 (rounding can dip below)."""
    d = (a * a).sum(axis=1)[:, None] + b_norms[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0, out=d)


def _slack(a, b):
    """A bound on the float32 rounding of ``_squared_distances`` for rows like a and b.

    Each product a_i . b_j of F terms is off by at most about F * 2^-24 |a_i| |b_j|; a comparison
    d^2 <= r^2 gets this much leeway, so an exact duplicate still lies in a ball of radius 0.
    """
    largest = max(float((a * a).sum(axis=1).max()), float((b * b).sum(axis=1).max()))
    return 4.0 * a.shape[1] * 2.0**-24 * largest


def _kth_neighbour_radii(x, k):
    """(n,) float32: the squared distance of each row of x to its k-th nearest other row."""
    norms = (x * x).sum(axis=1)
    radii = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), _CHUNK):
        d = _squared_distances(x[start:start + _CHUNK], x, norms)  # (c, n)
        d[np.arange(len(d)), start + np.arange(len(d))] = -1.0  # itself first, so position k is the k-th other
        radii[start:start + _CHUNK] = np.partition(d, k, axis=1)[:, k]
    return radii


def precision_recall(real, fake, k=3):
    """Improved precision and recall of a generated set: (precision, recall), floats in [0, 1].

    real (n, F) and fake (m, F) are feature vectors (``sprite_features``). Each real vector r gets a
    ball of radius NN_k(r), its distance to its k-th nearest other real vector; the union of the
    balls estimates the real data's support. Likewise for the fake vectors. Then::

        precision = (1/m) sum_f [f lies in some real ball]     how much of what is generated looks real
        recall    = (1/n) sum_r [r lies in some fake ball]     how much of the real variety is generated

    (Kynkaanniemi, Karras, Laine, Lehtinen, Aila, "Improved Precision and Recall Metric for Assessing
    Generative Models", NeurIPS 2019, with k = 3 as there.) Distances are computed in float32 blocks
    by matrix products, within a bound on their rounding; 5000 x 5000 vectors of 1024 take seconds.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ProcgenError(f"k must be an int >= 1, got {k!r}")
    real, fake = _check_features(real, "real", k + 1), _check_features(fake, "fake", k + 1)
    if real.shape[1] != fake.shape[1]:
        raise ProcgenError(f"real and fake features must have the same length, got {real.shape[1]} and "
                           f"{fake.shape[1]}")
    centre = real.mean(axis=0)  # distances do not change; smaller norms round less
    real, fake = real - centre, fake - centre
    real_radii, fake_radii = _kth_neighbour_radii(real, k), _kth_neighbour_radii(fake, k)
    slack = _slack(real, fake)
    fake_norms = (fake * fake).sum(axis=1)
    fake_in_real = np.zeros(len(fake), dtype=bool)
    real_in_fake = np.zeros(len(real), dtype=bool)
    for start in range(0, len(real), _CHUNK):  # one block of real rows against every fake, used both ways
        d = _squared_distances(real[start:start + _CHUNK], fake, fake_norms)  # (c, m)
        real_in_fake[start:start + _CHUNK] = (d <= fake_radii[None, :] + slack).any(axis=1)
        fake_in_real |= (d <= real_radii[start:start + _CHUNK, None] + slack).any(axis=0)
    return float(fake_in_real.mean()), float(real_in_fake.mean())


class SpriteClassifier:
    """A k-nearest-neighbour classifier of feature vectors: the majority label of the k = 5 nearest.

    Chosen over a trained model because it has nothing to tune and no optimizer to converge, so a
    low class fidelity speaks of the sprites, not of the classifier. A tie between labels goes to the
    tied label of the nearest neighbour among them (distance, then training order).
    """

    def __init__(self, k=5):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ProcgenError(f"k must be an int >= 1, got {k!r}")
        self.k = int(k)
        self.features = self.labels = self.classes = None

    def fit(self, features, labels):
        """Remember features (n, F) and their labels (n,); returns self."""
        features = _check_features(features, "features", self.k)
        labels = np.asarray(labels)
        if labels.shape != (len(features),):
            raise ProcgenError(f"labels must be ({len(features)},), one per feature vector, got {labels.shape}")
        self.classes, self.labels = np.unique(labels, return_inverse=True)  # labels as indices into classes
        self.features, self._norms = features, (features * features).sum(axis=1)
        return self

    def predict(self, features):
        """(n,) the predicted label of each feature vector (n, F)."""
        if self.features is None:
            raise ProcgenError("the classifier must be fitted before it predicts")
        features = _check_features(features, "features", 0)
        if features.shape[1] != self.features.shape[1]:
            raise ProcgenError(f"features must have length {self.features.shape[1]} as in fit, "
                               f"got {features.shape[1]}")
        predicted = np.empty(len(features), dtype=np.int64)
        for start in range(0, len(features), _CHUNK):
            d = _squared_distances(features[start:start + _CHUNK], self.features, self._norms)  # (c, n)
            near = np.argpartition(d, self.k - 1, axis=1)[:, :self.k]  # (c, k), unordered
            rows = np.arange(len(d))[:, None]
            near = near[rows, np.lexsort((near, d[rows, near]), axis=1)]  # nearest first, then training order
            votes = self.labels[near]  # (c, k)
            counts = (votes[:, :, None] == votes[:, None, :]).sum(axis=2)  # (c, k): votes for each one's label
            winner = np.argmax(counts == counts.max(axis=1, keepdims=True), axis=1)  # first (nearest) of the tied
            predicted[start:start + _CHUNK] = votes[rows[:, 0], winner]
        return self.classes[predicted]

    def accuracy(self, features, labels):
        """The fraction of feature vectors (n, F) whose predicted label equals ``labels`` (n,)."""
        return float((self.predict(features) == np.asarray(labels)).mean())


def class_fidelity(classifier, real, real_labels, fake, fake_labels):
    """Accuracy on generated sprites asked for by class over accuracy on held-out real ones.

    real, fake: feature vectors of held-out real sprites and of sprites generated for fake_labels.
    1 means a sprite asked for as class c is recognized as c as often as a real c is.
    """
    real_accuracy = classifier.accuracy(real, real_labels)
    if real_accuracy == 0.0:
        raise ProcgenError("the classifier recognizes none of the held-out real sprites: fidelity is undefined")
    return classifier.accuracy(fake, fake_labels) / real_accuracy
