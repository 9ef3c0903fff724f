"""The plant model's training set: ``n`` plants, species balanced and shuffled."""

import numpy as np

from procgen.errors import ProcgenError
from procgen.plants.render import check_rng, check_size, render_plant, render_plant_indexed
from procgen.plants.species import SPECIES, SPECIES_TABLE


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
    check_rng(rng)
    check_size(size)
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
