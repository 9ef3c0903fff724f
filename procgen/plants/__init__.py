"""Plants: seeded pixel-art sprites of ten species, each drawn in its own palette of at most 7 colours.

The sprite model trained on these predicts one index per pixel into the species' palette, so a plant
is first an index image (size, size) uint8: 0 is transparent, k is ``palette[k - 1]``; the RGBA sprite
is that image looked up in the palette. A plant is made in two steps, each driven only by the
``numpy.random.Generator`` passed in:

1. Grow. The species builds a ``Sketch`` in turtle units (y up, stem base at the origin): strokes,
   polylines a fixed number of pixels wide, and bodies, filled polygons, each with a palette index.
   Five species are stochastic L-systems walked by a turtle (fern, bush, flowering, sapling,
   succulent); five are small constructions that read better than a grammar would (cactus,
   mushroom, grass, vine, tree).
2. Draw. The sketch is scaled to fit the sprite and rasterized: bodies supersampled and reduced
   to their most frequent index, strokes crisp behind them, and only the piece standing on the
   stem base kept, so every plant is one piece on the ground.

Where each idea lives:

    sketch.py     Sketch, and the polygons its parts are made of (ellipse, dome, capsule, lens, ...)
    lsystem.py    LSystem: stochastic rewriting, and the turtle walk from string to sketch
    grammars.py   the five L-system species: fern, bush, flowering, sapling, succulent
    layered.py    cactus, mushroom, tree: solids laid from shadow to highlight
    curved.py     grass, vine: blades fanning from one root, stems twining upwards
    species.py    Species and SPECIES_TABLE: each species' palette and grow function
    raster.py     sketch -> index image: 4 x 4 samples per pixel, 40% coverage, modal index, stems, one piece
    render.py     render_plant_indexed, render_plant: one plant, its arguments checked
    dataset.py    make_plant_dataset: the model's training set, species balanced and shuffled

Sizes 16, 32, 48 and 64 are supported (``SIZES``); shapes scale with the size, stroke widths are
rounded to whole pixels.
"""

from procgen.plants.dataset import make_plant_dataset
from procgen.plants.render import SIZES, render_plant, render_plant_indexed
from procgen.plants.species import SPECIES, SPECIES_TABLE, Species, species_palette

__all__ = ["SIZES", "SPECIES", "SPECIES_TABLE", "Species", "make_plant_dataset", "render_plant",
           "render_plant_indexed", "species_palette"]
