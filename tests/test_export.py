"""procgen.export: every written file is parsed back and checked against the rules its readers apply.

TexturePacker JSON against what Phaser 3 and PixiJS require of a frame and of meta; the Godot .tres with a
small parser of the text resource format; the Tiled .tsx with xml.etree and Tiled's own tile arithmetic.
Frame rectangles are checked against the PNG as written (its size and its pixels), never against the
writer's own numbers.
"""

import json
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from procgen.errors import ProcgenError
from procgen.export import FORMATS, export_sheet, pack
from procgen.export import atomic
from procgen.export.packer import grid_layout, shelf_layout


def sprites_of(sizes, seed=0, prefix="s"):
    """Random opaque-ish RGBA sprites named <prefix>0, <prefix>1, ... with the given (w, h) sizes."""
    rng = np.random.default_rng(seed)
    out = []
    for i, (w, h) in enumerate(sizes):
        rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
        rgba[..., 3] = rng.integers(1, 256, size=(h, w), dtype=np.uint8)  # no transparent pixel, so a misplaced crop shows
        out.append((f"{prefix}{i}", rgba))
    return out


def read_png(path):
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        return np.asarray(image)


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate JSON keys: {keys}"
    return dict(pairs)


def rects_apart(rects, gap):
    """True if no two (x, y, w, h) come closer than `gap` pixels in x or y."""
    for i, (x0, y0, w0, h0) in enumerate(rects):
        for x1, y1, w1, h1 in rects[i + 1:]:
            if x0 < x1 + w1 + gap and x1 < x0 + w0 + gap and y0 < y1 + h1 + gap and y1 < y0 + h0 + gap:
                return False
    return True


# ---------------------------------------------------------------- TexturePacker JSON, Phaser 3 / PixiJS rules


def check_texturepacker(json_path, png_path, sprites):
    """Check the atlas as Phaser's JSONHash/JSONArray parsers and PixiJS's Spritesheet read it.

    Returns {name: (x, y, w, h)} in written order.
    """
    document = json.loads(json_path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicate_keys)
    pixels = read_png(png_path)
    height, width = pixels.shape[:2]
    meta = document["meta"]
    assert meta["image"] == png_path.name
    assert meta["format"] == "RGBA8888"
    assert meta["size"] == {"w": width, "h": height}
    assert float(meta["scale"]) == 1.0 and isinstance(meta["scale"], str)
    assert meta["app"] and meta["version"]

    frames = document["frames"]
    if isinstance(frames, list):
        names = [entry["filename"] for entry in frames]
        entries = frames
    else:
        names, entries = list(frames), list(frames.values())
    assert len(names) == len(set(names))
    assert names == [name for name, _ in sprites]
    rects = {}
    for (name, rgba), entry in zip(sprites, entries):
        f = entry["frame"]
        x, y, w, h = f["x"], f["y"], f["w"], f["h"]
        assert all(isinstance(v, int) for v in (x, y, w, h))
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= width and y + h <= height, (name, f)
        assert entry["rotated"] is False and entry["trimmed"] is False
        # Untrimmed: the sprite fills its source box, so sizes must agree three ways.
        assert entry["spriteSourceSize"] == {"x": 0, "y": 0, "w": w, "h": h}
        assert entry["sourceSize"] == {"w": w, "h": h}
        assert (h, w) == rgba.shape[:2]
        np.testing.assert_array_equal(pixels[y:y + h, x:x + w], rgba, err_msg=name)
        assert entry["duration"] > 0
        rects[name] = (x, y, w, h)

    animations = document.get("animations", {})
    for frame_names in animations.values():
        assert frame_names and all(n in rects for n in frame_names)
    tags = meta.get("frameTags", [])
    assert len({t["name"] for t in tags}) == len(tags)
    for tag in tags:
        assert 0 <= tag["from"] <= tag["to"] < len(names), tag
        span = names[tag["from"]:tag["to"] + 1]
        assert tag["direction"] in ("forward", "reverse")
        played = span if tag["direction"] == "forward" else span[::-1]
        assert played == animations[tag["name"]], tag
    return rects


