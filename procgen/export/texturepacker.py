"""TexturePacker JSON atlases, Hash and Array layouts, as Phaser 3 and PixiJS read them.

Hash layout (PixiJS and Phaser's `load.atlas`):

    {"frames": {"<name>": FRAME, ...}, "animations": {...}, "meta": META}

Array layout (Phaser's `load.atlas` and `load.aseprite`): "frames" is a list and every FRAME carries its
name in "filename". One FRAME, for a sprite placed untrimmed at (x, y) with size (w, h):

    {"frame": {"x", "y", "w", "h"}, "rotated": false, "trimmed": false,
     "spriteSourceSize": {"x": 0, "y": 0, "w", "h"}, "sourceSize": {"w", "h"}, "duration": ms}

"duration" is Aseprite's per-frame time in milliseconds (Phaser's createFromAseprite sums it; other readers
ignore it). META: {"app", "version", "image", "format": "RGBA8888", "size": {"w", "h"}, "scale": "1"}
("scale" is a string, as TexturePacker writes it; PixiJS parses it with parseFloat).

With animations, the top-level "animations" maps each name to its frame names in play order (PixiJS builds
`sheet.animations` from it), and META gains Aseprite's "frameTags": [{"name", "from", "to", "direction"}],
where from..to index the frames in their written order. A tag can only name a run of consecutive frames, so
an animation whose frames are not consecutive (forward or backward) in sheet order is listed in
"animations" only. Phaser's createFromAseprite looks frames up by the index as a name ("0", "1", ...), so it
plays these tags only for sprites named that way; for other names build Phaser animations from "animations".
"""

import procgen
from procgen.errors import ProcgenError

LAYOUTS = ("hash", "array")


def frame_entry(rect, duration_ms):
    """The FRAME record for an untrimmed, unrotated sprite at rect = (x, y, w, h)."""
    x, y, w, h = rect
    return {
        "frame": {"x": x, "y": y, "w": w, "h": h},
        "rotated": False,
        "trimmed": False,
        "spriteSourceSize": {"x": 0, "y": 0, "w": w, "h": h},
        "sourceSize": {"w": w, "h": h},
        "duration": duration_ms,
    }


def frame_tags(animations, frame_names):
    """Aseprite frameTags for the animations that are runs of consecutive frames in `frame_names` order.

    A run forward (indices i, i+1, ..., j) is {"from": i, "to": j, "direction": "forward"}; a run backward
    (j, j-1, ..., i) is {"from": i, "to": j, "direction": "reverse"}. A one-frame animation is forward.
    """
    index = {name: i for i, name in enumerate(frame_names)}
    tags = []
    for anim_name, frames in animations.items():
        indices = [index[f] for f in frames]
        steps = {b - a for a, b in zip(indices, indices[1:])}
        if steps <= {1}:
            direction = "forward"
        elif steps == {-1}:
            direction = "reverse"
        else:
            continue
        tags.append({"name": anim_name, "from": min(indices), "to": max(indices), "direction": direction})
    return tags


def atlas(sheet, image_name, *, layout="hash", animations=None, fps=5.0):
    """The TexturePacker JSON document for `sheet` as a dict, ready for json.dumps.

    image_name: the sheet PNG's file name, relative to the JSON file (META "image").
    layout: "hash" or "array" (see the module docstring).
    animations: {name: [frame name, ...]} already checked against the sheet, or None.
    fps: playback rate; every frame lasts round(1000 / fps) ms.
    """
    if layout not in LAYOUTS:
        raise ProcgenError(f"TexturePacker layout must be one of {LAYOUTS}; found {layout!r}")
    duration_ms = round(1000 / fps)
    if layout == "hash":
        frames = {name: frame_entry(rect, duration_ms) for name, rect in sheet.frames.items()}
    else:
        frames = [{"filename": name, **frame_entry(rect, duration_ms)} for name, rect in sheet.frames.items()]
    width, height = sheet.size
    meta = {
        "app": "procgen",
        "version": procgen.__version__,
        "image": image_name,
        "format": "RGBA8888",
        "size": {"w": width, "h": height},
        "scale": "1",
    }
    document = {"frames": frames}
    if animations:
        document["animations"] = {name: list(played) for name, played in animations.items()}
        meta["frameTags"] = frame_tags(animations, list(sheet.frames))
    document["meta"] = meta
    return document
