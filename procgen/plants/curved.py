"""Grass and vine: plants of curves, blades fanning from one root and stems twining upwards."""

import math

import numpy as np

from procgen.plants.sketch import Sketch, curve, dome, ellipse, lens, ribbon, shade_ranks


def grow_grass(rng):
    """A tuft: 7-12 tapering blades fanning from one root and arching outwards, sometimes seed stalks.

    Blades leaning right catch the light (lit from the right), the brightest drawn last. Palette:
    1 dark, 2 mid, 3 light, 4 pale blade, 5 seed head, 6 seed stalk.
    """
    sketch, count, height = Sketch(), rng.integers(7, 13), rng.uniform(2.2, 2.8)
    for _ in range(rng.integers(0, 3)):  # seed stalks behind the blades
        x1 = rng.uniform(-0.5, 0.5)
        top = (x1, height * rng.uniform(1.0, 1.2))
        sketch.strokes.append(([(0.0, 0.0), top], 1, 6))
        sketch.bodies.append((lens(top[0] - 0.05 * x1, top[1] - 0.45, math.atan2(top[1], x1), 0.55, 0.22), 5, 0))
    lean = rng.uniform(-1.0, 1.0, count)  # -1 leaning left .. 1 right
    blades = []
    for t in lean:
        a = math.radians(45 * t + 8 * rng.standard_normal())  # from vertical
        b = a + math.copysign(math.radians(rng.uniform(10, 40)), t)  # the tip arches further out
        length = height * (1 - 0.4 * abs(t)) * rng.uniform(0.75, 1.05)
        p0 = (0.12 * t, 0.0)
        p1 = (p0[0] + 0.55 * length * math.sin(a), 0.55 * length * math.cos(a))
        p2 = (p1[0] + 0.5 * length * math.sin(b), p1[1] + 0.5 * length * math.cos(b))
        blades.append(curve(p0, p1, p2))
    shades = shade_ranks(lean + 0.6 * rng.uniform(-1, 1, count), 4)
    for shade, points in sorted(zip(shades, blades), key=lambda item: item[0]):
        sketch.bodies.append((ribbon(points, 0.16), 1 + shade, 0))
        sketch.strokes.append(([(0.0, 0.0), *points], 1, 1 + shade))
    sketch.bodies.append((dome(0.0, 0.0, 0.2, 0.1), 1, 0))  # the root that joins the blades
    return sketch


def grow_vine(rng):
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
    for shade, points in sorted(zip(shade_ranks(light, 3), leaves), key=lambda item: item[0]):
        sketch.bodies.append((points, 2 + shade, 0))
        sketch.strokes.append(([points[0], points[4]], 1, 2 + shade))  # joins the leaf to its stem
    for x, y in flowers:
        sketch.bodies.append((ellipse(x, y, 0.22, 0.19, 10), 5, 0))
        sketch.bodies.append((ellipse(x, y, 0.08, 0.07, 6), 6, 0))
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
