"""SpriteSampler: a trained VAE decoder as a source of unique, reproducible sprites for game worlds.

A sprite is made in four steps, each a pure function of its inputs:

    key      seeding.key(world, kind, x, y, cls) for a world cell, seeding.batch_key(seed, i, kind, cls)
             for the i-th sprite of a batch; candidate k >= 1 uses uniqueness.attempt_key(key, k)
    latent   eps = seeding.latent_from_key(key, d) ~ N(0, I), and z = mean_c + s sqrt(var_c) * eps from
             class c's latent Gaussian (centroid and learned spread), or z = s eps from the prior; the
             latent scale s <= 1 (the model's default, or the caller's) trades variety for sprites
             nearer their class's typical look. A
             class-conditioned model decodes [z, onehot(c)], with c the class asked for or, if none
             was, seeding.class_of_key(key); an older model decodes z
    data     decoder.DenseDecoder: the same bytes alone, in any batch and on any number of threads:
             a palette model's categories per pixel, or an older model's sigmoid bytes
    sprite   the canonical sprite, which uniqueness and novelty judge: for a palette model
             procgen.paint (mirror, clean-up of islands, the class's colours), for an older one
             sprites.postprocess (binary alpha and mirror). Palette, outline and scale only style it
             afterwards; the model's default style (its checkpoint's "style") applies unless the call
             says otherwise, and ``raw=True`` gives the canonical sprite itself

Which candidate a sprite keeps is decided by the rule in ``procgen.uniqueness``: near-duplicates
(``procgen.distance`` < ``uniqueness``) are redrawn against earlier sprites of a batch or against
higher-priority cells within ``radius`` of a world cell (``procgen.world``), and candidates closer
than ``novelty`` to a training image are redrawn; both are bounded by ``max_attempts`` and counted
in ``RedrawStats``.
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from procgen import paint, seeding
from procgen.classes import resolve_class
from procgen.decoder import DenseDecoder
from procgen.errors import ProcgenError
from procgen.palettes import parse_color
from procgen.sprites import postprocess
from procgen.distance import BLOCK, FeatureIndex, features, near_pairs, pooling_basis, ssd_limit
from procgen.uniqueness import EarlierSprites, HigherCells, RedrawStats, attempt_key, resolve
from procgen.world import CellCache, closure

SHIPPED = ("plants", "plants64", "clothing")
DEFAULT_UNIQUENESS = 0.06  # see procgen/models/README.md for how the defaults were calibrated
DEFAULT_NOVELTY = 0.04
_CHUNK = 2048  # sprites per decode + post-process pass, bounding memory
DEFAULT = "default"  # palette= or outline= left to the model's default style
BROKEN = 0.1  # a candidate whose clean-up removes more than this fraction of its pixels is redrawn


@dataclass
class Candidates:
    """Decoded candidates: keys (n,) uint64, classes (n,) int64 (-1: none), latents (n, d) float32 the codes
    decoded, data (n, C, H, W) uint8 (a palette model's cleaned categories, C = 1), removed (n,) int64 the
    pixels its clean-up removed, canonical (n, H, W, 4) uint8 sprites, feats (n, F) uint8, novel (n,) bool,
    whole (n,) bool: the clean-up removed at most a tenth of the pixels (``BROKEN``)."""

    keys: np.ndarray
    classes: np.ndarray
    latents: np.ndarray
    data: np.ndarray
    removed: np.ndarray
    canonical: np.ndarray
    feats: np.ndarray
    novel: np.ndarray
    whole: np.ndarray


_FIELDS = tuple(Candidates.__dataclass_fields__)


@dataclass
class SampleResult:
    """What ``sample`` and ``region`` return, one row per sprite (region: row-major over the cells).

    sprites (n, H*s, W*s, 4) uint8; keys (n,) uint64 each sprite's own key; attempts (n,) the
    candidate kept, whose key is ``attempt_key(key, attempt)``; latents (n, d) float32 the codes
    decoded; cls the class asked for or None; classes (n,) each sprite's class name (None for a
    model without classes); stats the redraws this call made.
    """

    sprites: np.ndarray
    keys: np.ndarray
    attempts: np.ndarray
    latents: np.ndarray
    cls: str | None
    classes: list
    stats: RedrawStats


class SpriteSampler:
    """Sprites from a VAE decoder: ``sample(n, seed)`` for batches, ``sprite_at(world, x, y)`` for worlds.

    decoder: a DenseDecoder. kind: the name mixed into every key ("plants"), so two models never
    share sprites. class_names: the K class names, or None. conditional: the decoder reads
    [z, onehot(class)] (its latent_dim is d + K). class_mean, class_var: an older model's per-class
    latent Gaussians ((K, d) arrays) instead. index: a FeatureIndex of the training images, or None to
    skip novelty. uniqueness, novelty: distance thresholds (see procgen.uniqueness); alpha_threshold:
    where a pixel turns opaque, unless a call says otherwise (the novelty index was built with the
    model's); radius: Chebyshev radius within which world cells differ; max_attempts: candidates per
    sprite. A palette model (decoder.output "categories") also takes colours: (K or 1, P, 3) uint8, each
    class's palette; cleanup: {"min_size": m, "keep": "big" | "ground" | "largest"} for ``procgen.paint.clean``.
    style: the default style, {"palette": spec or None, "outline": colour or None, "class_palettes": (K, P, 3) or None}:
    class_palettes recolour a palette model's categories per class (a gray model's per-class ramps).
    latent_scale: s in (0, 2], the spread of the latents around their Gaussian's centre (1: as fitted).
    """

    def __init__(self, decoder, kind, class_names=None, class_mean=None, class_var=None, index=None, *,
                 conditional=False, colours=None, cleanup=None, style=None, uniqueness=DEFAULT_UNIQUENESS,
                 novelty=DEFAULT_NOVELTY, latent_scale=1.0, alpha_threshold=0.5, radius=1, max_attempts=16,
                 cache_cells=1 << 16):
        self.decoder, self.kind = decoder, kind
        self.class_names = list(class_names or [])
        self.conditional = bool(conditional)
        self.class_mean = None if class_mean is None else np.asarray(class_mean, np.float64)
        self.class_std = None if class_var is None else np.sqrt(np.asarray(class_var, np.float64))
        if self.conditional and not self.class_names:
            raise ProcgenError("a class-conditioned model needs its class names")
        if self.class_names and (self.class_mean is None and not self.conditional
                                 or self.class_mean is not None and len(self.class_mean) != len(self.class_names)):
            raise ProcgenError(f"{len(self.class_names)} class names need as many latent Gaussians, found "
                               f"{0 if self.class_mean is None else len(self.class_mean)}")
        self.latent_dim = decoder.latent_dim - (len(self.class_names) if self.conditional else 0)
        if self.latent_dim < 1:
            raise ProcgenError(f"the decoder reads {decoder.latent_dim} numbers, too few for "
                               f"{len(self.class_names)} classes and a latent")
        self.palette_model = decoder.output == "categories"
        self.colours = self._class_table(colours, "colours") if self.palette_model else None
        self.cleanup = {"min_size": 3, "keep": "big", **(cleanup or {})}
        style = dict(style or {})
        self.default_style = {"palette": style.get("palette"), "outline": style.get("outline"),
                              "class_palettes": self._class_table(style.get("class_palettes"), "class_palettes")}
        if not 0 < latent_scale <= 2:
            raise ProcgenError(f"latent_scale must be in (0, 2], got {latent_scale!r}")
        self.latent_scale = float(latent_scale)
        self.index = index
        c, h, w = decoder.image_shape
        self.n_features = 2 * (h // BLOCK) * (w // BLOCK)
        self.unique_limit = ssd_limit(uniqueness, self.n_features)
        self.novel_limit = ssd_limit(novelty, self.n_features)
        self.thresholds = {"uniqueness": float(uniqueness), "novelty": float(novelty)}
        for name, value, least in (("radius", radius, 1), ("max_attempts", max_attempts, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ProcgenError(f"{name} must be an int >= {least}, got {value!r}")
        self.radius, self.max_attempts = int(radius), int(max_attempts)
        self.alpha_threshold = float(alpha_threshold)
        self.basis = index.basis if index is not None else pooling_basis(self.n_features)
        self.cache = CellCache(cache_cells)
        self.stats = RedrawStats()

    def _class_table(self, table, name):
        """A palette model's per-class colours as (K, P, 3) uint8 (one row serves every class), or None."""
        if table is None:
            if name == "colours":
                raise ProcgenError("a palette model needs its colours")
            return None
        table = np.asarray(table)
        rows = max(len(self.class_names), 1)
        entries = self.decoder.image_shape[0] - 1
        if table.ndim != 3 or table.shape[0] not in (1, rows) or table.shape[1:] != (entries, 3):
            raise ProcgenError(f"{name} must be ({rows}, {entries}, 3) colours, one palette entry per category "
                               f"after transparent; got shape {table.shape}")
        return np.broadcast_to(table.astype(np.uint8), (rows, entries, 3))

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, model="plants", **options):
        """A sampler for a shipped model ("plants", "clothing") or a VAE checkpoint path; options as __init__.

        The thresholds default to those recorded in the checkpoint. The novelty index is read from
        ``<stem>.novelty.npz`` beside the checkpoint; without one, novelty is not checked.
        Raises ProcgenError for a missing or damaged file or a decoder with no fixed-order kernel.
        """
        arguments, thresholds = load_model(_model_path(model))
        return cls(**arguments, **{**thresholds, **options})

    # --- candidates ------------------------------------------------------------------------------

    def class_index(self, cls):
        """None, a class name or an index -> (index or None, name or None); unknown classes raise."""
        if cls is None:
            return None, None
        if not self.class_names:
            raise ProcgenError(f"class {cls!r} asked of a model without classes")
        if isinstance(cls, str):
            name = resolve_class(cls, self.class_names)  # a name in any case, or a shell-safe alias
            return self.class_names.index(name), name
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool) and 0 <= cls < len(self.class_names):
            return int(cls), self.class_names[int(cls)]
        raise ProcgenError(f"class must be a name or an index 0..{len(self.class_names) - 1}, got {cls!r}")

    def classes_of(self, keys, cls_index=None):
        """The class of each key (n,) int64: the one asked for; else, for a conditioned model, the key's own
        (``seeding.classes_of_keys``); else -1 (the class is read off the latent in ``latents``)."""
        keys = np.asarray(keys, np.uint64)
        if cls_index is not None:
            return np.full(len(keys), cls_index, dtype=np.int64)
        if self.conditional:
            return seeding.classes_of_keys(keys, len(self.class_names))
        return np.full(len(keys), -1, dtype=np.int64)

    def latents(self, keys, cls_index=None):
        """Keys (n,) uint64 -> the codes the decoder reads (n, decoder.latent_dim) float32: see the module docstring."""
        keys = np.asarray(keys, np.uint64)
        z = seeding.latents_from_keys(keys, self.latent_dim)
        classes = self.classes_of(keys, cls_index)
        if self.class_mean is not None and (classes >= 0).all():  # (n, d) from each row's class Gaussian
            z = self.class_mean[classes] + (self.latent_scale * self.class_std[classes]) * z
        else:
            z = self.latent_scale * z
        if self.conditional:
            z = np.concatenate([z, np.eye(len(self.class_names))[classes]], axis=1)  # (n, d) + (n, K) -> (n, d + K)
        return z.astype(np.float32)

    def code_classes(self, codes):
        """The class each code (n, decoder.latent_dim) is decoded as: its one-hot part, or for an older model
        the class Gaussian of highest density (-1 without classes)."""
        codes = np.asarray(codes, np.float64)
        if self.conditional:
            return np.argmax(codes[:, self.latent_dim:], axis=1).astype(np.int64)
        if self.class_mean is None:
            return np.full(len(codes), -1, dtype=np.int64)
        e = (codes[:, None, :] - self.class_mean[None]) / self.class_std[None]  # (n, 1, d) - (1, K, d)
        log_density = -0.5 * (e ** 2).sum(axis=2) - np.log(self.class_std).sum(axis=1)[None]  # (n, K)
        return np.argmax(log_density, axis=1).astype(np.int64)

    def candidates(self, keys, cls_index, mirror, alpha_threshold):
        """Decode the candidates of ``keys`` and judge them: see ``Candidates``."""
        keys = np.asarray(keys, np.uint64)
        z = self.latents(keys, cls_index)
        classes = self.code_classes(z)
        data, removed = self._cleaned(self.decoder.decode_bytes(z), mirror)
        canonical = self.style(data, classes, raw=True, mirror=mirror, alpha_threshold=alpha_threshold)
        feats = features(canonical)
        novel = np.ones(len(keys), bool) if self.index is None else ~self.index.within(feats, self.novel_limit)
        kept = np.count_nonzero(canonical[..., 3], axis=(1, 2))
        whole = removed <= BROKEN * (kept + removed)  # the clean-up took at most a tenth of what was decoded
        return Candidates(keys, classes, z, data, removed, canonical, feats, novel, whole)

    def _cleaned(self, data, mirror):
        """(data, pixels removed (n,)): a palette model's categories mirrored if asked, then cleaned."""
        if not self.palette_model:
            return data, np.zeros(len(data), np.int64)
        return paint.clean(paint.mirror(data) if mirror else data, **self.cleanup)

    def render(self, codes, *, mirror=False, alpha_threshold=None, **style):
        """Codes (n, decoder.latent_dim) -> styled RGBA sprites, as ``candidates`` then ``style`` make them."""
        codes = np.asarray(codes, np.float32)
        data = self._cleaned(self.decoder.decode_bytes(codes), mirror)[0]
        return self.style(data, self.code_classes(codes), mirror=mirror, alpha_threshold=alpha_threshold, **style)

    def class_gaussian(self, cls_index):
        """(mean, std) of the Gaussian the codes of class ``cls_index`` (None: any class) are drawn from,
        with a conditioned model's one-hot part held fixed."""
        if cls_index is None:
            return 0.0, self.latent_scale
        mean, std = ((np.zeros(self.latent_dim), np.full(self.latent_dim, self.latent_scale)) if self.class_mean is None
                     else (self.class_mean[cls_index], self.latent_scale * self.class_std[cls_index]))
        if self.conditional:  # the one-hot part: e = (onehot - onehot) / 1 = 0 all along the path
            k = len(self.class_names)
            return np.concatenate([mean, np.eye(k)[cls_index]]), np.concatenate([std, np.ones(k)])
        return mean, std

    def style(self, data, classes=None, *, palette=DEFAULT, outline=DEFAULT, raw=False, mirror=False, scale=1,
              alpha_threshold=None):
        """Sprite data (n, C, H, W) uint8 -> RGBA sprites (n, H*s, W*s, 4) through ``sprites.postprocess``.

        classes (n,): a palette model's class per sprite (its colours). palette, outline: DEFAULT for the
        model's default style, None for none, or a value as ``postprocess`` takes; raw=True is the
        canonical sprite (the model's own colours, no palette, no outline). A palette model's data are
        already mirrored and cleaned by ``candidates``.
        """
        alpha_threshold = self.alpha_threshold if alpha_threshold is None else alpha_threshold
        if raw:
            palette, outline = None, None
        defaults = self.default_style
        colours = self.colours
        if palette == DEFAULT:
            palette = defaults["palette"]
            if self.palette_model and defaults["class_palettes"] is not None:
                colours = defaults["class_palettes"]
        if outline == DEFAULT:
            outline = defaults["outline"]
        options = {"palette": palette, "outline": outline, "scale": scale}
        if self.palette_model:
            classes = np.zeros(len(data), np.int64) if classes is None else np.maximum(np.asarray(classes), 0)
            rgba = paint.paint(data, classes, colours)
            if palette is None and outline is None and scale == 1:
                return rgba  # already canonical: binary alpha, transparent pixels all zero
            out = [postprocess(rgba[i:i + _CHUNK].transpose(0, 3, 1, 2), match=self.palette_match, **options)
                   for i in range(0, len(data), _CHUNK)]  # (n, H, W, 4) -> (n, 4, H, W) views
            empty = (0, 4) + data.shape[2:]
        else:
            options.update(mirror=mirror, alpha_threshold=alpha_threshold)
            out = [postprocess(data[i:i + _CHUNK] / np.float32(255.0), **options) for i in range(0, len(data), _CHUNK)]
            empty = (0,) + data.shape[1:]
        return np.concatenate(out) if out else postprocess(np.zeros(empty, np.uint8), **options)

    @property
    def palette_match(self):
        """How a user palette replaces a palette model's colours: by luma where its colours are grays."""
        grey = self.colours is not None and bool((self.colours == self.colours[..., :1]).all())
        return "luma" if grey else "rgb"

    # --- batches ---------------------------------------------------------------------------------

    def sample(self, n, seed, cls=None, *, palette=DEFAULT, outline=DEFAULT, raw=False, mirror=False, scale=1,
               alpha_threshold=None):
        """``n`` sprites for ``seed``: sprite i from batch_key(seed, i, kind, cls), differing from sprites 0..i-1.

        The first n sprites of a larger batch are these n. Style options as in ``style`` (the model's default
        style unless palette= or outline= say otherwise, none with raw=True); alpha_threshold None means the
        model's. Returns a SampleResult.
        """
        alpha_threshold = self.alpha_threshold if alpha_threshold is None else alpha_threshold
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ProcgenError(f"n must be an int >= 1, got {n!r}")
        cls_index, cls_name = self.class_index(cls)
        keys = seeding.batch_keys(seed, np.arange(n), self.kind, cls_name)
        first = self._chunked_candidates(keys, cls_index, mirror, alpha_threshold)
        suspect = ~(first.novel & first.whole)
        suspect[near_pairs(first.feats, self.unique_limit, self.basis)[:, 1]] = True
        stats = RedrawStats(decoded=n)
        draws = Redraws(self, keys, cls_index, mirror, alpha_threshold, np.flatnonzero(suspect))
        feats = first.feats.copy()
        earlier = EarlierSprites(feats, self.unique_limit, self.basis)
        attempts = resolve(feats, first.novel.copy(), first.whole.copy(), suspect, draws, earlier, self.unique_limit,
                           self.max_attempts, stats)
        chosen = _with_rows(first, {i: draws.rows[i, k] for i, k in enumerate(attempts.tolist()) if k})
        sprites = self._styled(chosen, palette, outline, raw, mirror, scale, alpha_threshold)
        stats.cleaned = int(np.count_nonzero(chosen.removed))
        self.stats.add(stats)
        return SampleResult(sprites, keys, attempts, chosen.latents, cls_name, self._names(chosen.classes), stats)

    def _chunked_candidates(self, keys, cls_index, mirror, alpha_threshold):
        parts = [self.candidates(keys[i:i + _CHUNK], cls_index, mirror, alpha_threshold)
                 for i in range(0, len(keys), _CHUNK)]
        return Candidates(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def _styled(self, chosen, palette, outline, raw, mirror, scale, alpha_threshold):
        if scale == 1 and (raw or (palette is None and outline is None)):
            return chosen.canonical
        return self.style(chosen.data, chosen.classes, palette=palette, outline=outline, raw=raw, mirror=mirror,
                          scale=scale, alpha_threshold=alpha_threshold)

    def _names(self, classes):
        """Class indices (n,) -> names, None for -1."""
        return [self.class_names[c] if c >= 0 else None for c in classes.tolist()]

    # --- worlds ----------------------------------------------------------------------------------

    def sprite_at(self, world, x, y, cls=None, *, palette=DEFAULT, outline=DEFAULT, raw=False, mirror=False,
                  scale=1, alpha_threshold=None):
        """The sprite of cell (x, y) of ``world``: (H*s, W*s, 4) uint8, the same however it is asked for."""
        return self.region(world, x, y, 1, 1, cls, palette=palette, outline=outline, raw=raw, mirror=mirror,
                           scale=scale, alpha_threshold=alpha_threshold).sprites[0]

    def region(self, world, x0, y0, width, height, cls=None, *, palette=DEFAULT, outline=DEFAULT, raw=False,
               mirror=False, scale=1, alpha_threshold=None):
        """The sprites of cells x0 <= x < x0 + width, y0 <= y < y0 + height, row by row (y, then x).

        Every sprite equals ``sprite_at`` of its cell. Returns a SampleResult of width * height sprites.
        """
        alpha_threshold = self.alpha_threshold if alpha_threshold is None else alpha_threshold
        for name, value in (("x0", x0), ("y0", y0), ("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ProcgenError(f"{name} must be an int, got {value!r}")
        if width < 1 or height < 1:
            raise ProcgenError(f"width and height must be >= 1, got {width} x {height}")
        cls_index, cls_name = self.class_index(cls)
        ys, xs = np.mgrid[y0:y0 + height, x0:x0 + width]
        context = (world, cls_name, bool(mirror), float(alpha_threshold))
        plan = self._closure(world, xs.ravel(), ys.ravel(), cls_name, context)
        picks, attempts, stats = self._decide(plan, context, cls_index, mirror, alpha_threshold)
        chosen = _gather(picks)
        sprites = self._styled(chosen, palette, outline, raw, mirror, scale, alpha_threshold)
        stats.cleaned = int(np.count_nonzero(chosen.removed))
        self.stats.add(stats)
        keys = plan.keys[np.array(plan.queries, dtype=np.int64)]
        return SampleResult(sprites, keys, attempts, chosen.latents, cls_name, self._names(chosen.classes), stats)

    def _closure(self, world, xs, ys, cls_name, context):
        """The cells that the query cells depend on (see procgen.world.closure), cached ones not expanded.

        Returns a WorldPlan. The window of keys grows until the closure stays inside it.
        """
        margin = 4 * self.radius
        while True:
            x_lo, y_lo = int(xs.min()) - margin, int(ys.min()) - margin
            wy, wx = np.mgrid[y_lo:int(ys.max()) + margin + 1, x_lo:int(xs.max()) + margin + 1]
            window = seeding.keys(world, self.kind, wx, wy, cls_name)  # (h, w) uint64, row = y - y_lo
            starts = np.stack([ys - y_lo, xs - x_lo], axis=1).astype(np.int64)
            known = np.zeros(window.shape, dtype=bool)
            cached = {}
            while True:  # look up only the cells reached; a cached cell cuts the search short
                cells, higher, reached_edge = closure(window, y_lo, x_lo, starts, known, self.radius)
                if reached_edge:
                    break
                hits = {(int(row), int(col)): self.cache.get((*context, x_lo + int(col), y_lo + int(row)))
                        for row, col in cells if not known[row, col]}
                hits = {rc: hit for rc, hit in hits.items() if hit is not None}
                if not hits:
                    break
                cached.update(hits)
                for rc in hits:
                    known[rc] = True
            if not reached_edge:
                break
            margin *= 2
        return WorldPlan(cells[:, ::-1] + np.array([x_lo, y_lo]), window[cells[:, 0], cells[:, 1]], higher,
                         [cached.get((int(row), int(col))) for row, col in cells],
                         [int(i) for i in _indices_of(cells, starts)])

    def _decide(self, plan, context, cls_index, mirror, alpha_threshold):
        """Run the precedence rule over the plan's cells; cache them; pick the query cells' candidates."""
        m = len(plan.cells)
        fresh = np.array([entry is None for entry in plan.cached], dtype=bool)
        first = self.candidates(plan.keys[fresh], cls_index, mirror, alpha_threshold)
        feats = np.zeros((m, self.n_features), np.uint8)
        novel, whole = np.ones(m, bool), np.ones(m, bool)
        feats[fresh], novel[fresh], whole[fresh] = first.feats, first.novel, first.whole
        for i in np.flatnonzero(~fresh):
            feats[i] = plan.cached[i][1]
        neighbours = HigherCells(feats, plan.higher, self.unique_limit)
        rows, above = neighbours.edges()
        conflict = ((feats[rows].astype(np.int64) - feats[above]) ** 2).sum(axis=1) < self.unique_limit
        suspect = fresh & ~(novel & whole)
        suspect[rows[conflict]] = True
        stats = RedrawStats(decoded=int(fresh.sum()))
        draws = Redraws(self, plan.keys, cls_index, mirror, alpha_threshold, np.flatnonzero(suspect))
        attempts = resolve(feats, novel, whole, suspect, draws, neighbours, self.unique_limit, self.max_attempts,
                           stats)
        stats.sprites = int(fresh.sum())
        row_in_first = np.cumsum(fresh) - 1
        for i in np.flatnonzero(fresh):
            self.cache.put((*context, *plan.cells[i].tolist()), (int(attempts[i]), feats[i].copy(), int(plan.keys[i])))
        final_attempts = [plan.cached[i][0] if not fresh[i] else int(attempts[i]) for i in plan.queries]
        cached = [q for q, i in enumerate(plan.queries) if not fresh[i]]  # decided before: decoded again, in one batch
        again = self.candidates([attempt_key(plan.keys[plan.queries[q]], final_attempts[q]) for q in cached],
                                cls_index, mirror, alpha_threshold) if cached else None
        row_in_again = {q: j for j, q in enumerate(cached)}
        picks = []
        for q, i in enumerate(plan.queries):
            k = final_attempts[q]
            if not fresh[i]:
                picks.append((again, row_in_again[q]))
            else:
                picks.append((first, row_in_first[i]) if k == 0 else draws.rows[i, k])
        return picks, np.array(final_attempts, dtype=np.int64), stats


class Redraws:
    """The ``draw(i, k)`` of ``uniqueness.resolve``: candidate k >= 1 of sprite i, decoded PREFETCH at a time.

    A sprite that needs one redraw often needs another (its neighbourhood is crowded), and one call
    decoding four candidates costs little more than one. The first call decodes candidates 1..PREFETCH
    of every sprite in ``suspects`` at once (those resolve will most likely redraw): one decode of a
    batch instead of one per sprite. rows[(i, k)] = (Candidates, row).
    """

    PREFETCH = 4

    def __init__(self, sampler, keys, cls_index, mirror, alpha_threshold, suspects=()):
        self.sampler, self.keys, self.options = sampler, keys, (cls_index, mirror, alpha_threshold)
        self.suspects = [int(i) for i in suspects]
        self.rows = {}

    def _decode(self, wanted):
        """Decode the (sprite, attempt) pairs ``wanted`` in one batch into rows."""
        c = self.sampler.candidates([attempt_key(self.keys[i], a) for i, a in wanted], *self.options)
        self.rows.update({pair: (c, j) for j, pair in enumerate(wanted)})

    def __call__(self, i, k):
        if self.suspects:  # the first call: every suspect's first candidates together
            self._decode([(s, a) for s in self.suspects for a in range(1, 1 + self.PREFETCH)])
            self.suspects = []
        if (i, k) not in self.rows:
            self._decode([(i, a) for a in range(k, k + self.PREFETCH)])
        c, j = self.rows[i, k]
        return c.feats[j], c.novel[j], c.whole[j]


@dataclass
class WorldPlan:
    """Cells to decide, in decreasing priority: cells (m, 2) as (x, y), keys (m,) uint64, higher (m, K)
    indices of each cell's higher-priority neighbours (-1 pads), cached (m,) entries or None, and
    queries: the index of each query cell."""

    cells: np.ndarray
    keys: np.ndarray
    higher: np.ndarray
    cached: list
    queries: list


def _indices_of(cells, starts):
    """Row of ``cells`` holding each row of ``starts`` (both (., 2) window coordinates)."""
    where = {(int(a), int(b)): i for i, (a, b) in enumerate(cells)}
    return [where[int(a), int(b)] for a, b in starts]


def _with_rows(base, replacements):
    """A copy of the Candidates ``base`` with row i taken from (Candidates, j) for each i: (Candidates, j)."""
    out = Candidates(*(getattr(base, f).copy() for f in _FIELDS))
    for i, (source, j) in replacements.items():
        for f in _FIELDS:
            getattr(out, f)[i] = getattr(source, f)[j]
    return out


def _gather(picks):
    """Stack row j of each (Candidates, j) into one Candidates."""
    return Candidates(*(np.stack([getattr(src, f)[j] for src, j in picks]) for f in _FIELDS))


def load_model(path):
    """SpriteSampler arguments from a checkpoint and its novelty index, and the thresholds it records."""
    from tinyae import checkpoint, models
    from tinyae.errors import TinyAEError

    from procgen.train import novelty_path

    try:
        arrays, spec = checkpoint.load(path)
        vae = models.model_class(spec.get("model"), path).from_checkpoint(arrays, spec)
        index_file = novelty_path(path)
        index = checkpoint.load(index_file)[0]["features"] if index_file.is_file() else None
    except (TinyAEError, KeyError, TypeError, ValueError) as err:
        raise ProcgenError(f"model {str(path)!r} cannot be used: {type(err).__name__}: {err}") from err
    model = type(vae).__name__
    if model not in ("VAE", "ConditionalVAE"):
        raise ProcgenError(f"model {str(path)!r} must be a VAE checkpoint, found a {model}")
    meta = spec.get("training", {}).get("procgen", {}) if isinstance(spec.get("training"), dict) else {}
    output = "categories" if vae.likelihood.name == "categorical" else "bytes"
    decoder = DenseDecoder.from_sequential(vae.decoder, vae.image_shape, output)
    conditional = model == "ConditionalVAE"
    gaussians = vae.class_gaussians
    n_classes = vae.n_classes if conditional else gaussians.n_classes if gaussians else 0
    names = meta.get("class_names") or [str(k) for k in range(n_classes)]
    if index is not None and index.shape[1:] != (2 * (vae.image_shape[1] // BLOCK) * (vae.image_shape[2] // BLOCK),):
        raise ProcgenError(f"novelty index {str(novelty_path(path))!r} has features of shape {index.shape[1:]}, "
                           f"which do not fit the model's {vae.image_shape} sprites")
    style = dict(meta.get("style") or {})
    arguments = {"decoder": decoder, "kind": meta.get("kind", "vae"), "class_names": names,
                 "conditional": conditional, "index": FeatureIndex(index) if index is not None else None,
                 "class_mean": gaussians.mean if gaussians else None, "class_var": gaussians.var if gaussians else None,
                 "colours": _colour_table(meta.get("palettes"), path, "palettes") if output == "categories" else None,
                 "cleanup": meta.get("cleanup"),
                 "style": {**style,
                           "class_palettes": _colour_table(style.get("class_palettes"), path, "class_palettes")}}
    defaults = {k: float(v) for k, v in meta.get("thresholds", {}).items()
                if k in ("uniqueness", "novelty", "latent_scale")}
    if "alpha_threshold" in meta:
        defaults["alpha_threshold"] = float(meta["alpha_threshold"])
    return arguments, defaults


def _colour_table(palettes, path, field):
    """Per-class lists of "#rrggbb" (from a checkpoint's metadata) -> (K, P, 3) uint8, or None."""
    if palettes is None:
        return None
    try:
        return np.array([[parse_color(c, field) for c in row] for row in palettes], dtype=np.uint8)
    except (ProcgenError, TypeError, ValueError) as err:
        raise ProcgenError(f"model {str(path)!r}: {field} must be lists of colours, one list per class: {err}") from err


def _model_path(model):
    """A shipped model's name or a path -> a Path that exists."""
    if isinstance(model, str) and model in SHIPPED:
        path = Path(str(resources.files("procgen").joinpath("models", f"{model}.npz")))
        if not path.is_file():
            raise ProcgenError(f"the shipped model {model!r} is missing from {path.parent}; reinstall procgen")
        return path
    path = Path(model)
    if not path.is_file():
        raise ProcgenError(f"model must be one of {', '.join(SHIPPED)} or a checkpoint file; {str(model)!r} "
                           f"is neither")
    return path