@pytest.mark.parametrize("layout", ["hash", "array"])
@pytest.mark.parametrize(
    "method,sizes", [("grid", [(12, 10)] * 7), ("shelf", [(5, 9), (12, 4), (7, 7), (3, 15), (9, 9), (1, 1)])]
)
def test_texturepacker_json_matches_png(tmp_path, layout, method, sizes):
    sprites = sprites_of(sizes, seed=len(sizes))
    paths = export_sheet(sprites, tmp_path / "out", method=method, json_layout=layout, formats="texturepacker")
    assert set(paths) == {"png", "texturepacker"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sheet.json", "sheet.png"]
    rects = check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    assert rects_apart(list(rects.values()), gap=1)


def test_frame_tags_cover_runs_and_skip_scattered_animations(tmp_path):
    sprites = sprites_of([(6, 6)] * 6)
    animations = {"grow": ["s1", "s2", "s3"], "wilt": ["s5", "s4"], "still": ["s0"], "mixed": ["s0", "s3", "s1"]}
    paths = export_sheet(sprites, tmp_path / "o", animations=animations, formats=["texturepacker"], json_layout="array")
    check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    document = json.loads(paths["texturepacker"].read_text())
    assert document["animations"] == animations
    assert document["meta"]["frameTags"] == [
        {"name": "grow", "from": 1, "to": 3, "direction": "forward"},
        {"name": "wilt", "from": 4, "to": 5, "direction": "reverse"},
        {"name": "still", "from": 0, "to": 0, "direction": "forward"},
    ]


def test_frame_duration_follows_fps(tmp_path):
    paths = export_sheet(sprites_of([(4, 4)] * 2), tmp_path / "o", formats="texturepacker", fps=8)
    document = json.loads(paths["texturepacker"].read_text())
    assert {f["duration"] for f in document["frames"].values()} == {125}


# ---------------------------------------------------------------- Godot 4 .tres, read by a small parser

HEADER = re.compile(r"^\[(\w+)((?:\s+\w+=(?:\"(?:[^\"\\]|\\.)*\"|[^\s\]]+))*)\]$")
ATTRIBUTE = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|[^\s\]]+)")


def parse_tres(text):
    """Split a Godot text resource into sections [(tag, {attribute: value}, body text)]; quotes stripped."""
    sections = []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            attributes = {k: v[1:-1] if v.startswith('"') else v for k, v in ATTRIBUTE.findall(match.group(2))}
            sections.append((match.group(1), attributes, []))
        else:
            assert sections, f"text before the header: {line!r}"
            sections[-1][2].append(line)
    return [(tag, attributes, "\n".join(body)) for tag, attributes, body in sections]


def godot_value(text):
    """A Godot variant literal of dicts, arrays, strings, StringNames, numbers, bools and SubResource() as Python."""
    text = re.sub(r'SubResource\("([^"]*)"\)', r'{"SubResource": "\1"}', text)
    text = text.replace('&"', '"')
    return json.loads(text)


