"""Drawing a sketch as an index image (size, size) uint8: 0 transparent, k the palette's colour k - 1.

The sketch is scaled to fit the sprite, base at the bottom centre, 1 pixel free above and beside;
whatever lies below the ground (y < 0) is cut off. Bodies are drawn ``SUPER`` times larger and
reduced: a pixel is opaque when at least ``COVERAGE`` of its samples are drawn, and takes their
most frequent index, so edges never blend colours. Strokes are drawn at sprite resolution
(Bresenham lines: 1 px at 16 and 32, 2 px at 48 and 64 for a 1-px stem) behind every body, so a
stem never breaks and each leaf's midrib joins the leaf to its stem. Last, only the 8-connected
piece holding the base pixel (bottom row, column size // 2, where every species' first stroke
starts) is kept: every plant is one piece standing on the ground.
"""

import math

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

SUPER = 4  # supersampling factor of the bodies
COVERAGE = 0.4  # fraction of a pixel's samples that must be drawn for it to be opaque
_EIGHT = np.ones((3, 3), dtype=bool)  # a pixel touches its 8 neighbours


def rasterize(sketch, size, colours):
    """A sketch -> index image (size, size) uint8 (see the module docstring)."""
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
    index = reduce_samples(np.asarray(samples), size, colours)

    lines = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(lines)
    for shape, width, colour in sketch.strokes:
        ends = [(math.floor(u), min(math.floor(v), size - 1)) for u, v in pixels(shape, 1)]
        pixels_wide = max(1, int(width * size / 32 + 0.5))
        draw.line(ends, fill=colour, width=pixels_wide, joint="curve")
        if pixels_wide > 1:  # PIL's wide lines are polygons that may miss an end pixel: the centre line holds them
            draw.line(ends, fill=colour)
    index = np.where(index > 0, index, np.asarray(lines))  # strokes behind the bodies
    return ground_piece(index)


def reduce_samples(samples, size, colours):
    """(S*size, S*size) sample indices -> (size, size) uint8: opaque where >= COVERAGE drawn, their modal index."""
    cells = samples.reshape(size, SUPER, size, SUPER).transpose(0, 2, 1, 3).reshape(size * size, SUPER * SUPER)
    # (S*size, S*size) -> (size, size, S, S) -> (size*size, S*S): each pixel's samples in a row
    keys = cells + (colours + 1) * np.arange(size * size)[:, None]  # (pixel, index) -> one bin
    counts = np.bincount(keys.ravel(), minlength=size * size * (colours + 1)).reshape(size * size, colours + 1)
    drawn = counts[:, 1:]
    opaque = drawn.sum(axis=1) >= COVERAGE * SUPER * SUPER
    modal = 1 + np.argmax(drawn, axis=1)  # argmax: the most frequent index, the lowest of ties
    return (modal * opaque).reshape(size, size).astype(np.uint8)


def ground_piece(index):
    """``index`` with only the 8-connected piece holding the base pixel (bottom row, column size // 2) kept."""
    labels, _ = ndimage.label(index > 0, structure=_EIGHT)
    base = labels[-1, index.shape[1] // 2]
    return np.where(labels == base, index, 0).astype(np.uint8) if base else index
