"""The species table: each species' palette and the function that grows its sketch."""

from dataclasses import dataclass
from functools import partial

from procgen.errors import ProcgenError
from procgen.plants.curved import grow_grass, grow_vine
from procgen.plants.grammars import BUSH, FERN, FLOWERING, SAPLING, SUCCULENT
from procgen.plants.layered import grow_cactus, grow_mushroom, grow_tree
from procgen.plants.lsystem import grow_lsystem


@dataclass(frozen=True)
class Species:
    """A plant species: its palette (at most 7 RGB colours; index k of a sprite is ``palette[k - 1]``)
    and ``grow(rng) -> Sketch``."""

    palette: tuple
    grow: object


SPECIES_TABLE = {
    # fern: dark stem, three yellow-greens
    "fern": Species(((30, 77, 43), (74, 143, 60), (118, 185, 71), (180, 216, 90)), partial(grow_lsystem, FERN)),
    # bush: bark, four deep cool greens from shadow to light, red and purple berries
    "bush": Species(((96, 66, 40), (22, 58, 44), (34, 88, 58), (54, 120, 68), (92, 156, 78), (222, 66, 86),
                     (132, 92, 186)), partial(grow_lsystem, BUSH)),
    # flowering: stem and leaf greens, red / pink / cream petals, a yellow centre
    "flowering": Species(((47, 107, 53), (74, 143, 60), (118, 185, 71), (217, 72, 95), (242, 160, 184),
                          (255, 243, 196), (246, 208, 77)), partial(grow_lsystem, FLOWERING)),
    # sapling: bark, four fresh greens
    "sapling": Species(((107, 74, 43), (30, 77, 43), (47, 107, 53), (74, 143, 60), (118, 185, 71)),
                       partial(grow_lsystem, SAPLING)),
    # succulent: a dark teal edge, three sage greens
    "succulent": Species(((40, 78, 70), (62, 110, 98), (94, 140, 122), (156, 196, 168)),
                         partial(grow_lsystem, SUCCULENT)),
    "cactus": Species(((36, 84, 56), (70, 138, 74), (140, 190, 96), (236, 232, 180), (236, 98, 138),
                       (255, 214, 102)), grow_cactus),
    "mushroom": Species(((178, 150, 122), (240, 226, 200), (128, 28, 40), (204, 48, 52), (240, 110, 88),
                         (252, 244, 230)), grow_mushroom),
    "grass": Species(((28, 92, 64), (44, 132, 72), (88, 170, 80), (164, 206, 96), (214, 184, 110),
                      (150, 122, 70)), grow_grass),
    "vine": Species(((92, 104, 48), (28, 84, 72), (46, 126, 92), (96, 172, 112), (124, 84, 196),
                     (222, 200, 250)), grow_vine),
    "tree": Species(((70, 46, 36), (122, 84, 58), (22, 64, 60), (34, 104, 72), (76, 150, 78), (150, 198, 98),
                     (204, 58, 48)), grow_tree),
}
SPECIES = tuple(SPECIES_TABLE)  # the five L-system species first, then the constructions


def species_palette(species):
    """The palette of ``species``: a tuple of at most 7 (r, g, b); index k of its sprites is entry k - 1."""
    check_species(species)
    return SPECIES_TABLE[species].palette


def check_species(species):
    if not isinstance(species, str) or species not in SPECIES_TABLE:
        raise ProcgenError(f"species must be one of {', '.join(SPECIES)}, got {species!r}")