def check_tres(tres_path, png_path, frames):
    """Check the SpriteFrames file; return its animations as [(name, [frame rect, ...], loop, speed)]."""
    sections = parse_tres(tres_path.read_text(encoding="utf-8"))
    (tag, header, _), body = sections[0], sections[1:]
    assert tag == "gd_resource" and header["type"] == "SpriteFrames" and header["format"] == "3"
    externals = {a["id"]: a for t, a, _ in body if t == "ext_resource"}
    subs = {a["id"]: (a, b) for t, a, b in body if t == "sub_resource"}
    resources = [s for s in body if s[0] == "resource"]
    assert len(externals) == sum(t == "ext_resource" for t, _, _ in body)
    assert len(subs) == sum(t == "sub_resource" for t, _, _ in body)
    assert len(resources) == 1 and [t for t, _, _ in body][-1] == "resource"
    assert int(header["load_steps"]) == len(externals) + len(subs) + 1

    text = tres_path.read_text(encoding="utf-8")
    for used in re.findall(r'ExtResource\("([^"]*)"\)', text):
        assert used in externals, used
    for used in re.findall(r'SubResource\("([^"]*)"\)', text):
        assert used in subs, used
    for attributes in externals.values():
        assert attributes["type"] == "Texture2D" and attributes["path"].startswith("res://")
        assert attributes["path"].endswith("/" + png_path.name)

    pixels = read_png(png_path)
    height, width = pixels.shape[:2]
    regions = {}
    for sub_id, (attributes, body_text) in subs.items():
        assert attributes["type"] == "AtlasTexture"
        properties = dict(line.split(" = ", 1) for line in body_text.splitlines() if line)
        assert re.fullmatch(r'ExtResource\("[^"]*"\)', properties["atlas"])
        x, y, w, h = map(int, re.fullmatch(r"Rect2\((\d+), (\d+), (\d+), (\d+)\)", properties["region"]).groups())
        assert x + w <= width and y + h <= height and w > 0 and h > 0
        regions[sub_id] = (x, y, w, h)
        assert (x, y, w, h) in frames.values()

    (_, _, resource_body), = resources
    assert resource_body.startswith("animations = ")
    animations = godot_value(resource_body[len("animations = "):])
    assert len({a["name"] for a in animations}) == len(animations)
    out = []
    for animation in animations:
        assert set(animation) == {"frames", "loop", "name", "speed"}
        assert all(frame["duration"] > 0 for frame in animation["frames"])
        rects = [regions[frame["texture"]["SubResource"]] for frame in animation["frames"]]
        out.append((animation["name"], rects, animation["loop"], animation["speed"]))
    return out


def test_godot_default_animation_plays_every_sprite_in_order(tmp_path):
    sprites = sprites_of([(9, 11)] * 5)
    paths = export_sheet(sprites, tmp_path / "o", formats=("texturepacker", "godot"))
    frames = check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    animations = check_tres(paths["godot"], paths["png"], frames)
    assert animations == [("default", list(frames.values()), True, 5.0)]
    assert 'path="res://procgen_sprites/sheet.png"' in paths["godot"].read_text()


def test_godot_one_animation_per_tag(tmp_path):
    sprites = sprites_of([(3, 8), (8, 3), (5, 5), (2, 2)])
    animations = {"sway": ["s0", "s1", "s0"], "blink": ["s3"]}
    paths = export_sheet(sprites, tmp_path / "o", method="shelf", animations=animations, formats=["texturepacker", "godot"],
                         fps=12, godot_res_dir="/assets/sprites/")
    frames = check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    parsed = check_tres(paths["godot"], paths["png"], frames)
    assert parsed == [(name, [frames[n] for n in names], True, 12.0) for name, names in animations.items()]
    assert 'path="res://assets/sprites/sheet.png"' in paths["godot"].read_text()


# ---------------------------------------------------------------- Tiled .tsx, with Tiled's tile arithmetic


