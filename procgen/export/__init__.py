"""Writers for what game engines import: sheets, TexturePacker JSON, Godot .tres, Tiled .tsx.

    export_sheet(sprites, out_dir, name="sheet") writes into out_dir
        sheet.png    the packed RGBA sheet (always)
        sheet.json   TexturePacker JSON, Hash or Array layout    (format "texturepacker")
        sheet.tres   Godot 4 SpriteFrames of AtlasTextures        (format "godot")
        sheet.tsx    Tiled tileset                                (format "tiled")

Each file's layout is described in its writer's module: packer, texturepacker, godot, tiled.
`install_addon` (godot_addon) copies the Godot editor plugin shipped in procgen/addons/procgen.
"""

import io
import json
from pathlib import Path

from PIL import Image

from procgen.errors import ProcgenError
from procgen.export import godot, texturepacker, tiled
from procgen.export.atomic import write_bytes, write_text
from procgen.export.godot_addon import install_addon
from procgen.export.names import check_animations, check_name
from procgen.export.packer import Sheet, pack

FORMATS = ("texturepacker", "godot", "tiled")
SUFFIXES = {"texturepacker": ".json", "godot": ".tres", "tiled": ".tsx"}

__all__ = ["FORMATS", "Sheet", "export_sheet", "install_addon", "pack"]


def check_out_dir(out_dir, force):
    """Refuse an out_dir that is a file, or a folder that already holds anything, unless force is set."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ProcgenError(f"out_dir {str(out_dir)!r} must be a folder; found a file")
    entries = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    if entries and not force:
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise ProcgenError(
            f"out_dir {str(out_dir)!r} must be empty or new; found {len(entries)} entries ({shown}). "
            "Pass force=True to write into it (files of the same name are replaced, others left alone)"
        )


def export_sheet(
    sprites,
    out_dir,
    *,
    name="sheet",
    formats=FORMATS,
    animations=None,
    force=False,
    method="grid",
    padding=1,
    power_of_two=False,
    max_width=2048,
    fps=5.0,
    json_layout="hash",
    godot_res_dir="procgen_sprites",
):
    """Pack sprites into one sheet and write the PNG with the atlas files engines import.

    sprites: list of (name, rgba), rgba a (H, W, 4) uint8 array; names unique, no '/', '\\' or '..'.
    out_dir: folder to write into; created if missing. A folder that already holds anything is refused
        unless force=True, and then only the files written here are replaced.
    name: the files' stem (<name>.png, <name>.json, ...), also the Tiled tileset's name.
    formats: any of "texturepacker", "godot", "tiled" (a single str is one format); the PNG is always written.
    animations: {animation name: [sprite name, ...] in play order} or None.
    method, padding, power_of_two, max_width: how the sheet is packed (see packer.pack).
    fps: animation rate: Godot's "speed", and round(1000 / fps) ms per frame in JSON and Tiled.
    json_layout: "hash" (PixiJS, Phaser) or "array" (Phaser, Aseprite readers) for TexturePacker JSON.
    godot_res_dir: the folder of the PNG inside the Godot project, giving res://<godot_res_dir>/<name>.png.
    Returns {"png": path, and one path per format written}.

    Everything is checked and rendered before the first file is written, so a refused call writes nothing.
    """
    check_name(name, "sheet name")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ProcgenError(f"formats must be drawn from {FORMATS}; found {fmt!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise ProcgenError(f"fps must be a number > 0; found {fps!r}")
    out_dir = Path(out_dir)
    sheet = pack(sprites, method=method, padding=padding, power_of_two=power_of_two, max_width=max_width)
    animations = check_animations(animations, list(sheet.frames))

    image_name = f"{name}.png"
    texts = {}
    if "texturepacker" in formats:
        document = texturepacker.atlas(sheet, image_name, layout=json_layout, animations=animations, fps=fps)
        texts["texturepacker"] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if "godot" in formats:
        texture_path = godot.res_path(godot_res_dir, image_name)
        texts["godot"] = godot.sprite_frames(sheet, texture_path, animations=animations, fps=fps)
    if "tiled" in formats:
        texts["tiled"] = tiled.tileset(sheet, image_name, name, animations=animations, fps=fps)
    png = io.BytesIO()
    Image.fromarray(sheet.image).save(png, format="PNG")

    check_out_dir(out_dir, force)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"png": write_bytes(out_dir / image_name, png.getvalue())}
    for fmt, text in texts.items():
        written[fmt] = write_text(out_dir / f"{name}{SUFFIXES[fmt]}", text)
    return written
