"""Packing sprites into one sheet image: a grid of equal cells, or shelves of mixed sizes.

Both layouts leave `padding` transparent pixels between sprites and between the sprites and the sheet
edge, so a renderer that samples a frame with bilinear filtering never bleeds a neighbour in.
Packing is deterministic: the same sprites in the same order give the same sheet, byte for byte.
"""

import math
from dataclasses import dataclass

import numpy as np

from procgen.errors import ProcgenError
from procgen.export.names import check_name

METHODS = ("grid", "shelf")


@dataclass(frozen=True)
class Sheet:
    """A packed sprite sheet.

    image: (H, W, 4) uint8 RGBA, fully transparent where no sprite is.
    frames: {name: (x, y, w, h)} in the order the sprites were given; (x, y) is the sprite's top-left
        pixel in `image`, (w, h) its size.
    method: "grid" (every frame the same size, on a lattice of pitch (w + padding, h + padding)
        starting at (padding, padding)) or "shelf".
    padding: transparent pixels around every sprite.
    """

    image: np.ndarray
    frames: dict
    method: str
    padding: int

    @property
    def size(self):
        """(width, height) of the sheet image in pixels."""
        return self.image.shape[1], self.image.shape[0]


def check_sprites(sprites):
    """Check a list of (name, rgba) pairs and return it as a list of (name, array).

    Each rgba is a (H, W, 4) uint8 array with H, W >= 1; names pass `check_name` and are unique.
    """
    checked = []
    seen = set()
    for index, pair in enumerate(sprites):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ProcgenError(f"sprite {index} must be a (name, rgba) pair; found {type(pair).__name__}")
        name, rgba = pair
        check_name(name, f"sprite {index} name")
        if name in seen:
            raise ProcgenError(f"sprite names must be unique; found {name!r} twice")
        seen.add(name)
        if not isinstance(rgba, np.ndarray) or rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
            found = f"{rgba.dtype} array of shape {rgba.shape}" if isinstance(rgba, np.ndarray) else type(rgba).__name__
            raise ProcgenError(f"sprite {name!r} must be a uint8 RGBA array of shape (H, W, 4); found {found}")
        if rgba.shape[0] < 1 or rgba.shape[1] < 1:
            raise ProcgenError(f"sprite {name!r} must be at least 1x1 pixels; found shape {rgba.shape}")
        checked.append((name, rgba))
    if not checked:
        raise ProcgenError("pack needs at least one sprite; found none")
    return checked


def grid_layout(count, cell, padding, max_width):
    """Place `count` equal cells row by row, as near square as `max_width` allows.

    cell: (w, h) of every sprite. Cell i sits at column c = i % columns, row r = i // columns:
        x = padding + c * (w + padding),   y = padding + r * (h + padding)
    Returns (positions, (width, height)) with width = padding + columns * (w + padding), likewise height.
    """
    w, h = cell
    columns = min(math.ceil(math.sqrt(count)), (max_width - padding) // (w + padding))
    rows = math.ceil(count / columns)
    positions = [
        (padding + (i % columns) * (w + padding), padding + (i // columns) * (h + padding)) for i in range(count)
    ]
    return positions, (padding + columns * (w + padding), padding + rows * (h + padding))


def shelf_layout(sizes, padding, max_width):
    """Next-fit decreasing height: sprites taken tallest first (ties in input order) fill shelves left to right.

    sizes: [(w, h)] per sprite. A sprite that would cross `max_width` opens a new shelf below the tallest
    sprite of the current one; sorting by height first keeps the wasted space under short sprites small.
    Returns (positions in input order, (width, height)).
    """
    positions = [None] * len(sizes)
    x = y = padding
    shelf_height = 0
    width = 0
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i][1], i)):
        w, h = sizes[i]
        if x + w + padding > max_width and x > padding:
            y += shelf_height + padding
            x, shelf_height = padding, 0
        positions[i] = (x, y)
        x += w + padding
        shelf_height = max(shelf_height, h)
        width = max(width, x)
    return positions, (width, y + shelf_height + padding)


def pack(sprites, *, method="grid", padding=1, power_of_two=False, max_width=2048):
    """Pack named RGBA sprites into one sheet.

    sprites: list of (name, rgba) with rgba a (H, W, 4) uint8 array; names unique, no path separators.
    method: "grid" needs every sprite the same size (tile-based engines and Tiled's image tilesets want
        that); "shelf" takes mixed sizes.
    padding: transparent pixels between sprites and around the edge (>= 0).
    power_of_two: round the sheet's width and height up to powers of two (older GPUs, some mipmapping).
    max_width: the widest sheet allowed; rows wrap to stay within it. With power_of_two the limit is the
        largest power of two <= max_width, so rounding up never crosses it.
    Returns a Sheet.
    """
    if method not in METHODS:
        raise ProcgenError(f"method must be one of {METHODS}; found {method!r}")
    if not isinstance(padding, int) or padding < 0:
        raise ProcgenError(f"padding must be an int >= 0; found {padding!r}")
    if not isinstance(max_width, int) or max_width < 1:
        raise ProcgenError(f"max_width must be an int >= 1; found {max_width!r}")
    sprites = check_sprites(sprites)
    limit = 1 << (max_width.bit_length() - 1) if power_of_two else max_width
    sizes = [(rgba.shape[1], rgba.shape[0]) for _, rgba in sprites]
    for (name, _), (w, _) in zip(sprites, sizes):
        if w + 2 * padding > limit:
            raise ProcgenError(
                f"sprite {name!r} is {w} px wide; with padding {padding} it needs a sheet {w + 2 * padding} px "
                f"wide, but the width limit is {limit} px (max_width={max_width}, power_of_two={power_of_two})"
            )
    if method == "grid":
        for (name, _), size in zip(sprites, sizes):
            if size != sizes[0]:
                raise ProcgenError(
                    f"grid packing needs every sprite the size of the first ({sizes[0][0]}x{sizes[0][1]}); "
                    f"sprite {name!r} is {size[0]}x{size[1]} (use method='shelf' for mixed sizes)"
                )
        positions, (width, height) = grid_layout(len(sprites), sizes[0], padding, limit)
    else:
        positions, (width, height) = shelf_layout(sizes, padding, limit)
    if power_of_two:
        width, height = 1 << (width - 1).bit_length(), 1 << (height - 1).bit_length()

    image = np.zeros((height, width, 4), dtype=np.uint8)
    frames = {}
    for (name, rgba), (x, y), (w, h) in zip(sprites, positions, sizes):
        image[y:y + h, x:x + w] = rgba
        frames[name] = (x, y, w, h)
    return Sheet(image=image, frames=frames, method=method, padding=padding)
