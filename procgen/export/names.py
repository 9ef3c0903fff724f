"""The names that become file names, frame keys and animation keys, and the checks they pass.

A sprite name is a frame key in every atlas and part of nothing on disk, but the sheet name is a file
name and animation names reach Godot and Tiled, so all three follow one rule: a non-empty string with
no path separator, no '..' and no control character.
"""

from procgen.errors import ProcgenError


def check_name(name, what):
    """Return `name` if it is safe as a file name or key; raise ProcgenError naming `what` otherwise.

    what: how the message calls the thing, e.g. "sprite name" or "sheet name".
    """
    if not isinstance(name, str):
        raise ProcgenError(f"{what} must be a str; found {type(name).__name__} {name!r}")
    if name == "":
        raise ProcgenError(f"{what} must be non-empty; found ''")
    for bad in ("/", "\\", ".."):
        if bad in name:
            raise ProcgenError(f"{what} must not contain {bad!r} (it could leave the output folder); found {name!r}")
    # XML 1.0 cannot hold most control characters, and none belongs in a file name.
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ProcgenError(f"{what} must not contain control characters; found {name!r}")
    return name


def check_animations(animations, frame_names):
    """Check an animation table against the frames of a sheet and return it as {name: [frame, ...]}.

    animations: {animation name: list of frame names in play order} or None (no animations);
        a frame may appear in several animations and several times in one.
    frame_names: the names of the sheet's frames.
    """
    if animations is None:
        return {}
    if not isinstance(animations, dict):
        raise ProcgenError(
            f"animations must be a dict of name -> list of frame names; found {type(animations).__name__}"
        )
    known = set(frame_names)
    checked = {}
    for anim_name, frames in animations.items():
        check_name(anim_name, "animation name")
        if isinstance(frames, str) or not hasattr(frames, "__iter__"):
            raise ProcgenError(f"animation {anim_name!r} must list frame names; found {frames!r}")
        frames = list(frames)
        if not frames:
            raise ProcgenError(f"animation {anim_name!r} must list at least one frame; found an empty list")
        for frame in frames:
            if frame not in known:
                raise ProcgenError(
                    f"animation {anim_name!r} names frame {frame!r}, which is not a sprite of the sheet "
                    f"(sprites: {', '.join(sorted(map(repr, known))[:8])}{', ...' if len(known) > 8 else ''})"
                )
        checked[anim_name] = frames
    return checked