def check_tsx(tsx_path, png_path, frames):
    """Check the tileset; return {sprite name: tile id} and {animation tile's name: [(frame name, ms)]}."""
    root = ET.parse(tsx_path).getroot()
    assert root.tag == "tileset"
    width, height = Image.open(png_path).size
    tile_w, tile_h = int(root.get("tilewidth")), int(root.get("tileheight"))
    tilecount, columns = int(root.get("tilecount")), int(root.get("columns"))
    tiles = root.findall("tile")
    ids = [int(t.get("id")) for t in tiles]
    assert len(ids) == len(set(ids)) and all(0 <= i < tilecount for i in ids)

    def tile_name(tile):
        (prop,) = [p for p in tile.iter("property") if p.get("name") == "name"]
        return prop.get("value")

    image = root.find("image")
    by_id = {}
    if image is not None:
        assert image.get("source") == png_path.name
        assert (int(image.get("width")), int(image.get("height"))) == (width, height)
        margin, spacing = int(root.get("margin")), int(root.get("spacing"))
        # Tiled's own formula for how many tiles an image holds.
        assert columns == (width - 2 * margin + spacing) // (tile_w + spacing)
        rows = (height - 2 * margin + spacing) // (tile_h + spacing)
        assert tilecount == columns * rows
        for tile in tiles:
            tid = int(tile.get("id"))
            column, row = tid % columns, tid // columns
            rect = (margin + column * (tile_w + spacing), margin + row * (tile_h + spacing), tile_w, tile_h)
            assert rect == frames[tile_name(tile)], tile_name(tile)
            by_id[tid] = tile_name(tile)
    else:
        assert columns == 0 and tilecount == len(tiles)
        for tile in tiles:
            (tile_image,) = tile.findall("image")
            assert tile_image.get("source") == png_path.name
            assert (int(tile_image.get("width")), int(tile_image.get("height"))) == (width, height)
            rect = tuple(int(tile.get(k)) for k in ("x", "y", "width", "height"))
            assert rect[0] + rect[2] <= width and rect[1] + rect[3] <= height
            assert rect == frames[tile_name(tile)]
            assert rect[2] <= tile_w and rect[3] <= tile_h
            by_id[int(tile.get("id"))] = tile_name(tile)
    assert sorted(by_id.values()) == sorted(frames)

    animations = {}
    for tile in tiles:
        for animation in tile.findall("animation"):
            played = [(by_id[int(f.get("tileid"))], int(f.get("duration"))) for f in animation.findall("frame")]
            assert played and all(ms > 0 for _, ms in played)
            animations[tile_name(tile)] = played
    return {v: k for k, v in by_id.items()}, animations


@pytest.mark.parametrize("power_of_two", [False, True])
@pytest.mark.parametrize("padding", [0, 1, 3])
def test_tiled_grid_tileset_cuts_every_sprite(tmp_path, power_of_two, padding):
    # Ten 8x8 sprites lay out 4 wide; a power-of-two sheet is 64 wide and Tiled sees more columns than that.
    sprites = sprites_of([(8, 8)] * 10)
    paths = export_sheet(
        sprites, tmp_path / "o", padding=padding, power_of_two=power_of_two, formats=("texturepacker", "tiled")
    )
    frames = check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    ids, animations = check_tsx(paths["tiled"], paths["png"], frames)
    assert animations == {}
    assert rects_apart(list(frames.values()), gap=padding)


def test_tiled_collection_for_mixed_sizes_with_animation(tmp_path):
    sprites = sprites_of([(4, 9), (9, 4), (6, 6), (2, 3)], seed=3)
    animations = {"bloom": ["s2", "s3", "s0"], "spin": ["s1", "s2"]}
    paths = export_sheet(sprites, tmp_path / "o", method="shelf", animations=animations, fps=4,
                         formats=("texturepacker", "tiled"))
    frames = check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    _, tiled_animations = check_tsx(paths["tiled"], paths["png"], frames)
    assert tiled_animations == {"s2": [(n, 250) for n in animations["bloom"]], "s1": [(n, 250) for n in animations["spin"]]}


def test_tiled_refuses_two_animations_on_one_tile(tmp_path):
    with pytest.raises(ProcgenError, match="one animation per tile"):
        export_sheet(sprites_of([(4, 4)] * 3), tmp_path / "o", animations={"a": ["s0", "s1"], "b": ["s0", "s2"]})
    assert not (tmp_path / "o").exists()


