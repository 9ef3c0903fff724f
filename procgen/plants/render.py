"""One plant: its index image, and the RGBA sprite that image looks up in the species' palette."""

import numpy as np

from procgen.errors import ProcgenError
from procgen.plants.raster import rasterize
from procgen.plants.species import SPECIES_TABLE, check_species

SIZES = (16, 32, 48, 64)


def render_plant_indexed(species, rng, size=32):
    """One plant of ``species`` as an index image (size, size) uint8: 0 transparent, k = palette colour k - 1.

    One 8-connected piece whose base fills the bottom row's pixel at column size // 2. ``rng`` is a
    ``numpy.random.Generator``: the same state gives the same bytes. size is one of ``SIZES``.
    """
    check_species(species)
    check_rng(rng)
    check_size(size)
    sketch = SPECIES_TABLE[species].grow(rng)
    return rasterize(sketch, int(size), len(SPECIES_TABLE[species].palette))


def render_plant(species, rng, size=32):
    """One plant sprite of ``species``: (size, size, 4) uint8 RGBA, binary alpha, transparent pixels (0, 0, 0, 0).

    The index image of ``render_plant_indexed`` looked up in the species' palette.
    """
    index = render_plant_indexed(species, rng, size)
    table = np.zeros((8, 4), dtype=np.uint8)  # row 0: transparent
    palette = SPECIES_TABLE[species].palette
    table[1: 1 + len(palette), :3], table[1: 1 + len(palette), 3] = palette, 255
    return table[index]


def check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ProcgenError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def check_size(size):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size not in SIZES:
        raise ProcgenError(f"size must be one of {', '.join(map(str, SIZES))}, got {size!r}")
