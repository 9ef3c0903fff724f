"""``procgen sheet`` and ``procgen godot-addon`` through the real entry point: the files written are parsed back
(rectangles inside the image, unique names, animations in play order, Godot ids that resolve, Tiled tile ids
that exist), the animated frames hold the keyed sprites, and bad input exits 2 writing nothing."""

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from test_animation import tiny_model

from procgen.cli import main
from procgen.sampler import SpriteSampler


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model") / "tiny.npz")


def run(argv, capsys):
    """(exit status, stdout, stderr) of ``procgen argv``, argparse's own exits included."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def png(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def read_tree(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- parsing the three atlas formats back --------------------------------------------------------


def texturepacker_frames(path):
    """{name: (x, y, w, h)} in file order, the animations and the frameTags of a Hash-layout JSON atlas."""
    document = json.loads(path.read_text())
    frames = {name: tuple(entry["frame"][k] for k in "xywh") for name, entry in document["frames"].items()}
    return frames, document.get("animations", {}), document["meta"]


def godot_animations(path):
    """{animation: [(x, y, w, h) of each frame]} of a .tres, checking that every id it uses is declared."""
    text = path.read_text()
    head = re.match(r'\[gd_resource type="SpriteFrames" load_steps=(\d+) format=3\]', text)
    assert head, text[:200]
    ext_ids = re.findall(r'\[ext_resource type="Texture2D" path="[^"]+" id="([^"]+)"\]', text)
    regions = dict(re.findall(r'\[sub_resource type="AtlasTexture" id="([^"]+)"\]\natlas = ExtResource\("'
                              + re.escape(ext_ids[0]) + r'"\)\nregion = Rect2\(([\d, ]+)\)', text))
    assert int(head.group(1)) == len(ext_ids) + len(regions) + 1  # load_steps counts every resource
    assert len(set(re.findall(r'ExtResource\("([^"]+)"\)', text)) - set(ext_ids)) == 0
    used = re.findall(r'SubResource\("([^"]+)"\)', text)
    assert set(used) <= set(regions), set(used) - set(regions)
    animations = {}
    for body, name in re.findall(r'"frames": \[(.*?)\],\n"loop": true,\n"name": &"([^"]+)"', text, re.S):
        animations[name] = [tuple(int(v) for v in regions[i].split(", ")) for i in
                            re.findall(r'SubResource\("([^"]+)"\)', body)]
    return animations


def tiled_animations(path):
    """({tile id: name}, {animation: [frame tile ids]}, tilecount) of an image tileset, checked against its grid."""
    root = ET.parse(path).getroot()
    image = root.find("image")
    columns, margin, spacing = (int(root.get(k)) for k in ("columns", "margin", "spacing"))
    tile_w = int(root.get("tilewidth"))
    assert columns == (int(image.get("width")) - 2 * margin + spacing) // (tile_w + spacing)
    names, animations = {}, {}
    for tile in root.findall("tile"):
        properties = {p.get("name"): p.get("value") for p in tile.find("properties")}
        names[int(tile.get("id"))] = properties["name"]
        if tile.find("animation") is not None:
            animations[properties["animation"]] = [int(f.get("tileid")) for f in tile.find("animation")]
    return names, animations, int(root.get("tilecount"))


def test_an_animated_sheet_parses_back_in_every_format(model, tmp_path, capsys):
    out = tmp_path / "sheet"
    argv = ["sheet", "--model", model, "-n", 3, "--seed", 7, "--class", "sage", "--scale", 2, "--outline",
            "--animate", 5, "--play", "pingpong", "--out", out]
    status, stdout, err = run(argv, capsys)
    assert status == 0, err
    assert "3 animations of 5 frames" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["sheet.json", "sheet.png", "sheet.tres", "sheet.tsx"]
    image = png(out / "sheet.png")
    height, width = image.shape[:2]

    frames, animations, meta = texturepacker_frames(out / "sheet.json")
    assert len(frames) == 15 and meta["size"] == {"w": width, "h": height} and meta["image"] == "sheet.png"
    for x, y, w, h in frames.values():
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height and (w, h) == (32, 32)
    cut = {name: image[y:y + h, x:x + w] for name, (x, y, w, h) in frames.items()}
    assert list(animations) == ["herbs_0000", "herbs_0001", "herbs_0002"]
    for name, played in animations.items():
        assert played == [f"{name}_{k:02d}" for k in (0, 1, 2, 3, 4, 3, 2, 1)]

    # the frames are the keyed sprites: 0 is sprite i of the plain batch, the last is sprite n + i
    keyed = SpriteSampler.load(model).sample(6, 7, "sage", scale=2, outline="#1a1c2c").sprites
    for i in range(3):
        assert np.array_equal(cut[f"herbs_{i:04d}_00"], keyed[i])
        assert np.array_equal(cut[f"herbs_{i:04d}_04"], keyed[3 + i])
        assert not np.array_equal(cut[f"herbs_{i:04d}_02"], keyed[i])

    godot = godot_animations(out / "sheet.tres")
    assert {name: [frames[f] for f in played] for name, played in animations.items()} == godot
    assert 'path="res://procgen_sprites/sheet.png"' in (out / "sheet.tres").read_text()

    names, tiled, tilecount = tiled_animations(out / "sheet.tsx")
    assert sorted(names.values()) == sorted(frames) and max(names) < tilecount
    ids = {name: tile for tile, name in names.items()}
    assert tiled == {name: [ids[f] for f in played] for name, played in animations.items()}


def test_loop_animations_get_aseprite_frame_tags(model, tmp_path, capsys):
    out = tmp_path / "loop"
    status, _, err = run(["sheet", "--model", model, "-n", 2, "--animate", 3, "--play", "loop", "--path", "lerp",
                          "--format", "texturepacker", "--name", "herbs", "--fps", 12, "--out", out], capsys)
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["herbs.json", "herbs.png"]
    frames, animations, meta = texturepacker_frames(out / "herbs.json")
    order = list(frames)
    assert meta["frameTags"] == [{"name": name, "from": order.index(played[0]), "to": order.index(played[-1]),
                                  "direction": "forward"} for name, played in animations.items()]
    assert [order[k] for k in range(meta["frameTags"][1]["from"], meta["frameTags"][1]["to"] + 1)] == \
        ["herbs_0001_00", "herbs_0001_01", "herbs_0001_02"]
    assert json.loads((out / "herbs.json").read_text())["frames"]["herbs_0000_00"]["duration"] == 83  # 1000 / 12


def test_a_plain_sheet_is_the_sample_and_the_same_command_gives_the_same_bytes(model, tmp_path, capsys):
    argv = ["sheet", "--model", model, "-n", 5, "--seed", 3, "--format", "godot", "--godot-dir", "art/plants"]
    assert run(argv + ["--out", tmp_path / "a"], capsys)[0] == 0
    assert run(argv + ["--out", tmp_path / "b"], capsys)[0] == 0
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")
    godot = godot_animations(tmp_path / "a" / "sheet.tres")
    assert list(godot) == ["default"] and len(godot["default"]) == 5
    assert 'path="res://art/plants/sheet.png"' in (tmp_path / "a" / "sheet.tres").read_text()
    image = png(tmp_path / "a" / "sheet.png")
    keyed = SpriteSampler.load(model).sample(5, 3).sprites
    for (x, y, w, h), sprite in zip(godot["default"], keyed):
        assert np.array_equal(image[y:y + h, x:x + w], sprite)


def test_force_replaces_only_the_sheets_own_files(model, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "sheet.png").write_bytes(b"old")
    status, _, err = run(["sheet", "--model", model, "-n", 2, "--out", out], capsys)
    assert status == 2 and "must be empty or new; pass --force" in err and "usage: procgen sheet" in err
    assert (out / "sheet.png").read_bytes() == b"old"
    assert run(["sheet", "--model", model, "-n", 2, "--out", out, "--force"], capsys)[0] == 0
    assert (out / "keep.txt").read_text() == "mine" and png(out / "sheet.png").shape[2] == 4


@pytest.mark.parametrize("case", ["name with slash", "name with dots", "one frame", "bad format", "bad play",
                                  "unknown class", "missing model", "bad palette", "no out", "out is a file",
                                  "bad godot dir", "zero n"])
def test_bad_sheet_input_exits_2_naming_the_problem_and_writes_nothing(model, tmp_path, capsys, case):
    base = ["sheet", "--model", model, "-n", 2, "--out", tmp_path / "out"]
    (tmp_path / "file").write_text("x")
    argv, message = {
        "name with slash": (base + ["--name", "a/b"], "--name must not contain '/'"),
        "name with dots": (base + ["--name", "..\\up"], "must not contain"),
        "one frame": (base + ["--animate", 1], "expected a number of frames >= 2"),
        "bad format": (base + ["--format", "unity"], "invalid choice: 'unity'"),
        "bad play": (base + ["--animate", 3, "--play", "bounce"], "invalid choice: 'bounce'"),
        "unknown class": (base + ["--class", "oak"], "unknown class 'oak'"),
        "missing model": (["sheet", "--model", tmp_path / "nope.npz", "--out", tmp_path / "out"], "is neither"),
        "bad palette": (base + ["--palette", "#12"], "palette"),
        "no out": (["sheet", "--model", model], "the following arguments are required: --out"),
        "out is a file": (["sheet", "--model", model, "--out", tmp_path / "file"], "must be a folder"),
        "bad godot dir": (base + ["--godot-dir", "a/../b"], "res_dir"),
        "zero n": (base + ["-n", 0], "expected an integer >= 1, got 0"),
    }[case]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert message in err and "usage: procgen sheet" in err
    assert not (tmp_path / "out").exists()


# --- godot-addon ---------------------------------------------------------------------------------


def test_godot_addon_installs_into_a_project_and_refuses_a_folder_without_one(tmp_path, capsys):
    project = tmp_path / "game"
    project.mkdir()
    status, _, err = run(["godot-addon", "--into", project], capsys)
    assert status == 2 and "project.godot" in err and "usage: procgen godot-addon" in err
    assert not (project / "addons").exists()

    (project / "project.godot").write_text("config_version=5\n")
    status, out, err = run(["godot-addon", "--into", project], capsys)
    assert status == 0, err
    addon = project / "addons" / "procgen"
    assert "Project Settings > Plugins" in out
    assert {"plugin.cfg", "procgen_plugin.gd"} <= {p.name for p in addon.iterdir()}
    assert 'script="procgen_plugin.gd"' in (addon / "plugin.cfg").read_text()
    assert run(["godot-addon", "--into", project], capsys)[0] == 0  # the same copy again: nothing to refuse


@pytest.mark.parametrize("argv, message", [
    (["godot-addon"], "the following arguments are required: --into"),
    (["godot-addon", "--into", "nowhere/at/all"], "must be an existing Godot project folder"),
])
def test_bad_godot_addon_input_exits_2(argv, message, capsys):
    status, _, err = run(argv, capsys)
    assert status == 2 and message in err
