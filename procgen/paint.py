"""A palette model's output drawn as sprites: categories -> mirror -> clean-up -> colours.

A palette (categorical) model decodes each pixel to a category k: 0 is transparent and k >= 1 is
entry k - 1 of its class's palette. Its sprites are made from these index maps, (n, 1, H, W) uint8:

1. mirror (optional): columns left of the centre column c = W // 2 reflected onto those right of it,
   the rule ``sprites.postprocess`` uses, so a mirrored palette sprite is the same shape either way.
2. clean-up: ``procgen.cleanup.remove_islands``: 8-connected pieces below ``min_size`` pixels go, and
   by the model's ``keep`` only the piece standing on the ground (plants) or the largest stays. It runs on the canonical
   sprite, before uniqueness and novelty judge it, so a stray pixel never decides a redraw.
3. colours: ``colours[class][k - 1]`` with alpha 255, transparent (0, 0, 0, 0) for k = 0: the canonical
   sprite (n, H, W, 4), which ``sprites.postprocess`` styles (palette, outline, scale) when asked.
"""

import numpy as np

from procgen.cleanup import remove_islands
from procgen.errors import ProcgenError


def mirror(categories):
    """(n, 1, H, W) categories made left-right symmetric about column W // 2 (see ``sprites.postprocess``)."""
    out = categories.copy()
    width = out.shape[3]
    centre = width // 2
    left = centre - np.arange(1, width - centre)  # columns c - k for k = 1 .. W - 1 - c
    out[..., centre + 1:] = out[..., left]
    if width % 2 == 0:
        out[..., 0] = 0
    return out


def clean(categories, min_size, keep):
    """(cleaned (n, 1, H, W), pixels removed (n,)): see the module docstring and ``procgen.cleanup``."""
    cleaned, removed = remove_islands(categories[:, 0], min_size=min_size, keep=keep)
    return cleaned[:, None], removed  # (n, H, W) -> (n, 1, H, W)


def paint(categories, classes, colours):
    """Categories (n, 1, H, W) uint8 and classes (n,) -> RGBA sprites (n, H, W, 4) uint8.

    colours: (n_classes, K - 1, 3) uint8, entry k - 1 of a class's palette for category k >= 1; a single
    row (1, K - 1, 3) serves every class. One lookup per pixel in a table of packed RGBA words.
    """
    n_classes, entries = colours.shape[:2]
    if categories.size and int(categories.max()) > entries:
        raise ProcgenError(f"category {int(categories.max())} has no colour: the palettes have {entries} entries")
    rgb = colours.astype(np.uint32)
    table = np.zeros((n_classes, entries + 1), dtype=np.uint32)  # category 0 stays 0: (0, 0, 0, 0)
    table[:, 1:] = rgb[..., 0] | rgb[..., 1] << 8 | rgb[..., 2] << 16 | np.uint32(255) << 24  # R, G, B, A bytes
    rows = np.asarray(classes, np.int64) if n_classes > 1 else np.zeros(len(categories), np.int64)
    cells = rows[:, None, None] * (entries + 1) + categories[:, 0]  # (n, 1, 1) + (n, H, W): index into the table
    words = np.take(table.ravel(), cells).astype("<u4")
    return words.view(np.uint8).reshape(words.shape + (4,))  # (n, H, W) words -> (n, H, W, 4) bytes
