"""A small pixel-art set the project makes itself: potions, gems and swords, a class per folder.

    python examples/art_set.py --out DIR [--per-class 40] [--seed 0] [--force]
    procgen train --images DIR --out items.npz

Each sprite is drawn at 16 x 16 with PIL into an index image (0 empty, 1 outline, k colour k of the class
palette), in the flat colours of hand-made pixel art: shapes from PIL's aliased polygons, ellipses and
rectangles, a shine of the lightest colour at the upper left, and a 1-pixel outline on every empty pixel
that shares an edge with the item. What varies, drawn by the seed: the shape (round flask, square bottle
or vial; brilliant, rhombus, octagon or round gem; sword or dagger, either way up), its size, and which
class colours it wears. Half the sprites are saved at 16 px and a quarter each upscaled x2 and x3 with
nearest neighbour, as artists post them, so a loader must find the blocks (``procgen.images``).

Writes DIR/potion/potion_000.png ... as RGBA PNGs with binary transparency. DIR must be empty or new;
--force replaces its potion/, gem/ and sword/ folders and touches nothing else. The three folders are
written into a hidden folder of DIR first and moved in when all are done. A refusal exits with status 1,
bad arguments with status 2.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 16
SCALES, SCALE_ODDS = (1, 2, 3), (0.5, 0.25, 0.25)
EMPTY, OUTLINE = 0, 1  # index image values; value v >= 1 is PALETTES[name][v - 1], 1 the outline
PALETTES = {  # per class: the outline first, then the colours its sprites draw from
    "potion": ("#2a1d34", "#e4f4f8", "#a8703c", "#d9435a", "#5cc05a", "#4a7be0"),  # glass, cork, 3 liquids
    "gem": ("#1d1633", "#ffffff", "#7fe8f0", "#2a8fb8", "#f58ad6", "#a8307e"),  # shine, then (light, dark) x 2
    "sword": ("#1b1b26", "#eef3f8", "#8c9bb0", "#e8b13a", "#7b4a2a", "#c8324a"),  # blade 2, gold, grip, ruby
}
CLASSES = tuple(PALETTES)


def make_art_set(root, rng, per_class=40, force=False):
    """Write per_class sprites of each class under root; returns their paths relative to root, sorted."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"{root} is a file, expected a folder for the art set")
    if root.exists() and any(root.iterdir()) and not force:
        raise FileExistsError(f"{root} is not empty; pass --force (force=True) to replace its "
                              f"{', '.join(c + '/' for c in CLASSES)} folders")
    files = {f"{name}/{name}_{i:03d}.png": _upscaled(_rgba(name, DRAW[name](rng)), rng)
             for name in CLASSES for i in range(per_class)}  # drawn whole before anything is written
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".art_set-", dir=root))  # hidden: loaders skip it if left behind
    try:
        for name, pixels in files.items():
            (staging / name).parent.mkdir(exist_ok=True)
            Image.fromarray(pixels, "RGBA").save(staging / name)
        for name in CLASSES:
            if (root / name).exists():
                shutil.rmtree(root / name)  # only with force: refused above otherwise
            (staging / name).rename(root / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(files)


def draw_potion(rng):
    """A flask, bottle or vial of glass with a cork, filled to a random level with one of three liquids."""
    glass, cork, liquids = 2, 3, (4, 5, 6)
    image, draw = _canvas()
    shape = rng.choice(["round", "square", "vial"])
    width = {"round": rng.integers(8, 13), "square": rng.integers(6, 11), "vial": rng.integers(4, 6)}[shape]
    height = {"round": width - rng.integers(0, 2), "square": rng.integers(6, 10), "vial": rng.integers(8, 12)}[shape]
    neck = 0 if shape == "vial" else rng.integers(1, 3)
    neck_width = width if shape == "vial" else rng.integers(2, 4) + (width % 2)  # the body's parity: centred
    left, bottom = (SIZE - width) // 2, SIZE - 2
    top = bottom - height + 1
    if shape == "round":
        draw.ellipse((left, top, left + width - 1, bottom), fill=glass)
    else:
        draw.rounded_rectangle((left, top, left + width - 1, bottom), radius=1, fill=glass)
    neck_left = (SIZE - neck_width) // 2
    draw.rectangle((neck_left, top - neck, neck_left + neck_width - 1, top), fill=glass)
    overhang = 0 if shape == "vial" else 1  # a cork overhangs a neck by a pixel a side, fills a vial's mouth
    draw.rectangle((neck_left - overhang, top - neck - 2, neck_left + neck_width - 1 + overhang, top - neck - 1),
                   fill=cork)
    index = np.array(image)  # (16, 16) uint8
    below = index[top + rng.integers(1, max(2, height // 2)):]  # a view: from the liquid's level down
    below[below == glass] = rng.choice(liquids)
    streak = index[top + 1:top + 1 + max(2, height // 3), left + 1 + (shape == "round" and width > 9)]
    streak[streak > 0] = glass  # the shine: light on the glass, at the upper left
    return _outlined(index)


def draw_gem(rng):
    """A cut stone in one of two colours: light facets up and to the left, dark ones down and to the right."""
    shine, hues, stone = 2, ((3, 4), (5, 6)), 255  # hues: (light, dark) of each; stone: a stand-in, shaded below
    image, draw = _canvas()
    shape = rng.choice(["brilliant", "rhombus", "octagon", "round"])
    width, height = rng.integers(8, 14), rng.integers(7, 13)
    left, bottom = (SIZE - width) // 2, SIZE - 2
    right, top = left + width - 1, bottom - height + 1
    middle = (left + right) / 2
    girdle = top + height // 3 if shape == "brilliant" else (top + bottom) // 2  # the widest row
    if shape == "round":
        draw.ellipse((left, top, right, bottom), fill=stone)
    else:
        inset, cut = max(1, width // 4), max(1, min(width, height) // 4)
        corners = {
            "brilliant": [(left + inset, top), (right - inset, top), (right, girdle), (middle, bottom), (left, girdle)],
            "rhombus": [(middle, top), (right, girdle), (middle, bottom), (left, girdle)],
            "octagon": [(left + cut, top), (right - cut, top), (right, top + cut), (right, bottom - cut),
                        (right - cut, bottom), (left + cut, bottom), (left, bottom - cut), (left, top + cut)],
        }[shape]
        draw.polygon(corners, fill=stone)
    light, dark = hues[rng.integers(2)]
    y, x = np.mgrid[:SIZE, :SIZE]  # (16, 16) row and column of every pixel
    # light: the upper-left quarter, and below the girdle a wedge that narrows towards the bottom
    lit = (y <= girdle) & (x <= middle) | (y > girdle) & (x < middle - (y - girdle) / 2)
    index = np.array(image)  # (16, 16) uint8
    index[index == stone] = np.where(lit, light, dark)[index == stone]
    gx, gy = int(middle) - max(1, width // 4), top + 1 + (shape == "rhombus") * (height // 4)
    for dx, dy in ((0, 0), (1, 0), (0, 1))[:2 + (width > 10)]:  # a 2- or 3-pixel glint on a light facet
        if index[gy + dy, gx + dx] > 0:
            index[gy + dy, gx + dx] = shine
    return _outlined(index)


def draw_sword(rng):
    """A sword or dagger on the diagonal, point up: a two-tone blade, a guard, a grip and a pommel."""
    steel, edge, gold, leather, ruby = 2, 3, 4, 5, 6
    index = np.zeros((SIZE, SIZE), np.uint8)
    grip, guard = rng.integers(2, 4), rng.integers(1, 3)
    blade = rng.integers(5, 12 - grip)  # the point (and its dark edge) stays inside the 1-pixel margin
    two_tone = blade >= 7  # a dagger's narrow blade is one line of light steel
    x, y = 1, SIZE - 2  # the pommel, in the lower-left corner
    index[y, x] = rng.choice([gold, ruby])
    for _ in range(grip):
        x, y = x + 1, y - 1
        index[y, x] = leather
    x, y = x + 1, y - 1  # the hilt, where the guard crosses
    metal = rng.choice([gold, edge])
    for t in range(-guard, guard + 1):
        index[y + t, x + t] = metal  # across the blade: (1, -1) . (1, 1) = 0
    for _ in range(blade):
        x, y = x + 1, y - 1
        index[y, x] = steel
        if two_tone and index[y, x + 1] == 0:
            index[y, x + 1] = edge
    if rng.random() < 0.5:
        index = index[:, ::-1]  # point up and to the left
    return _outlined(index)


def _canvas():
    """An empty (16, 16) index image and a PIL pen on it (aliased: every pixel is one value)."""
    image = Image.new("L", (SIZE, SIZE), EMPTY)
    return image, ImageDraw.Draw(image)


def _outlined(index):
    """Mark every empty pixel that shares an edge with the item as outline; the item keeps a 1 px margin."""
    filled = index > OUTLINE
    edge = np.zeros_like(filled)
    edge[1:] |= filled[:-1]
    edge[:-1] |= filled[1:]
    edge[:, 1:] |= filled[:, :-1]
    edge[:, :-1] |= filled[:, 1:]
    index = index.copy()
    index[edge & ~filled] = OUTLINE
    return index


def _rgba(name, index):
    """(16, 16) index image -> (16, 16, 4) uint8 RGBA in the class palette, index 0 transparent."""
    colours = [(0, 0, 0, 0)] + [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) + (255,) for c in PALETTES[name]]
    return np.array(colours, np.uint8)[index]


def _upscaled(pixels, rng):
    """Half the sprites as drawn, a quarter each x2 and x3 in nearest-neighbour blocks."""
    k = rng.choice(SCALES, p=SCALE_ODDS)
    return pixels.repeat(k, axis=0).repeat(k, axis=1)  # (16, 16, 4) -> (16 k, 16 k, 4), nearest neighbour


DRAW = {"potion": draw_potion, "gem": draw_gem, "sword": draw_sword}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="art_set.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the set into (new or empty)")
    parser.add_argument("--per-class", type=int, default=40, help="sprites of each class (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    parser.add_argument("--force", action="store_true", help="replace the class folders of a non-empty --out")
    args = parser.parse_args(argv)
    if args.per_class < 1:
        parser.error(f"--per-class must be at least 1, got {args.per_class}")
    try:
        files = make_art_set(args.out, np.random.default_rng(args.seed), args.per_class, force=args.force)
    except FileExistsError as err:
        sys.exit(f"error: {err}")
    print(f"wrote {len(files)} sprites of {len(CLASSES)} classes ({', '.join(CLASSES)}) to {args.out}")
    return files


if __name__ == "__main__":
    main()
