"""Cactus, mushroom and tree: solids laid over each other from shadow to highlight, lit from the upper right.

Each is a small construction, not a grammar: a few rounded parts whose places are drawn from the rng.
"""

import math

import numpy as np

from procgen.plants.sketch import Sketch, capsule, dome, ellipse


def grow_cactus(rng):
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
            sketch.bodies.append((capsule(x0 + shift * w, y0, x1 + shift * w, y1, share * w), colour, 0))
    for y in rng.uniform(0.15, 0.9, rng.integers(3, 7)) * height:  # spines: pale dots on the column's dark flank
        sketch.bodies.append((ellipse(-0.3 * width, y, 0.05, 0.05, 6), 4, 0))
    for (_, _), (x, y), w in [limbs[0], *limbs[2::2]]:
        if rng.random() < 0.45:  # a flower on this limb's top
            sketch.bodies.append((ellipse(x, y + 0.45 * w, 0.3 * w, 0.22 * w), 5, 0))
            sketch.bodies.append((ellipse(x, y + 0.47 * w, 0.1 * w, 0.08 * w, 8), 6, 0))
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
    sketch.bodies.append((ellipse(cx, cy, 0.8 * radius, 0.16 * radius), 1, 0))  # gills under the rim
    sketch.bodies.append((dome(cx, cy, radius, ry, sag=0.08 * radius), 3, 0))
    sketch.bodies.append((dome(cx + 0.06 * radius, cy + 0.12 * ry, 0.86 * radius, 0.84 * ry), 4, 0))
    sketch.bodies.append((ellipse(cx + 0.38 * radius, cy + 0.62 * ry, 0.2 * radius, 0.1 * ry, 10), 5, 0))
    for _ in range(spots):
        a, f, r = rng.uniform(0.2, 2.9), rng.uniform(0.35, 0.75), radius * rng.uniform(0.09, 0.14)
        sketch.bodies.append((ellipse(cx + f * radius * math.cos(a), cy + f * ry * math.sin(a), r, 0.8 * r, 8), 6, 0))


def grow_mushroom(rng):
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


def grow_tree(rng):
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
            sketch.bodies.append((ellipse(x + shift * r, y + shift * r, share * r, share * r), colour, 0))
    for x, y, r in clumps[-max(2, count // 2):]:  # the upper-right half catches the light
        sketch.bodies.append((ellipse(x + 0.3 * r, y + 0.3 * r, 0.42 * r, 0.42 * r, 12), 5, 0))
    x, y, r = clumps[-1]
    sketch.bodies.append((ellipse(x + 0.38 * r, y + 0.38 * r, 0.18 * r, 0.18 * r, 8), 6, 0))
    if rng.random() < 0.4:  # fruit
        for x, y, r in clumps[1: 1 + rng.integers(3, 6)]:
            sketch.bodies.append((ellipse(x - 0.2 * r, y - 0.1 * r, 0.09, 0.09, 8), 7, 0))
    return sketch