def test_all_formats_together_agree(tmp_path):
    sprites = sprites_of([(16, 16)] * 9)
    paths = export_sheet(sprites, tmp_path / "o", name="plants", animations={"sway": ["s0", "s1", "s2"]})
    assert set(paths) == {"png", *FORMATS}
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["plants.json", "plants.png", "plants.tres", "plants.tsx"]
    frames = check_texturepacker(paths["texturepacker"], paths["png"], sprites)
    assert check_tres(paths["godot"], paths["png"], frames) == [("sway", [frames[n] for n in ("s0", "s1", "s2")], True, 5.0)]
    assert check_tsx(paths["tiled"], paths["png"], frames)[1] == {"s0": [(n, 200) for n in ("s0", "s1", "s2")]}
    assert ET.parse(paths["tiled"]).getroot().get("name") == "plants"


# ---------------------------------------------------------------- the packer


def test_grid_layout_formula():
    positions, size = grid_layout(5, (10, 6), padding=2, max_width=1000)
    # ceil(sqrt(5)) = 3 columns, 2 rows.
    assert positions == [(2, 2), (14, 2), (26, 2), (2, 10), (14, 10)]
    assert size == (2 + 3 * 12, 2 + 2 * 8)
    positions, size = grid_layout(5, (10, 6), padding=2, max_width=30)  # only 2 columns fit in 30
    assert [p[0] for p in positions] == [2, 14, 2, 14, 2] and size == (26, 26)


def test_shelf_layout_tallest_first():
    positions, size = shelf_layout([(4, 2), (3, 5), (6, 5), (2, 3)], padding=1, max_width=12)
    # Order by height: s1 (5), s2 (5), s3 (3), s0 (2); s1 + s2 fill the first shelf (1+3+1+6+1 = 12).
    assert positions == [(4, 7), (1, 1), (5, 1), (1, 7)]
    assert size == (12, 1 + 5 + 1 + 3 + 1)


@pytest.mark.parametrize("seed", range(8))
def test_shelf_random_sizes_fit_and_keep_pixels(seed):
    rng = np.random.default_rng(seed)
    sizes = [tuple(int(v) for v in rng.integers(1, 20, size=2)) for _ in range(int(rng.integers(1, 30)))]
    sprites = sprites_of(sizes, seed=seed)
    sheet = pack(sprites, method="shelf", padding=2, max_width=48)
    height, width = sheet.image.shape[:2]
    assert width <= 48 and sheet.size == (width, height)
    rects = [sheet.frames[name] for name, _ in sprites]
    assert rects_apart(rects, gap=2)
    for (name, rgba), (x, y, w, h) in zip(sprites, rects):
        assert x >= 2 and y >= 2 and x + w + 2 <= width and y + h + 2 <= height
        np.testing.assert_array_equal(sheet.image[y:y + h, x:x + w], rgba)
    covered = sum(w * h for _, _, w, h in rects)
    assert np.count_nonzero(sheet.image[..., 3]) == covered  # everything outside the sprites stays transparent


@pytest.mark.parametrize("method", ["grid", "shelf"])
def test_pack_is_deterministic_and_power_of_two(method):
    sizes = [(7, 7)] * 11 if method == "grid" else [(3, 7), (7, 3), (5, 5)] * 4
    a = pack(sprites_of(sizes), method=method, power_of_two=True, max_width=100)
    b = pack(sprites_of(sizes), method=method, power_of_two=True, max_width=100)
    assert a.frames == b.frames and a.image.tobytes() == b.image.tobytes()
    width, height = a.size
    assert width & (width - 1) == 0 and height & (height - 1) == 0 and width <= 64  # largest power of two <= 100


