"""Plants: seeded pixel-art sprites of ten species, each drawn in its own palette of at most 7 colours.

The sprite model trained on these predicts one index per pixel into the species' palette, so a plant
is first an index image (size, size) uint8: 0 is transparent, k is ``palette[k - 1]``; the RGBA sprite
is that image looked up in the palette. A plant is made in two steps, each driven only by the
``numpy.random.Generator`` passed in:

1. Grow. The species builds a ``Sketch`` in turtle units (y up, stem base at the origin): strokes,
   polylines a fixed number of pixels wide, and bodies, filled polygons, each with a palette index.
   Five species are stochastic L-systems walked by a turtle (fern, bush, flowering, sapling,
   succulent; see ``LSystem``); five are small constructions that read better than a grammar would
   (cactus, mushroom, grass, vine, tree).
2. Draw. The sketch is scaled to fit the sprite, base at the bottom centre, 1 pixel free above and
   beside; whatever lies below the ground (y < 0) is cut off. Bodies are drawn ``SUPER`` times
   larger and reduced: a pixel is opaque when at least ``COVERAGE`` of its samples are drawn, and
   takes their most frequent index, so edges never blend colours. Strokes are drawn at sprite
   resolution (Bresenham lines: 1 px at 16 and 32, 2 px at 48 and 64 for a 1-px stem) behind every
   body, so a stem never breaks and each leaf's midrib joins the leaf to its stem. Last, only the
   8-connected piece holding the base pixel (bottom row, column size // 2, where every species'
   first stroke starts) is kept: every plant is one piece standing on the ground.

Sizes 16, 32, 48 and 64 are supported (``SIZES``); shapes scale with the size, stroke widths are
rounded to whole pixels. Geometry uses Python's ``math``: the same on every run of one machine.
"""

import math
import re
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from procgen.errors import ProcgenError

SIZES = (16, 32, 48, 64)
SUPER = 4  # supersampling factor of the bodies
COVERAGE = 0.4  # fraction of a pixel's samples that must be drawn for it to be opaque
_EIGHT = np.ones((3, 3), dtype=bool)  # a pixel touches its 8 neighbours


@dataclass
class Sketch:
    """A plant in turtle units (y up, stem base at the origin), in drawing order.

    strokes: (points, width, colour): a polyline ``width`` pixels wide at 32 px (scaled with the
             sprite, at least 1), drawn crisp at sprite resolution behind every body.
    bodies:  (points, colour, edge): a filled polygon, later ones on top; edge > 0 outlines it
             1 px wide in that palette index.
    """

    strokes: list = field(default_factory=list)
    bodies: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- shapes


def _ellipse(x, y, rx, ry, n=16):
    """An ellipse about (x, y) as an n-gon."""
    return [(x + rx * math.cos(2 * math.pi * k / n), y + ry * math.sin(2 * math.pi * k / n)) for k in range(n)]


def _dome(x, y, rx, ry, sag=0.0, n=12):
    """The upper half of an ellipse standing on (x, y), its base bulging ``sag`` below y (a mushroom cap)."""
    top = [(x + rx * math.cos(math.pi * k / n), y + ry * math.sin(math.pi * k / n)) for k in range(n + 1)]
    return top + [(x + 0.5 * rx, y - sag), (x - 0.5 * rx, y - sag)]


def _capsule(x0, y0, x1, y1, width, n=8):
    """A segment ``width`` wide with round ends (a cactus limb): a half circle about each end."""
    a, r = math.atan2(y1 - y0, x1 - x0), width / 2
    turns = [math.pi * k / n - math.pi / 2 for k in range(n + 1)]  # -90 .. 90 degrees about the heading
    end = [(x1 + r * math.cos(a + t), y1 + r * math.sin(a + t)) for t in turns]
    start = [(x0 - r * math.cos(a + t), y0 - r * math.sin(a + t)) for t in turns]
    return end + start


def _lens(x, y, heading, length, width):
    """A pointed leaf from (x, y) along ``heading`` (radians): base, two sides, tip."""
    dx, dy = math.cos(heading), math.sin(heading)
    px, py = -dy * width / 2, dx * width / 2
    return [(x, y), (x + 0.4 * length * dx + px, y + 0.4 * length * dy + py),
            (x + length * dx, y + length * dy), (x + 0.4 * length * dx - px, y + 0.4 * length * dy - py)]


def _ribbon(points, width):
    """A polyline widened to ``width`` at its first point, tapering to a point at its last (a grass blade)."""
    left, right = [], []
    for k, (x, y) in enumerate(points):
        (ax, ay), (bx, by) = points[max(k - 1, 0)], points[min(k + 1, len(points) - 1)]
        norm = math.hypot(bx - ax, by - ay) or 1.0
        half = width / 2 * (1 - k / (len(points) - 1))
        left.append((x - (by - ay) / norm * half, y + (bx - ax) / norm * half))
        right.append((x + (by - ay) / norm * half, y - (bx - ax) / norm * half))
    return left + right[::-1]


