"""Images -> a palette model's training data: each pixel's category under its class's palette.

A palette model predicts, per pixel, a category: 0 is transparent and k >= 1 is entry k - 1 of the
class's palette (at most ``MAX_COLOURS`` entries). Training images are brought to that form here:

    opaque      alpha >= 1/2 (pixel art is opaque or not)
    palette     per class: its opaque colours if there are few enough, otherwise a median cut
                (Heckbert 1982, Pillow's) of them; sorted dark to light by luma, so entry 0 is the shade
                an artist would ramp up from
    category    1 + the index of the nearest palette colour (squared RGB distance, ties to the lower)

Classes share one category count: shorter palettes repeat their lightest colour, which no pixel takes.
"""

import numpy as np
from PIL import Image

from procgen.errors import ProcgenError

MAX_COLOURS = 15  # palette entries a class may have: with transparent, 16 categories per pixel


def _luma(rgb):
    """Rec. 601 luma of (M, 3) colours, as integers times 1000 so the sort is exact."""
    return rgb.astype(np.int64) @ np.array([299, 587, 114])


def class_palette(rgb, max_colours):
    """(M, 3) uint8 opaque colours -> (P, 3) uint8 palette, P <= max_colours, dark to light."""
    colours = np.unique(rgb, axis=0)
    if len(colours) > max_colours:
        strip = Image.fromarray(rgb[None, :, :])  # (M, 3) -> a 1 x M RGB image
        reduced = strip.quantize(colors=max_colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        used = sorted(set(np.asarray(reduced).ravel().tolist()))
        table = np.array(reduced.getpalette()[:3 * (max(used) + 1)], dtype=np.uint8).reshape(-1, 3)
        colours = np.unique(table[used], axis=0)
    order = np.lexsort((colours[:, 2], colours[:, 1], colours[:, 0], _luma(colours)))  # luma, then RGB
    return colours[order]


def nearest(rgb, palette, chunk=1 << 18):
    """(M, 3) colours -> (M,) index of the nearest palette colour, ties to the lower index."""
    out = np.empty(len(rgb), dtype=np.int64)
    for i in range(0, len(rgb), chunk):
        part = rgb[i:i + chunk, None, :].astype(np.int32) - palette[None, :, :]  # (m, 1, 3) - (1, P, 3)
        out[i:i + chunk] = np.argmin((part * part).sum(axis=2), axis=1)
    return out


def quantize(images, labels, n_classes, max_colours=7):
    """RGBA images (N, 4, H, W) float in [0, 1] -> (categories (N, H, W) uint8, palettes (K, P, 3) uint8).

    labels (N,) in 0..K-1 choose each image's class palette (see the module docstring).
    """
    if not 1 <= max_colours <= MAX_COLOURS:
        raise ProcgenError(f"a class palette has 1 to {MAX_COLOURS} colours, asked for {max_colours}")
    rgba = np.floor(np.asarray(images, np.float32) * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
    # (N, 4, H, W) -> (N, H, W, 4)
    opaque = rgba[..., 3] >= 128
    categories = np.zeros(opaque.shape, dtype=np.uint8)
    palettes = []
    for k in range(n_classes):
        mine = (labels == k)[:, None, None] & opaque  # (N, H, W)
        if not mine.any():
            raise ProcgenError(f"class {k} has no opaque pixel to take a palette from")
        pixels = rgba[..., :3][mine]  # (M, 3)
        palette = class_palette(pixels, max_colours)
        categories[mine] = 1 + nearest(pixels, palette)
        palettes.append(palette)
    return categories, pad_palettes(palettes)


def pad_palettes(palettes):
    """Class palettes of (P_k, 3) colours -> one (K, max P_k, 3) table: a short one repeats its last colour,
    which no pixel takes, so every class has the same number of categories."""
    width = max(len(p) for p in palettes)
    return np.stack([np.concatenate([p, np.repeat(p[-1:], width - len(p), axis=0)]) for p in palettes])
