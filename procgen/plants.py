"""L-system plants: seeded RGBA pixel-art sprites of five species, the procedural training set of the plant VAE.

A plant is grown in three steps, each driven only by the ``numpy.random.Generator`` passed in:

1. Rewrite. Starting from the species' axiom, every symbol with a rule is replaced ``iterations``
   times by one of its alternatives, drawn with the rule's weights (a stochastic L-system,
   Prusinkiewicz & Lindenmayer, "The Algorithmic Beauty of Plants", 1990, ch. 1.7).
2. Walk. A turtle reads the string (y points up, heading 90 degrees is straight up)::

       F  draw a stem segment forward        +  -  turn left / right by the angle (jittered)
       [  push the turtle state              ]     pop it
       !  thin the stem (width *= decay)     '     shrink what follows (size *= 0.8)
       L  a leaf along the heading           K     a blossom
       other letters (A, R, S) only steer the rewriting

   Each F also shrinks the turtle's size by the species' ``taper`` (shorter segments and smaller
   leaves towards the tips) and bends its heading by ``droop * cos(heading)``: away from vertical
   for droop > 0, so fern fronds arch outwards, and towards it for droop < 0, so bushes grow up.
   Shapes come out in turtle units, stroke widths in sprite pixels.
3. Draw. The shapes are scaled to fit the sprite with the stem base at the bottom centre, drawn
   with PIL into an index image ``SUPER`` times larger (0 = empty, k = colour k of the plant), and
   reduced to the sprite: a pixel is opaque when at least ``COVERAGE`` of its SUPER x SUPER
   samples are drawn, and takes the most frequent colour among them. So every sprite pixel is
   one of the plant's few colours, as in hand-made pixel art, with a binary alpha. Stems go
   first, then leaves from dark to light (each leaf's shade comes from light falling from the
   upper right), then blossoms.

Geometry uses Python's ``math`` (sin, cos): the same on every run of one machine, and at worst a
pixel apart across platforms, which is fine for a training set.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from procgen.errors import ProcgenError

SUPER = 4  # supersampling factor of the drawing
COVERAGE = 0.4  # fraction of a pixel's samples that must be drawn for it to be opaque


@dataclass(frozen=True)
class Species:
    """One plant species: a stochastic L-system, how the turtle walks it, and its colours (RGB)."""

    axiom: str
    rules: dict  # symbol -> ((weight, replacement), ...)
    iterations: int
    angle: float  # degrees per + or -
    angle_jitter: float  # standard deviation of each turn, as a fraction of the angle
    step_jitter: float  # standard deviation of each segment length, as a fraction
    taper: float  # size factor per F
    droop: float  # degrees of bend per F at a horizontal heading: > 0 down (fronds), < 0 up (light)
    stem_width: float  # pixels at the base
    width_decay: float  # width factor per !
    leaf_length: float  # turtle units at size 1
    leaf_width: float  # as a fraction of the leaf length
    blossom_radius: float  # turtle units at size 1
    stems: tuple  # candidate stem colours
    leaves: tuple  # leaf shades, darkest first
    blossoms: tuple  # candidate (petal, centre) colour pairs
    leaf_edge: bool = False  # outline each leaf in the stem colour (fleshy leaves that overlap)


_BARK = ((107, 74, 43), (90, 62, 38))
_GREEN_STEM = ((47, 107, 53), (58, 120, 52))
_LEAVES = ((30, 77, 43), (47, 107, 53), (74, 143, 60), (118, 185, 71))

SPECIES_TABLE = {
    "fern": Species(
        axiom="S",
        rules={
            "S": ((0.4, "[++++FA][++FA][FA][--FA][----FA]"), (0.3, "[+++FA][+FA][-FA][---FA]"),
                  (0.3, "[+++++FA][+++FA][+FA][-FA][---FA][-----FA]")),
            "A": ((0.85, "F[+++++L][-----L]A"), (0.15, "F[++++L][-----L]A")),
        },
        iterations=11, angle=10.0, angle_jitter=0.25, step_jitter=0.1, taper=0.92, droop=5.0,
        stem_width=1.0, width_decay=1.0, leaf_length=1.4, leaf_width=0.35, blossom_radius=0.0,
        stems=((30, 77, 43),), leaves=_LEAVES[2:] + ((180, 216, 90),), blossoms=(),
    ),
    "bush": Species(
        axiom="[+++A][++A][A][--A][---A]",
        rules={"A": ((0.45, "F[+AL][-AL]L"), (0.25, "F[+AL]AL"), (0.27, "F[-AL]AL"), (0.03, "F[+AK][-AL]L"))},
        iterations=4, angle=16.0, angle_jitter=0.3, step_jitter=0.2, taper=0.8, droop=-8.0,
        stem_width=1.0, width_decay=1.0, leaf_length=1.3, leaf_width=0.8, blossom_radius=0.25,
        stems=_BARK, leaves=_LEAVES, blossoms=(((217, 72, 95),) * 2, ((123, 94, 167),) * 2),  # berries
    ),
    "flowering": Species(
        axiom="FAK",
        rules={"A": ((0.5, "F[+L]F[-L]A"), (0.25, "F[+F[-L]K][-L]A"), (0.25, "F[-F[+L]K][+L]A"))},
        iterations=4, angle=30.0, angle_jitter=0.3, step_jitter=0.2, taper=0.93, droop=0.0,
        stem_width=1.0, width_decay=1.0, leaf_length=1.4, leaf_width=0.45, blossom_radius=0.7,
        stems=_GREEN_STEM, leaves=_LEAVES[1:],
        blossoms=(((217, 72, 95), (246, 208, 77)), ((242, 160, 184), (246, 208, 77)),
                  ((246, 208, 77), (107, 74, 43)), ((123, 94, 167), (255, 243, 196)),
                  ((255, 243, 196), (246, 208, 77))),
    ),
    "sapling": Species(
        axiom="FA",
        rules={"A": ((0.5, "!F[+AL]F[-AL]A"), (0.5, "!F[-AL]F[+AL]A"))},
        iterations=3, angle=35.0, angle_jitter=0.3, step_jitter=0.2, taper=0.85, droop=0.0,
        stem_width=2.0, width_decay=0.75, leaf_length=2.0, leaf_width=0.75, blossom_radius=0.0,
        stems=_BARK, leaves=_LEAVES, blossoms=(),
    ),
    "succulent": Species(
        axiom="R",
        rules={"R": ((0.6, "[++++L][----L][++L][--L]'R"), (0.4, "[+++L][---L][+L][-L]'R"))},
        iterations=3, angle=18.0, angle_jitter=0.2, step_jitter=0.1, taper=1.0, droop=0.0,
        stem_width=1.0, width_decay=1.0, leaf_length=4.0, leaf_width=0.42, blossom_radius=0.0,
        stems=((40, 78, 70),), leaves=((62, 110, 98), (94, 140, 122), (156, 196, 168)), blossoms=(),
        leaf_edge=True,
    ),
}
SPECIES = tuple(SPECIES_TABLE)


def _rewrite(species, rng):
    """The string after ``iterations`` rounds of stochastic rewriting."""
    text = species.axiom
    for _ in range(species.iterations):
        draws = rng.random(len(text))  # one uniform per symbol, drawn at once
        out = []
        for symbol, u in zip(text, draws):
            alternatives = species.rules.get(symbol)
            if alternatives is None:
                out.append(symbol)
                continue
            for weight, replacement in alternatives:  # weights sum to 1
                u -= weight
                if u < 0:
                    break
            out.append(replacement)
        text = "".join(out)
    return text


def _lens(x, y, heading, length, width):
    """A pointed leaf from (x, y) along ``heading`` (radians): base, two sides, tip, in turtle units."""
    dx, dy = math.cos(heading), math.sin(heading)
    px, py = -dy * width / 2, dx * width / 2
    return [(x, y), (x + 0.4 * length * dx + px, y + 0.4 * length * dy + py),
            (x + length * dx, y + length * dy), (x + 0.4 * length * dx - px, y + 0.4 * length * dy - py)]


def _walk(species, text, rng):
    """Turtle shapes of ``text``: (segments, leaves, blossoms) as lists of tuples, in turtle units.

    segments: (x0, y0, x1, y1, width_px); leaves: (points, tone in [-1/2, 1/2]); blossoms: (x, y, radius, pair).
    """
    spread, droop = rng.uniform(0.85, 1.15), species.droop * rng.uniform(0.5, 1.5)  # per plant
    turns = spread * species.angle * (1.0 + species.angle_jitter * rng.standard_normal(len(text)))
    steps = 1.0 + species.step_jitter * rng.standard_normal(len(text))
    tones = rng.uniform(-0.5, 0.5, len(text))
    pair = rng.integers(0, max(1, len(species.blossoms)))  # one blossom colour per plant
    x, y, heading, width, size = 0.0, 0.0, 90.0, species.stem_width, 1.0
    stack, segments, leaves, blossoms = [], [], [], []
    for i, symbol in enumerate(text):
        if symbol == "F":
            length = size * max(steps[i], 0.2)
            nx = x + length * math.cos(math.radians(heading))
            ny = y + length * math.sin(math.radians(heading))
            segments.append((x, y, nx, ny, width))
            x, y, size = nx, ny, size * species.taper
            heading -= droop * math.cos(math.radians(heading))
        elif symbol == "+":
            heading += turns[i]
        elif symbol == "-":
            heading -= turns[i]
        elif symbol == "[":
            stack.append((x, y, heading, width, size))
        elif symbol == "]":
            x, y, heading, width, size = stack.pop()
        elif symbol == "!":
            width *= species.width_decay
        elif symbol == "'":
            size *= 0.8
        elif symbol == "L":
            length = species.leaf_length * size * max(steps[i], 0.2)
            leaves.append((_lens(x, y, math.radians(heading), length, species.leaf_width * length), tones[i]))
        elif symbol == "K":
            blossoms.append((x, y, species.blossom_radius * max(size, 0.6), pair))
    return segments, leaves, blossoms


def _bounds(segments, leaves, blossoms):
    """(half_width, low, high) of all shapes in turtle units: max |x|, and the y range including 0."""
    xs = [v for s in segments for v in (s[0], s[2])] + [p[0] for pts, _ in leaves for p in pts]
    ys = [v for s in segments for v in (s[1], s[3])] + [p[1] for pts, _ in leaves for p in pts]
    xs += [b[0] + d for b in blossoms for d in (-b[2], b[2])]
    ys += [b[1] + d for b in blossoms for d in (-b[2], b[2])]
    return max(max(map(abs, xs)), 1e-9), min(min(ys), 0.0), max(max(ys), 1e-9)  # low < 0 when fronds droop


def _leaf_shades(leaves, bounds, count):
    """Shade index per leaf, lit from the upper right, every shade used about equally often.

    light = 0.65 height + 0.35 rightness + 0.3 jitter, and the leaves ranked by light are split
    into ``count`` equal groups, darkest first.
    """
    half_width, low, high = bounds
    centres = np.array([np.mean(points, axis=0) for points, _ in leaves]).reshape(-1, 2)
    tones = np.array([tone for _, tone in leaves])
    light = 0.65 * (centres[:, 1] - low) / (high - low) + 0.35 * (centres[:, 0] / half_width + 1) / 2 + 0.3 * tones
    rank = np.argsort(np.argsort(light, kind="stable"), kind="stable")
    return (rank * count // max(len(leaves), 1)).tolist()


def render_plant(species, rng, size=32):
    """One plant sprite of ``species`` (a name in ``SPECIES``): (size, size, 4) uint8 RGBA.

    Transparent background, binary alpha, stem base at the bottom centre, scaled to fit.
    ``rng`` is a ``numpy.random.Generator``; the same generator state gives the same sprite.
    """
    if species not in SPECIES_TABLE:
        raise ProcgenError(f"species must be one of {', '.join(SPECIES)}, got {species!r}")
    if not isinstance(rng, np.random.Generator):
        raise ProcgenError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ProcgenError(f"size must be an int >= 8, got {size!r}")
    spec = SPECIES_TABLE[species]
    stem = spec.stems[rng.integers(len(spec.stems))]
    segments, leaves, blossoms = _walk(spec, _rewrite(spec, rng), rng)

    # fit: base at the centre of column size // 2 on the last sample row, 1 pixel free above and beside
    half_width, low, high = bounds = _bounds(segments, leaves, blossoms)
    scale = SUPER * min((size / 2 - 1) / half_width, (size - 1) / (high - low))
    cx, bottom = SUPER * (size // 2 + 0.5), SUPER * size - 1 + scale * low

    def at(x, y):
        return (cx + scale * x, bottom - scale * y)

    # colour table: 1 = stem, 2.. = leaf shades, then petal and centre of each blossom pair
    colours = [stem, *spec.leaves] + [c for pair in spec.blossoms for c in pair]
    image = Image.new("L", (SUPER * size, SUPER * size), 0)
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1, width in segments:
        w = max(1, round(width * SUPER))
        draw.line([at(x0, y0), at(x1, y1)], fill=1, width=w)
        (ex, ey), r = at(x1, y1), w / 2
        draw.ellipse([ex - r, ey - r, ex + r, ey + r], fill=1)  # round joints between segments
    shades = _leaf_shades(leaves, bounds, len(spec.leaves))
    for shade, (points, _) in sorted(zip(shades, leaves), key=lambda item: item[0]):  # lit leaves on top
        draw.polygon([at(*p) for p in points], fill=2 + shade, outline=1 if spec.leaf_edge else None, width=SUPER)
    first_blossom = 2 + len(spec.leaves)
    for x, y, radius, pair in blossoms:
        (bx, by), r = at(x, y), max(scale * radius, 1.2 * SUPER)
        draw.ellipse([bx - r, by - r, bx + r, by + r], fill=first_blossom + 2 * int(pair))
        r = max(r / 2.5, 0.5 * SUPER)
        draw.ellipse([bx - r, by - r, bx + r, by + r], fill=first_blossom + 2 * int(pair) + 1)
    return _reduce(np.asarray(image), np.array(colours, dtype=np.uint8), size)


def _reduce(index, colours, size):
    """Supersampled index image (S*size, S*size) -> RGBA (size, size, 4): coverage alpha, modal colour."""
    cells = index.reshape(size, SUPER, size, SUPER).transpose(0, 2, 1, 3).reshape(size, size, SUPER * SUPER)
    counts = np.stack([(cells == k).sum(-1) for k in range(1, len(colours) + 1)], axis=-1)  # (size, size, K)
    opaque = counts.sum(-1) >= COVERAGE * SUPER * SUPER
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[..., :3] = colours[np.argmax(counts, axis=-1)]  # argmax: the most frequent colour, first of ties
    rgba[..., 3] = 255
    return rgba * opaque[..., None]


def make_plant_dataset(n, rng, size=32, species=None):
    """``n`` plant sprites as the plant VAE's training set, classes balanced.

    species: names to draw from (default all of ``SPECIES``); label k means ``species[k]``, and the
    counts of any two labels differ by at most one, in a shuffled order.
    Returns images (n, 4, size, size) float32 RGBA in [0, 1] and labels (n,) int64.
    """
    species = SPECIES if species is None else tuple(species)
    unknown = [s for s in species if s not in SPECIES_TABLE]
    if not species or unknown:
        raise ProcgenError(f"species must be a non-empty list of {', '.join(SPECIES)}, got {list(species)!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ProcgenError(f"n must be an int >= 0, got {n!r}")
    labels = rng.permutation(np.arange(n) % len(species))
    images = np.empty((n, 4, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        sprite = render_plant(species[label], rng, size)
        images[i] = sprite.transpose(2, 0, 1) / np.float32(255)  # (H, W, 4) -> (4, H, W)
    return images, labels.astype(np.int64)