def _curve(p0, p1, p2, n=8):
    """The quadratic Bezier curve from p0 to p2 pulled towards p1, as n + 1 points."""
    return [((1 - t) ** 2 * p0[0] + 2 * t * (1 - t) * p1[0] + t * t * p2[0],
             (1 - t) ** 2 * p0[1] + 2 * t * (1 - t) * p1[1] + t * t * p2[1]) for t in (k / n for k in range(n + 1))]


def _shade_ranks(light, count):
    """Shade index (0 darkest .. count - 1) of each item by rank of ``light``: every shade used about equally often."""
    rank = np.argsort(np.argsort(np.asarray(light, dtype=float), kind="stable"), kind="stable")
    return (rank * count // max(len(rank), 1)).tolist()


# ------------------------------------------------------------------------------------------ L-systems


@dataclass(frozen=True)
class LSystem:
    """A stochastic L-system and how the turtle walks it; colours are palette indices (1-based).

    Rewrite: starting from ``axiom``, every symbol with a rule is replaced ``iterations`` times by
    one of its alternatives, drawn with the rule's weights (Prusinkiewicz & Lindenmayer, "The
    Algorithmic Beauty of Plants", 1990, ch. 1.7). Walk: a turtle reads the string (heading 90
    degrees is straight up)::

        F  a stem segment forward        +  -  turn left / right by the angle (jittered)
        [  push the turtle state         ]     pop it
        !  thin the stem (width *= decay) '    shrink what follows (size *= 0.8)
        L  a leaf along the heading      K     a blossom (a berry when its petal is its centre)
        other letters (A, R, S) only steer the rewriting

    Each F also shrinks the size by ``taper`` and bends the heading by ``droop * cos(heading)``:
    away from vertical for droop > 0 (fronds arch outwards), towards it for droop < 0 (bushes grow up).
    """

    axiom: str
    rules: dict  # symbol -> ((weight, replacement), ...), weights summing to 1
    iterations: int
    angle: float  # degrees per + or -
    angle_jitter: float  # standard deviation of each turn, as a fraction of the angle
    step_jitter: float  # standard deviation of each segment length, as a fraction
    taper: float  # size factor per F
    droop: float  # degrees of bend per F at a horizontal heading
    stem_width: float  # stroke pixels at 32 px, at the base
    width_decay: float  # width factor per !
    leaf_length: float  # turtle units at size 1
    leaf_width: float  # as a fraction of the leaf length
    blossom_radius: float  # turtle units at size 1
    stem: int  # palette index of the stems
    leaves: tuple  # palette indices of the leaf shades, darkest first
    blossoms: tuple = ()  # (petal, centre) palette index pairs, one drawn per plant
    leaf_edge: int = 0  # outline each leaf in this index (fleshy leaves that overlap), 0 = none


def _rewrite(system, rng):
    """The string after ``iterations`` rounds of stochastic rewriting (one uniform per symbol with a rule)."""
    text, symbols = system.axiom, re.compile(f"([{''.join(system.rules)}])")
    for _ in range(system.iterations):
        chunks = symbols.split(text)  # odd entries are the symbols with a rule, the rest copied as they are
        for k, u in zip(range(1, len(chunks), 2), rng.random(len(chunks) // 2).tolist()):
            for weight, replacement in system.rules[chunks[k]]:
                u -= weight
                if u < 0:
                    break
            chunks[k] = replacement
        text = "".join(chunks)
    return text


def _grow_lsystem(system, rng):
    """The sketch of one plant of an L-system: stem strokes, then leaves lit from the upper right, then blossoms."""
    text = _rewrite(system, rng)
    spread, droop = rng.uniform(0.85, 1.15), system.droop * rng.uniform(0.5, 1.5)  # per plant
    turns = spread * system.angle * (1.0 + system.angle_jitter * rng.standard_normal(len(text)))
    steps = np.maximum(1.0 + system.step_jitter * rng.standard_normal(len(text)), 0.2).tolist()
    tones = rng.uniform(-0.5, 0.5, len(text)).tolist()
    petal, centre = system.blossoms[rng.integers(len(system.blossoms))] if system.blossoms else (0, 0)
    x, y, heading, width, size = 0.0, 0.0, 90.0, system.stem_width, 1.0
    stack, sketch, leaves, blossoms = [], Sketch(), [], []
    for i, symbol in enumerate(text):
        if symbol == "F":
            length = size * steps[i]
            nx, ny = x + length * math.cos(math.radians(heading)), y + length * math.sin(math.radians(heading))
            sketch.strokes.append(([(x, y), (nx, ny)], width, system.stem))
            x, y, size = nx, ny, size * system.taper
            heading -= droop * math.cos(math.radians(heading))
        elif symbol in "+-":
            heading += turns[i] if symbol == "+" else -turns[i]
        elif symbol == "[":
            stack.append((x, y, heading, width, size))
        elif symbol == "]":
            x, y, heading, width, size = stack.pop()
        elif symbol == "!":
            width *= system.width_decay
        elif symbol == "'":
            size *= 0.8
        elif symbol == "L":
            length = system.leaf_length * size * steps[i]
            leaves.append((_lens(x, y, math.radians(heading), length, system.leaf_width * length), tones[i]))
        elif symbol == "K" and petal:
            radius = system.blossom_radius * max(size, 0.6)
            blossoms.append((_ellipse(x, y, radius, radius), petal, 0))
            if centre != petal:
                blossoms.append((_ellipse(x, y, radius / 2.5, radius / 2.5, 8), centre, 0))
    if leaves:  # light = 0.65 height + 0.35 rightness + 0.3 jitter, each in about [0, 1]
        tips = np.array([points[2] for points, _ in leaves])  # (n, 2) the leaf tips
        span = np.maximum(tips.max(axis=0) - tips.min(axis=0), 1e-9)
        high, right = (tips - tips.min(axis=0)).T / span[:, None]
        light = 0.65 * high + 0.35 * right + 0.3 * np.array([tone for _, tone in leaves])
        shades = _shade_ranks(light, len(system.leaves))
        for shade, (points, _) in sorted(zip(shades, leaves), key=lambda item: item[0]):  # lit leaves on top
            colour = system.leaves[shade]
            sketch.bodies.append((points, colour, system.leaf_edge))
            midrib = (0.4 * points[0][0] + 0.6 * points[2][0], 0.4 * points[0][1] + 0.6 * points[2][1])
            sketch.strokes.append(([points[0], midrib], 1, colour))  # joins the leaf to its stem
    sketch.bodies += blossoms
    return sketch


_FERN = LSystem(
    axiom="S",
    rules={
        "S": ((0.4, "[++++FA][++FA][FA][--FA][----FA]"), (0.3, "[+++FA][+FA][-FA][---FA]"),
              (0.3, "[+++++FA][+++FA][+FA][-FA][---FA][-----FA]")),
        "A": ((0.85, "F[+++++L][-----L]A"), (0.15, "F[++++L][-----L]A")),
    },
    iterations=11, angle=10.0, angle_jitter=0.25, step_jitter=0.1, taper=0.92, droop=3.5,
    stem_width=1.0, width_decay=1.0, leaf_length=1.4, leaf_width=0.35, blossom_radius=0.0,
    stem=1, leaves=(2, 3, 4),
)
_BUSH = LSystem(
    axiom="[+++A][++A][A][--A][---A]",
    rules={"A": ((0.43, "F[+AL][-AL]L"), (0.24, "F[+AL]AL"), (0.25, "F[-AL]AL"), (0.08, "F[+AK][-AL]L"))},
    iterations=4, angle=16.0, angle_jitter=0.3, step_jitter=0.2, taper=0.85, droop=-8.0,
    stem_width=1.0, width_decay=1.0, leaf_length=0.9, leaf_width=0.8, blossom_radius=0.25,
    stem=1, leaves=(2, 3, 4, 5), blossoms=((6, 6), (7, 7)),  # red or purple berries
)
_FLOWERING = LSystem(
    axiom="FAK",
    rules={"A": ((0.5, "F[+L]F[-L]A"), (0.25, "F[+F[-L]K][-L]A"), (0.25, "F[-F[+L]K][+L]A"))},
    iterations=4, angle=30.0, angle_jitter=0.3, step_jitter=0.2, taper=0.93, droop=0.0,
    stem_width=1.0, width_decay=1.0, leaf_length=1.4, leaf_width=0.45, blossom_radius=0.7,
    stem=1, leaves=(1, 2, 3), blossoms=((4, 7), (5, 7), (6, 7)),  # red, pink or cream petals, yellow centre
)
_SAPLING = LSystem(
    axiom="FA",
    rules={"A": ((0.5, "!F[+AL]F[-AL]A"), (0.5, "!F[-AL]F[+AL]A"))},
    iterations=3, angle=35.0, angle_jitter=0.3, step_jitter=0.2, taper=0.85, droop=0.0,
    stem_width=2.0, width_decay=0.75, leaf_length=2.0, leaf_width=0.75, blossom_radius=0.0,
    stem=1, leaves=(2, 3, 4, 5),
)
_SUCCULENT = LSystem(
    axiom="R",
    rules={"R": ((0.6, "[++++L][----L][++L][--L]'R"), (0.4, "[+++L][---L][+L][-L]'R"))},
    iterations=3, angle=18.0, angle_jitter=0.2, step_jitter=0.1, taper=1.0, droop=0.0,
    stem_width=1.0, width_decay=1.0, leaf_length=4.0, leaf_width=0.42, blossom_radius=0.0,
    stem=1, leaves=(2, 3, 4), leaf_edge=1,
)


# ------------------------------------------------------------------------------------ constructions


def _grow_cactus(rng):
    """A saguaro: a column with 0-2 elbowed arms, outlined dark and lit from the right; sometimes flowers on top.

    Palette: 1 shadow, 2 body, 3 highlight, 4 spines, 5 petals, 6 flower centre.
    """
    height, width = rng.uniform(2.4, 3.2), rng.uniform(0.7, 0.9)
    limbs = [((0.0, 0.0), (0.0, height), width)]  # (start, top, width) of each upright part
    sketch = Sketch(strokes=[([(0.0, 0.0), (0.0, height)], 1, 1)])
    for side in rng.permutation([-1.0, 1.0])[: rng.choice(3, p=(0.2, 0.4, 0.4))]:
        elbow_y, reach = height * rng.uniform(0.3, 0.55), side * width * rng.uniform(0.9, 1.3)
        top = min(elbow_y + rng.uniform(0.6, 1.2), height - 0.3)
        limbs += [((0.0, elbow_y), (reach, elbow_y), 0.6 * width), ((reach, elbow_y), (reach, top), 0.6 * width)]
        sketch.strokes.append(([(0.0, elbow_y), (reach, elbow_y), (reach, top)], 1, 1))
    for colour, share, shift in ((1, 1.0, 0.0), (2, 0.66, 0.1), (3, 0.18, 0.2)):  # shift: towards the light
        for (x0, y0), (x1, y1), w in limbs:
            sketch.bodies.append((_capsule(x0 + shift * w, y0, x1 + shift * w, y1, share * w), colour, 0))
    for y in rng.uniform(0.15, 0.9, rng.integers(3, 7)) * height:  # spines: pale dots on the column's dark flank
        sketch.bodies.append((_ellipse(-0.3 * width, y, 0.05, 0.05, 6), 4, 0))
    for (_, _), (x, y), w in [limbs[0], *limbs[2::2]]:
        if rng.random() < 0.45:  # a flower on this limb's top
            sketch.bodies.append((_ellipse(x, y + 0.45 * w, 0.3 * w, 0.22 * w), 5, 0))
            sketch.bodies.append((_ellipse(x, y + 0.47 * w, 0.1 * w, 0.08 * w, 8), 6, 0))
    return sketch


def _toadstool(sketch, rng, x, height, radius, spots):
    """One mushroom standing at (x, 0): a tapering stalk, gills, a domed cap shaded from the upper right, spots."""
    lean = radius * rng.uniform(-0.15, 0.15)
    s0, s1 = 0.42 * radius, 0.3 * radius  # stalk width at the ground and under the cap
    sketch.strokes.append(([(x, 0.0), (x + lean, height)], 1, 1))
    stalk = [(x - s0 / 2, 0.0), (x + s0 / 2, 0.0), (x + lean + s1 / 2, height), (x + lean - s1 / 2, height)]
    lit = [(x - 0.3 * s0, 0.0), stalk[1], stalk[2], (x + lean - 0.1 * s1, height)]  # all but a strip on the left
    sketch.bodies += [(stalk, 1, 0), (lit, 2, 0)]
    cx, cy, ry = x + lean, height + 0.05 * radius, radius * rng.uniform(0.6, 0.9)
    sketch.bodies.append((_ellipse(cx, cy, 0.8 * radius, 0.16 * radius), 1, 0))  # gills under the rim
    sketch.bodies.append((_dome(cx, cy, radius, ry, sag=0.08 * radius), 3, 0))
    sketch.bodies.append((_dome(cx + 0.06 * radius, cy + 0.12 * ry, 0.86 * radius, 0.84 * ry), 4, 0))
    sketch.bodies.append((_ellipse(cx + 0.38 * radius, cy + 0.62 * ry, 0.2 * radius, 0.1 * ry, 10), 5, 0))
    for _ in range(spots):
        a, f, r = rng.uniform(0.2, 2.9), rng.uniform(0.35, 0.75), radius * rng.uniform(0.09, 0.14)
        sketch.bodies.append((_ellipse(cx + f * radius * math.cos(a), cy + f * ry * math.sin(a), r, 0.8 * r, 8), 6, 0))


def _grow_mushroom(rng):
    """A red toadstool with pale spots, sometimes with a small one in front of its stalk.

    Palette: 1 stalk shadow and gills, 2 stalk, 3 cap shadow, 4 cap, 5 cap highlight, 6 spots.
    """
    sketch, radius = Sketch(), rng.uniform(0.9, 1.2)
    _toadstool(sketch, rng, 0.0, height=radius * rng.uniform(0.9, 1.3), radius=radius, spots=rng.integers(3, 7))
    if rng.random() < 0.5:
        small = radius * rng.uniform(0.3, 0.42)  # short enough to stay under the big cap
        x = rng.choice([-1.0, 1.0]) * (0.21 * radius + 0.15 * small)  # its stalk's side overlaps the big one's foot
        _toadstool(sketch, rng, x, height=small * rng.uniform(0.6, 0.9), radius=small, spots=rng.integers(1, 3))
    return sketch


def _grow_grass(rng):
    """A tuft: 7-12 tapering blades fanning from one root and arching outwards, sometimes seed stalks.

    Blades leaning right catch the light (lit from the right), the brightest drawn last. Palette:
    1 dark, 2 mid, 3 light, 4 pale blade, 5 seed head, 6 seed stalk.
    """
    sketch, count, height = Sketch(), rng.integers(7, 13), rng.uniform(2.2, 2.8)
    for _ in range(rng.integers(0, 3)):  # seed stalks behind the blades
        x1 = rng.uniform(-0.5, 0.5)
        top = (x1, height * rng.uniform(1.0, 1.2))
        sketch.strokes.append(([(0.0, 0.0), top], 1, 6))
        sketch.bodies.append((_lens(top[0] - 0.05 * x1, top[1] - 0.45, math.atan2(top[1], x1), 0.55, 0.22), 5, 0))
    lean = rng.uniform(-1.0, 1.0, count)  # -1 leaning left .. 1 right
    blades = []
    for t in lean:
        a = math.radians(45 * t + 8 * rng.standard_normal())  # from vertical
        b = a + math.copysign(math.radians(rng.uniform(10, 40)), t)  # the tip arches further out
        length = height * (1 - 0.4 * abs(t)) * rng.uniform(0.75, 1.05)
        p0 = (0.12 * t, 0.0)
        p1 = (p0[0] + 0.55 * length * math.sin(a), 0.55 * length * math.cos(a))
        p2 = (p1[0] + 0.5 * length * math.sin(b), p1[1] + 0.5 * length * math.cos(b))
        blades.append(_curve(p0, p1, p2))
    shades = _shade_ranks(lean + 0.6 * rng.uniform(-1, 1, count), 4)
    for shade, points in sorted(zip(shades, blades), key=lambda item: item[0]):
        sketch.bodies.append((_ribbon(points, 0.16), 1 + shade, 0))
        sketch.strokes.append(([(0.0, 0.0), *points], 1, 1 + shade))
    sketch.bodies.append((_dome(0.0, 0.0, 0.2, 0.1), 1, 0))  # the root that joins the blades
    return sketch


def _grow_vine(rng):
    """A twining climber: one or two stems winding upwards, heart leaves at alternate nodes, tendrils
    curling from some nodes and from each tip, a few trumpet flowers.

    Palette: 1 stem, 2 leaf shadow, 3 leaf, 4 leaf highlight, 5 flower, 6 flower throat.
    """
    sketch, leaves, flowers = Sketch(), [], []
    height, amplitude, wave = rng.uniform(2.8, 3.4), rng.uniform(0.45, 0.6), rng.uniform(1.3, 1.7)
    sign = rng.choice([-1.0, 1.0])
    stems = [(height, amplitude, 0.0)]
    if rng.random() < 0.5:
        stems.append((height * rng.uniform(0.55, 0.8), 0.7 * amplitude, math.pi))
    for top, amp, phase in stems:
        ys = np.linspace(0.0, top, 40)
        xs = sign * amp * np.sin(2 * math.pi * ys / wave + phase) * np.minimum(ys / 0.5, 1.0)
        sketch.strokes.append((list(zip(xs.tolist(), ys.tolist())), 1, 1))
        _tendril(sketch, float(xs[-1]), float(ys[-1]), math.pi / 2, -sign, 0.5)
        side = rng.choice([-1.0, 1.0])
        for y in np.arange(rng.uniform(0.3, 0.45), top - 0.2, rng.uniform(0.36, 0.44)):
            k = int(round(y / top * 39))
            x, side = float(xs[k]), -side
            if rng.random() < 0.3:
                _tendril(sketch, x, y, math.pi / 2 - side * 0.6, side, 0.45)
            heading = math.pi / 2 - side * rng.uniform(1.1, 1.8)  # outwards and a little down
            length = 0.7 * (1.0 - 0.35 * y / height) * rng.uniform(0.85, 1.15)  # smaller towards the tip
            leaves.append(_heart(x, y, heading, length))
            if rng.random() < 0.2:
                flowers.append((x + side * 0.15, y + 0.15))
    light = [0.6 * p[4][1] / height + 0.4 * (p[4][0] - p[0][0]) + 0.3 * rng.uniform(-0.5, 0.5) for p in leaves]
    for shade, points in sorted(zip(_shade_ranks(light, 3), leaves), key=lambda item: item[0]):
        sketch.bodies.append((points, 2 + shade, 0))
        sketch.strokes.append(([points[0], points[4]], 1, 2 + shade))  # joins the leaf to its stem
    for x, y in flowers:
        sketch.bodies.append((_ellipse(x, y, 0.22, 0.19, 10), 5, 0))
        sketch.bodies.append((_ellipse(x, y, 0.08, 0.07, 6), 6, 0))
    return sketch


def _heart(x, y, heading, length):
    """A heart-shaped leaf from (x, y) along ``heading`` (radians): notch, lobe, side, tip (index 4), side, lobe."""
    c, s = math.cos(heading), math.sin(heading)
    shape = ((0.0, 0.0), (0.05, 0.32), (0.3, 0.42), (0.65, 0.24), (1.0, 0.0), (0.65, -0.24), (0.3, -0.42),
             (0.05, -0.32))  # (along, across) as fractions of the length
    return [(x + length * (u * c - v * s), y + length * (u * s + v * c)) for u, v in shape]


def _tendril(sketch, x, y, heading, turn, length, steps=12):
    """A 1-px spiral from (x, y): each step turns further towards ``turn`` (+1 left, -1 right)."""
    points, step = [(x, y)], length / steps
    for k in range(steps):
        heading += turn * 0.1 * k  # curvature grows along the tendril: a spiral
        x, y = x + step * math.cos(heading), y + step * math.sin(heading)
        points.append((x, y))
    sketch.strokes.append((points, 1, 1))


def _grow_tree(rng):
    """A broadleaf tree: a flared trunk and a round crown of clumps, each dark below and lit at the upper right.

    Palette: 1 bark shadow, 2 bark, 3 crown shadow, 4 crown, 5 crown light, 6 crown highlight, 7 fruit.
    """
    trunk, radius = rng.uniform(0.9, 1.3), rng.uniform(1.0, 1.25)
    cx, cy = radius * rng.uniform(-0.08, 0.08), trunk + 0.75 * radius
    flare, w = rng.uniform(0.22, 0.3), rng.uniform(0.09, 0.12)
    bark = [(-flare, 0.0), (-w - 0.03, 0.15), (cx - w, cy), (cx + w, cy), (w + 0.03, 0.15), (flare, 0.0)]
    sketch = Sketch(strokes=[([(0.0, 0.0), (cx, cy)], 1, 1)])
    sketch.bodies.append((bark, 1, 0))
    sketch.bodies.append(([(0.3 * flare, 0.0), (0.0, 0.15), (cx + 0.1 * w, cy), *bark[3:]], 2, 0))
    count = rng.integers(6, 9)
    angles = 2 * math.pi * (np.arange(count) + rng.uniform(-0.25, 0.25, count)) / count + rng.uniform(0, math.pi)
    clumps = [(cx, cy, 0.6 * radius)] + [
        (cx + 0.55 * radius * d * math.cos(a), cy + 0.5 * radius * d * math.sin(a), 0.45 * radius * r)
        for a, d, r in zip(angles, rng.uniform(0.85, 1.1, count), rng.uniform(0.85, 1.15, count))]
    clumps.sort(key=lambda c: c[1] + 0.5 * c[0])  # lower-left first, so the lit clumps overlap them
    for colour, share, shift in ((3, 1.0, 0.0), (4, 0.78, 0.18)):
        for x, y, r in clumps:
            sketch.bodies.append((_ellipse(x + shift * r, y + shift * r, share * r, share * r), colour, 0))
    for x, y, r in clumps[-max(2, count // 2):]:  # the upper-right half catches the light
        sketch.bodies.append((_ellipse(x + 0.3 * r, y + 0.3 * r, 0.42 * r, 0.42 * r, 12), 5, 0))
    x, y, r = clumps[-1]
    sketch.bodies.append((_ellipse(x + 0.38 * r, y + 0.38 * r, 0.18 * r, 0.18 * r, 8), 6, 0))
    if rng.random() < 0.4:  # fruit
        for x, y, r in clumps[1: 1 + rng.integers(3, 6)]:
            sketch.bodies.append((_ellipse(x - 0.2 * r, y - 0.1 * r, 0.09, 0.09, 8), 7, 0))
    return sketch


# -------------------------------------------------------------------------------------------- species


@dataclass(frozen=True)
class Species:
    """A plant species: its palette (at most 7 RGB colours; index k of a sprite is ``palette[k - 1]``)
    and ``grow(rng) -> Sketch``."""

    palette: tuple
    grow: object


SPECIES_TABLE = {
    # fern: dark stem, three yellow-greens
    "fern": Species(((30, 77, 43), (74, 143, 60), (118, 185, 71), (180, 216, 90)), partial(_grow_lsystem, _FERN)),
    # bush: bark, four deep cool greens from shadow to light, red and purple berries
    "bush": Species(((96, 66, 40), (22, 58, 44), (34, 88, 58), (54, 120, 68), (92, 156, 78), (222, 66, 86),
                     (132, 92, 186)), partial(_grow_lsystem, _BUSH)),
    # flowering: stem and leaf greens, red / pink / cream petals, a yellow centre
    "flowering": Species(((47, 107, 53), (74, 143, 60), (118, 185, 71), (217, 72, 95), (242, 160, 184),
                          (255, 243, 196), (246, 208, 77)), partial(_grow_lsystem, _FLOWERING)),
    # sapling: bark, four fresh greens
    "sapling": Species(((107, 74, 43), (30, 77, 43), (47, 107, 53), (74, 143, 60), (118, 185, 71)),
                       partial(_grow_lsystem, _SAPLING)),
    # succulent: a dark teal edge, three sage greens
    "succulent": Species(((40, 78, 70), (62, 110, 98), (94, 140, 122), (156, 196, 168)),
                         partial(_grow_lsystem, _SUCCULENT)),
    "cactus": Species(((36, 84, 56), (70, 138, 74), (140, 190, 96), (236, 232, 180), (236, 98, 138),
                       (255, 214, 102)), _grow_cactus),
    "mushroom": Species(((178, 150, 122), (240, 226, 200), (128, 28, 40), (204, 48, 52), (240, 110, 88),
                         (252, 244, 230)), _grow_mushroom),
    "grass": Species(((28, 92, 64), (44, 132, 72), (88, 170, 80), (164, 206, 96), (214, 184, 110),
                      (150, 122, 70)), _grow_grass),
    "vine": Species(((92, 104, 48), (28, 84, 72), (46, 126, 92), (96, 172, 112), (124, 84, 196),
                     (222, 200, 250)), _grow_vine),
    "tree": Species(((70, 46, 36), (122, 84, 58), (22, 64, 60), (34, 104, 72), (76, 150, 78), (150, 198, 98),
                     (204, 58, 48)), _grow_tree),
}
SPECIES = tuple(SPECIES_TABLE)  # the five L-system species first, then the constructions


def species_palette(species):
    """The palette of ``species``: a tuple of at most 7 (r, g, b); index k of its sprites is entry k - 1."""
    _check_species(species)
    return SPECIES_TABLE[species].palette


# ---------------------------------------------------------------------------------------------- drawing


def render_plant_indexed(species, rng, size=32):
    """One plant of ``species`` as an index image (size, size) uint8: 0 transparent, k = palette colour k - 1.

    One 8-connected piece whose base fills the bottom row's pixel at column size // 2. ``rng`` is a
    ``numpy.random.Generator``: the same state gives the same bytes. size is one of ``SIZES``.
    """
    _check_species(species)
    _check_rng(rng)
    _check_size(size)
    sketch = SPECIES_TABLE[species].grow(rng)
    return _draw(sketch, int(size), len(SPECIES_TABLE[species].palette))


def render_plant(species, rng, size=32):
    """One plant sprite of ``species``: (size, size, 4) uint8 RGBA, binary alpha, transparent pixels (0, 0, 0, 0).

    The index image of ``render_plant_indexed`` looked up in the species' palette.
    """
    index = render_plant_indexed(species, rng, size)
    table = np.zeros((8, 4), dtype=np.uint8)  # row 0: transparent
    palette = SPECIES_TABLE[species].palette
    table[1: 1 + len(palette), :3], table[1: 1 + len(palette), 3] = palette, 255
    return table[index]


def _draw(sketch, size, colours):
    """A sketch -> index image (size, size) uint8 (see the module docstring, step 2)."""
    points = [p for shape, *_ in sketch.strokes + sketch.bodies for p in shape if p[1] >= 0]  # above the ground
    half_width = max(max(abs(x) for x, _ in points), 1e-9)
    high = max(max(y for _, y in points), 1e-9)
    scale = min((size / 2 - 1) / half_width, (size - 1) / high)  # pixels per turtle unit
    base_x = size // 2 + 0.5  # the base pixel's centre; y = 0 is the sprite's bottom edge

    def pixels(shape, factor):
        return [(factor * (base_x + scale * x), factor * (size - scale * y)) for x, y in shape]

    samples = Image.new("L", (SUPER * size, SUPER * size), 0)
    draw = ImageDraw.Draw(samples)
    edge_width = SUPER * (size // 32)  # 1 px at 32 and 48, 2 at 64; none at 16, where leaves are 2 px wide
    for shape, colour, edge in sketch.bodies:
        draw.polygon(pixels(shape, SUPER), fill=colour, outline=edge if edge and edge_width else None,
                     width=edge_width)
    index = _reduce(np.asarray(samples), size, colours)

    lines = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(lines)
    for shape, width, colour in sketch.strokes:
        ends = [(math.floor(u), min(math.floor(v), size - 1)) for u, v in pixels(shape, 1)]
        pixels_wide = max(1, int(width * size / 32 + 0.5))
        draw.line(ends, fill=colour, width=pixels_wide, joint="curve")
        if pixels_wide > 1:  # PIL's wide lines are polygons that may miss an end pixel: the centre line holds them
            draw.line(ends, fill=colour)
    index = np.where(index > 0, index, np.asarray(lines))  # strokes behind the bodies
    return _ground_piece(index)


def _reduce(samples, size, colours):
    """(S*size, S*size) sample indices -> (size, size) uint8: opaque where >= COVERAGE drawn, their modal index."""
    cells = samples.reshape(size, SUPER, size, SUPER).transpose(0, 2, 1, 3).reshape(size * size, SUPER * SUPER)
    # (S*size, S*size) -> (size, size, S, S) -> (size*size, S*S): each pixel's samples in a row
    keys = cells + (colours + 1) * np.arange(size * size)[:, None]  # (pixel, index) -> one bin
    counts = np.bincount(keys.ravel(), minlength=size * size * (colours + 1)).reshape(size * size, colours + 1)
    drawn = counts[:, 1:]
    opaque = drawn.sum(axis=1) >= COVERAGE * SUPER * SUPER
    modal = 1 + np.argmax(drawn, axis=1)  # argmax: the most frequent index, the lowest of ties
    return (modal * opaque).reshape(size, size).astype(np.uint8)


def _ground_piece(index):
    """``index`` with only the 8-connected piece holding the base pixel (bottom row, column size // 2) kept."""
    labels, _ = ndimage.label(index > 0, structure=_EIGHT)
    base = labels[-1, index.shape[1] // 2]
    return np.where(labels == base, index, 0).astype(np.uint8) if base else index


# -------------------------------------------------------------------------------------------- dataset


def make_plant_dataset(n, rng, size=32, species=None, indexed=False):
    """``n`` plants as the plant model's training set, classes balanced.

    species: names to draw from (default all of ``SPECIES``); label k means ``species[k]``, and the
    counts of any two labels differ by at most one, in a shuffled order. Returns (images, labels
    (n,) int64): images (n, 4, size, size) float32 RGBA in [0, 1], or with ``indexed`` the index
    images (n, size, size) uint8 of ``render_plant_indexed``.
    """
    species = SPECIES if species is None else tuple(species)
    unknown = [s for s in species if s not in SPECIES_TABLE]
    if not species or unknown:
        raise ProcgenError(f"species must be a non-empty list of {', '.join(SPECIES)}, got {list(species)!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ProcgenError(f"n must be an int >= 0, got {n!r}")
    _check_rng(rng)
    _check_size(size)
    labels = rng.permutation(np.arange(n) % len(species))
    if indexed:
        images = np.empty((n, size, size), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i] = render_plant_indexed(species[label], rng, size)
        return images, labels.astype(np.int64)
    images = np.empty((n, 4, size, size), dtype=np.float32)
    for i, label in enumerate(labels):
        images[i] = render_plant(species[label], rng, size).transpose(2, 0, 1) / np.float32(255)
        # (H, W, 4) -> (4, H, W)
    return images, labels.astype(np.int64)


def _check_species(species):
    if not isinstance(species, str) or species not in SPECIES_TABLE:
        raise ProcgenError(f"species must be one of {', '.join(SPECIES)}, got {species!r}")


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ProcgenError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def _check_size(size):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size not in SIZES:
        raise ProcgenError(f"size must be one of {', '.join(map(str, SIZES))}, got {size!r}")
