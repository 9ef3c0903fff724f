"""Tiled tilesets (.tsx, format 1.10) over one sheet image.

A grid sheet becomes an image tileset: Tiled cuts the image itself from tilewidth, tileheight, margin and
spacing (both equal to the sheet's padding), numbering tiles row by row,

    columns = (image width - 2 * margin + spacing) // (tilewidth + spacing),   likewise rows,
    tile id = row * columns + column,   tilecount = columns * rows,

so a power-of-two sheet may hold empty tiles after the sprites. A shelf sheet, whose sprites differ in
size, becomes a collection of images (columns="0") where every tile names the sheet and its own
sub-rectangle with x, y, width, height (Tiled 1.9 and later); its tile ids are the sprites' order.

Every sprite's tile carries a string property "name". Tiled allows one animation per tile, so an animation
is stored on the tile of its first frame, which also gets a property "animation" with its name.
"""

import xml.etree.ElementTree as ET

from procgen.errors import ProcgenError

FORMAT_VERSION = "1.10"


def tile_ids(sheet):
    """{frame name: Tiled tile id} and the tileset's (columns, tilecount), from the sheet's geometry."""
    if sheet.method != "grid":
        return {name: i for i, name in enumerate(sheet.frames)}, (0, len(sheet.frames))
    pad = sheet.padding
    _, _, tile_w, tile_h = next(iter(sheet.frames.values()))
    width, height = sheet.size
    columns = (width - 2 * pad + pad) // (tile_w + pad)
    rows = (height - 2 * pad + pad) // (tile_h + pad)
    ids = {
        name: ((y - pad) // (tile_h + pad)) * columns + (x - pad) // (tile_w + pad)
        for name, (x, y, _, _) in sheet.frames.items()
    }
    return ids, (columns, columns * rows)


def add_property(tile, name, value):
    """Append <property name= value=/> to the tile's <properties>, creating it first if needed."""
    properties = tile.find("properties")
    if properties is None:
        properties = ET.SubElement(tile, "properties")
    ET.SubElement(properties, "property", name=name, value=value)


def tileset(sheet, image_name, tileset_name, *, animations=None, fps=5.0):
    """The .tsx text of a tileset over `sheet`.

    image_name: the sheet PNG's file name, relative to the .tsx file.
    tileset_name: the tileset's name shown in Tiled.
    animations: {name: [frame name, ...]} already checked against the sheet, or None.
    fps: playback rate; every animation frame lasts round(1000 / fps) ms.
    """
    ids, (columns, tilecount) = tile_ids(sheet)
    width, height = sheet.size
    rects = sheet.frames.values()
    root = ET.Element("tileset", {
        "version": FORMAT_VERSION,
        "name": tileset_name,
        "tilewidth": str(max(w for _, _, w, _ in rects)),
        "tileheight": str(max(h for _, _, _, h in rects)),
        "spacing": str(sheet.padding if sheet.method == "grid" else 0),
        "margin": str(sheet.padding if sheet.method == "grid" else 0),
        "tilecount": str(tilecount),
        "columns": str(columns),
    })
    image_attributes = {"source": image_name, "width": str(width), "height": str(height)}
    if sheet.method == "grid":
        ET.SubElement(root, "image", image_attributes)
    else:
        # Tiled writes this for image collections: one grid cell per tile when shown in the tileset view.
        ET.SubElement(root, "grid", orientation="orthogonal", width="1", height="1")

    tiles = {}
    for name, (x, y, w, h) in sheet.frames.items():
        attributes = {"id": str(ids[name])}
        if sheet.method != "grid":
            attributes.update(x=str(x), y=str(y), width=str(w), height=str(h))
        tiles[name] = ET.SubElement(root, "tile", attributes)
        add_property(tiles[name], "name", name)

    owner = {}
    duration = str(round(1000 / fps))
    for anim_name, frames in (animations or {}).items():
        first = frames[0]
        if first in owner:
            raise ProcgenError(
                f"Tiled allows one animation per tile, and animations {owner[first]!r} and {anim_name!r} both "
                f"start with sprite {first!r}; start them on different sprites or leave 'tiled' out of formats"
            )
        owner[first] = anim_name
        add_property(tiles[first], "animation", anim_name)
    # Tiled's own files keep a tile's children in this order: properties, image, animation.
    for name, tile in tiles.items():
        if sheet.method != "grid":
            ET.SubElement(tile, "image", image_attributes)
        if name in owner:
            animation = ET.SubElement(tile, "animation")
            for frame in animations[owner[name]]:
                ET.SubElement(animation, "frame", tileid=str(ids[frame]), duration=duration)

    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