def test_pack_refuses_bad_sprites():
    ok = sprites_of([(4, 4)])[0][1]
    cases = [
        ([], "at least one sprite"),
        ([("a", ok), ("a", ok)], "unique"),
        ([("a", ok.astype(np.float32))], "uint8"),
        ([("a", ok[..., :3])], r"\(H, W, 4\)"),
        ([("a", np.zeros((0, 4, 4), np.uint8))], "at least 1x1"),
        ([("a", ok.tolist())], "uint8 RGBA array"),
        (["a"], "pair"),
        ([("a", ok), ("b", np.zeros((5, 4, 4), np.uint8))], "method='shelf'"),
        ([("wide", np.zeros((4, 40, 4), np.uint8))], "'wide' is 40 px wide"),
    ]
    for sprites, message in cases:
        with pytest.raises(ProcgenError, match=message):
            pack(sprites, max_width=32)
    for kwargs in ({"method": "maxrects"}, {"padding": -1}, {"max_width": 0}):
        with pytest.raises(ProcgenError):
            pack([("a", ok)], **kwargs)


# ---------------------------------------------------------------- bad input to export_sheet


@pytest.mark.parametrize("bad", ["a/b", "a\\b", "..", "x..y", "", "tab\there", 7])
def test_names_with_path_parts_are_refused(tmp_path, bad):
    ok = sprites_of([(4, 4)])
    with pytest.raises(ProcgenError, match="name"):
        export_sheet([(bad, ok[0][1])], tmp_path / "a")
    with pytest.raises(ProcgenError, match="sheet name"):
        export_sheet(ok, tmp_path / "b", name=bad)
    with pytest.raises(ProcgenError, match="animation name"):
        export_sheet(ok, tmp_path / "c", animations={bad: ["s0"]})
    assert list(tmp_path.iterdir()) == []


def test_out_dir_with_other_files_needs_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    sprites = sprites_of([(4, 4)] * 2)
    with pytest.raises(ProcgenError, match="notes.txt"):
        export_sheet(sprites, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    export_sheet(sprites, out, force=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "sheet.json", "sheet.png", "sheet.tres", "sheet.tsx"]


def test_rewriting_own_output_needs_force(tmp_path):
    out = tmp_path / "out"
    export_sheet(sprites_of([(4, 4)] * 2, seed=1), out, formats="texturepacker")
    with pytest.raises(ProcgenError, match="force=True"):
        export_sheet(sprites_of([(4, 4)] * 2, seed=2), out, formats="texturepacker")
    assert np.array_equal(read_png(out / "sheet.png")[1:5, 1:5], sprites_of([(4, 4)], seed=1)[0][1])
    export_sheet(sprites_of([(4, 4)] * 2, seed=2), out, formats="texturepacker", force=True)
    assert np.array_equal(read_png(out / "sheet.png")[1:5, 1:5], sprites_of([(4, 4)], seed=2)[0][1])


def test_bad_arguments_write_nothing(tmp_path):
    sprites = sprites_of([(4, 4)] * 2)
    (tmp_path / "file").write_text("x")
    cases = [
        (dict(out_dir=tmp_path / "file", force=True), "must be a folder"),
        (dict(formats=("texturepacker", "unity")), "'unity'"),
        (dict(fps=0), "fps"),
        (dict(json_layout="xml"), "layout"),
        (dict(animations={"walk": ["s0", "s9"]}), "'s9'"),
        (dict(animations={"walk": []}), "at least one frame"),
        (dict(animations={"walk": "s0"}), "list frame names"),
        (dict(godot_res_dir="../outside"), "res_dir"),
    ]
    for kwargs, message in cases:
        kwargs = {"out_dir": tmp_path / "new", **kwargs}
        with pytest.raises(ProcgenError, match=message):
            export_sheet(sprites, **kwargs)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_atomic_write_leaves_old_file_when_replace_fails(tmp_path, monkeypatch):
    target = tmp_path / "sheet.json"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.json"]  # the temporary file is gone


def test_atomic_write_gives_files_the_umask_permissions_not_private_ones(tmp_path):
    old = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "sheet.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "sheet.json").stat().st_mode & 0o777 == 0o644  # mkstemp would give 0o600
