"""Training sets of palette models: every image as categories under its class's palette.

    plants          ``procgen.plants.make_plant_dataset(n, rng, size, indexed=True)``: each species
                    is drawn in its own small palette, so its categories are exact
    fashion-mnist   n images of the Fashion-MNIST training split, the same number from each class,
                    padded from 28 x 28 to size x size (not scaled). The gray level v is cut into
                    transparent (v <= 0.2, as the old model's alpha threshold) and three gray levels,
                    which the default style paints in a colour ramp per class (three shades, as
                    pixel artists ramp a material; a fourth measured as speckle in the samples)
    images DIR      ``procgen.images.load_sprite_folder`` (crisp: cropped, padded, whole-factor scaled),
                    then ``procgen.quantize`` per class

Each gives a ``SpriteSet``, with what the checkpoint records about it: default style, licence, credit.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from procgen.errors import ProcgenError

DATASETS = ("plants", "fashion-mnist")
SIZES = (16, 32, 48, 64)
OUTLINE = "#1a1c2c"  # the default outline of the shipped models: a near-black that reads as an ink line

GRAY_EDGES = (0.2, 0.45, 0.7)  # v <= 0.2 transparent; then three levels, darkest first
GRAYS = ((83, 83, 83), (147, 147, 147), (217, 217, 217))  # each level's middle, * 255
CLOTHING_RAMPS = {  # dark to light, one ramp per Fashion-MNIST class, after procgen/models/samples.png
    "T-shirt/top": "#a8324a,#e05a6a,#f4a6a6", "Trouser": "#2f4f8a,#4a7cc0,#8fb3e0",
    "Pullover": "#2f6b45,#4fa06a,#9bd39e", "Dress": "#6b3a8a,#a066c0,#d7b0e8",
    "Coat": "#6b4426,#9c6a3c,#d1a36e", "Sandal": "#8a6538,#c49a5c,#ecd29a",
    "Shirt": "#3f6f96,#6ea5cf,#b8dcf2", "Sneaker": "#737b8c,#b0b8c6,#f0f2f5",
    "Bag": "#5c3a24,#8d5a35,#c08a5a", "Ankle boot": "#3d3430,#665750,#9a877c"}


@dataclass
class SpriteSet:
    """categories (N, S, S) uint8 (0 transparent, k palette entry k - 1), labels (N,) int64, class_names,
    palettes (K, P, 3) uint8, kind (mixed into sprite keys), keep (the clean-up's rule, procgen.cleanup:
    "ground" for plants, "largest" for one object per sprite), source (dataset name or images:DIR), style
    (the default: palette, outline, class_palettes), licence and credit (recorded in the checkpoint)."""

    categories: np.ndarray
    labels: np.ndarray
    class_names: list
    palettes: np.ndarray
    kind: str
    keep: str
    source: str
    style: dict = field(default_factory=dict)
    licence: str = ""
    credit: str = ""


def hex_colours(table):
    """(..., P, 3) uint8 -> nested lists of "#rrggbb", as the checkpoint records palettes."""
    table = np.asarray(table)
    if table.ndim == 2:
        return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in table.tolist()]
    return [hex_colours(t) for t in table]


def load_dataset(dataset, n, rng, size=32, images=None, split="train"):
    """The SpriteSet of a dataset name or an images folder (see the module docstring).

    split: "test" takes Fashion-MNIST's test images, held out from every model (plants are fresh draws
    of ``rng`` either way).
    """
    if size not in SIZES:
        raise ProcgenError(f"size must be one of {', '.join(map(str, SIZES))}, got {size!r}")
    if images is not None:
        return _folder(Path(images), n, rng, size)
    if dataset == "plants":
        return _plants(n, rng, size)
    if dataset == "fashion-mnist":
        return _clothing(n, rng, size, split)
    raise ProcgenError(f"dataset must be one of {', '.join(DATASETS)} (or give an images folder), got {dataset!r}")


def _plants(n, rng, size):
    from procgen.plants import SPECIES, make_plant_dataset, species_palette
    from procgen.quantize import pad_palettes

    categories, labels = make_plant_dataset(n, rng, size=size, indexed=True)
    palettes = pad_palettes([np.array(species_palette(s), dtype=np.uint8) for s in SPECIES])
    return SpriteSet(categories, labels, list(SPECIES), palettes, "plants", "ground", "plants",
                     style={"palette": None, "outline": OUTLINE, "class_palettes": None},
                     licence="MIT (procgen's own L-system plants; sprites you generate are yours to use)",
                     credit="procgen L-system plants")


def _clothing(n, rng, size, split):
    from tinyae.datasets import CLASS_NAMES, load_fashion_mnist

    if size < 28:
        raise ProcgenError(f"fashion-mnist images are 28 x 28 and are padded, never scaled: size must be >= 28, "
                           f"got {size}")
    x, labels = load_fashion_mnist(split, progress=False)
    pick = balanced(labels, n, len(CLASS_NAMES), rng)
    v = x[pick, 0]  # (N, 1, 28, 28) -> (N, 28, 28)
    categories = np.searchsorted(np.array(GRAY_EDGES, np.float32), v, side="left").astype(np.uint8)
    # v <= 0.2 -> 0, (0.2, 0.45] -> 1, (0.45, 0.7] -> 2, (0.7, 1] -> 3
    low = (size - 28) // 2
    categories = np.pad(categories, ((0, 0), (low, size - 28 - low), (low, size - 28 - low)))
    ramps = [[c for c in CLOTHING_RAMPS[name].split(",")] for name in CLASS_NAMES]
    return SpriteSet(categories, labels[pick], list(CLASS_NAMES), np.array([GRAYS], dtype=np.uint8), "clothing",
                     "largest", "fashion-mnist", style={"palette": None, "outline": OUTLINE, "class_palettes": ramps},
                     licence="Fashion-MNIST: MIT License, Copyright (c) 2017 Zalando SE",
                     credit="Fashion-MNIST by Zalando Research (Xiao, Rasul & Vollgraf, 2017)")


def _folder(root, n, rng, size):
    from procgen.images import load_sprite_folder
    from procgen.quantize import MAX_COLOURS, quantize

    x, labels, class_names, _ = load_sprite_folder(root, size, n=n, rng=rng)
    categories, palettes = quantize(x, labels, len(class_names), max_colours=MAX_COLOURS)
    return SpriteSet(categories, labels, class_names, palettes, "sprites", "largest", f"images:{root.name}",
                     style={"palette": None, "outline": None, "class_palettes": None},
                     licence="as the images in " + root.name, credit=root.name)


def balanced(labels, n, n_classes, rng):
    """n indices, n // K (or one more) from each of the K classes, drawn without replacement, sorted."""
    per = [n // n_classes + (k < n % n_classes) for k in range(n_classes)]
    picks = []
    for k, count in enumerate(per):
        pool = np.flatnonzero(labels == k)
        if count > len(pool):
            raise ProcgenError(f"n = {n} asks {count} images of class {k}, the dataset has {len(pool)}")
        picks.append(rng.choice(pool, size=count, replace=False))
    return np.sort(np.concatenate(picks))
