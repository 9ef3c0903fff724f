"""Godot 4 SpriteFrames resources (.tres, text format 3) cut from one sheet with AtlasTextures.

The file, for a sheet at res://procgen_sprites/sheet.png with two sprites and no animations:

    [gd_resource type="SpriteFrames" load_steps=4 format=3]

    [ext_resource type="Texture2D" path="res://procgen_sprites/sheet.png" id="1_sheet"]

    [sub_resource type="AtlasTexture" id="AtlasTexture_0"]
    atlas = ExtResource("1_sheet")
    region = Rect2(1, 1, 32, 32)

    [sub_resource type="AtlasTexture" id="AtlasTexture_1"]
    ...

    [resource]
    animations = [{
    "frames": [{
    "duration": 1.0,
    "texture": SubResource("AtlasTexture_0")
    }, ...],
    "loop": true,
    "name": &"default",
    "speed": 5.0
    }]

load_steps counts every resource in the file: the external texture, the sub-resources and the
SpriteFrames itself. Each animation becomes one entry; without animations "default" plays every sprite in
sheet order. A frame's "duration" is relative (1.0 = one tick of "speed" frames per second). Only frames
that some animation plays get an AtlasTexture; AtlasTexture_i cuts frame i of the sheet.
"""

from procgen.errors import ProcgenError
from procgen.export.names import check_name

TEXTURE_ID = "1_sheet"


def godot_string(text):
    """`text` as a quoted Godot string literal: backslash and double quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def res_path(res_dir, image_name):
    """The res:// path of the sheet image inside a Godot project, e.g. res://procgen_sprites/sheet.png.

    res_dir: the folder under the project root, '/'-separated ("" for the root itself).
    """
    if not isinstance(res_dir, str):
        raise ProcgenError(f"Godot res_dir must be a str such as 'procgen_sprites'; found {res_dir!r}")
    parts = [part for part in res_dir.strip("/").split("/") if part]
    for part in parts:
        check_name(part, f"Godot res_dir {res_dir!r} component")
    return "res://" + "/".join([*parts, image_name])


def sprite_frames(sheet, texture_path, *, animations=None, fps=5.0, loop=True):
    """The .tres text of a SpriteFrames resource that cuts `sheet` into AtlasTextures.

    texture_path: where Godot finds the sheet PNG, e.g. "res://procgen_sprites/sheet.png".
    animations: {name: [frame name, ...]} already checked against the sheet, or None for one "default"
        animation of every sprite.
    fps: each animation's "speed" (frames per second); loop: each animation's "loop".
    """
    played = animations or {"default": list(sheet.frames)}
    index = {name: i for i, name in enumerate(sheet.frames)}
    used = sorted({index[f] for frames in played.values() for f in frames})
    rects = list(sheet.frames.values())

    lines = [f'[gd_resource type="SpriteFrames" load_steps={len(used) + 2} format=3]', ""]
    lines += [f'[ext_resource type="Texture2D" path={godot_string(texture_path)} id="{TEXTURE_ID}"]', ""]
    for i in used:
        x, y, w, h = rects[i]
        lines += [
            f'[sub_resource type="AtlasTexture" id="AtlasTexture_{i}"]',
            f'atlas = ExtResource("{TEXTURE_ID}")',
            f"region = Rect2({x}, {y}, {w}, {h})",
            "",
        ]
    entries = []
    for anim_name, frames in played.items():
        frame_list = ", ".join(
            f'{{\n"duration": 1.0,\n"texture": SubResource("AtlasTexture_{index[f]}")\n}}' for f in frames
        )
        entries.append(
            f'{{\n"frames": [{frame_list}],\n"loop": {"true" if loop else "false"},\n'
            f'"name": &{godot_string(anim_name)},\n"speed": {float(fps)!r}\n}}'
        )
    lines += ["[resource]", f"animations = [{', '.join(entries)}]", ""]
    return "\n".join(lines)
