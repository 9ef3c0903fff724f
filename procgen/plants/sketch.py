"""The sketch: a plant in turtle units, and the polygons its parts are made of.

Every species grows a ``Sketch`` (strokes and filled bodies, y up, stem base at the origin); the
shapes here turn a position, heading and size into a polygon's points. Geometry uses Python's
``math``: the same on every run of one machine.
"""

import math
from dataclasses import dataclass, field

import numpy as np


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


def ellipse(x, y, rx, ry, n=16):
    """An ellipse about (x, y) as an n-gon."""
    return [(x + rx * math.cos(2 * math.pi * k / n), y + ry * math.sin(2 * math.pi * k / n)) for k in range(n)]


def dome(x, y, rx, ry, sag=0.0, n=12):
    """The upper half of an ellipse standing on (x, y), its base bulging ``sag`` below y (a mushroom cap)."""
    top = [(x + rx * math.cos(math.pi * k / n), y + ry * math.sin(math.pi * k / n)) for k in range(n + 1)]
    return top + [(x + 0.5 * rx, y - sag), (x - 0.5 * rx, y - sag)]


def capsule(x0, y0, x1, y1, width, n=8):
    """A segment ``width`` wide with round ends (a cactus limb): a half circle about each end."""
    a, r = math.atan2(y1 - y0, x1 - x0), width / 2
    turns = [math.pi * k / n - math.pi / 2 for k in range(n + 1)]  # -90 .. 90 degrees about the heading
    end = [(x1 + r * math.cos(a + t), y1 + r * math.sin(a + t)) for t in turns]
    start = [(x0 - r * math.cos(a + t), y0 - r * math.sin(a + t)) for t in turns]
    return end + start


def lens(x, y, heading, length, width):
    """A pointed leaf from (x, y) along ``heading`` (radians): base, two sides, tip."""
    dx, dy = math.cos(heading), math.sin(heading)
    px, py = -dy * width / 2, dx * width / 2
    return [(x, y), (x + 0.4 * length * dx + px, y + 0.4 * length * dy + py),
            (x + length * dx, y + length * dy), (x + 0.4 * length * dx - px, y + 0.4 * length * dy - py)]


def ribbon(points, width):
    """A polyline widened to ``width`` at its first point, tapering to a point at its last (a grass blade)."""
    left, right = [], []
    for k, (x, y) in enumerate(points):
        (ax, ay), (bx, by) = points[max(k - 1, 0)], points[min(k + 1, len(points) - 1)]
        norm = math.hypot(bx - ax, by - ay) or 1.0
        half = width / 2 * (1 - k / (len(points) - 1))
        left.append((x - (by - ay) / norm * half, y + (bx - ax) / norm * half))
        right.append((x + (by - ay) / norm * half, y - (bx - ax) / norm * half))
    return left + right[::-1]


def curve(p0, p1, p2, n=8):
    """The quadratic Bezier curve from p0 to p2 pulled towards p1, as n + 1 points."""
    return [((1 - t) ** 2 * p0[0] + 2 * t * (1 - t) * p1[0] + t * t * p2[0],
             (1 - t) ** 2 * p0[1] + 2 * t * (1 - t) * p1[1] + t * t * p2[1]) for t in (k / n for k in range(n + 1))]


def shade_ranks(light, count):
    """Shade index (0 darkest .. count - 1) of each item by rank of ``light``: every shade used about equally often."""
    rank = np.argsort(np.argsort(np.asarray(light, dtype=float), kind="stable"), kind="stable")
    return (rank * count // max(len(rank), 1)).tolist()
