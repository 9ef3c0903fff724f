"""The ``procgen`` command: byte-identical reruns, a 1000-sprite run that keeps its promises, ``at``,
``train`` on a folder, and every bad input ending in exit status 2 with a message that names it."""

import json

import numpy as np
import pytest
from PIL import Image

from procgen.cli import main
from procgen.sampler import SpriteSampler
from procgen.seeding import latents_from_keys
from procgen.distance import features, ssd
from procgen.uniqueness import attempt_key


def read_tree(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def png(path):
    return np.asarray(Image.open(path).convert("RGBA"))


def run(args, capsys):
    """(exit status, stdout, stderr) of ``procgen args``, argparse's own exits included."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def test_the_same_command_twice_gives_byte_identical_files(tmp_path, capsys):
    command = ["sample", "--model", "clothing", "-n", 24, "--seed", 7, "--class", "Sneaker", "--palette", "pico8",
               "--scale", 2, "--outline"]
    assert run(command + ["--out", tmp_path / "a"], capsys)[0] == 0
    assert run(command + ["--out", tmp_path / "b"], capsys)[0] == 0
    first = read_tree(tmp_path / "a")
    assert first == read_tree(tmp_path / "b")
    assert sorted(first) == ["clothing_%04d.png" % i for i in range(24)] + ["manifest.json", "sheet.png"]
    assert png(tmp_path / "a" / "clothing_0000.png").shape == (64, 64, 4)


def test_a_1000_sprite_run_has_no_near_duplicates_and_no_copies(tmp_path, capsys):
    command = ["sample", "--model", "plants", "-n", 1000, "--seed", 3, "--raw", "--out", tmp_path]
    status, out, _ = run(command, capsys)  # --raw: the canonical sprites, which uniqueness and novelty judge
    assert status == 0 and "wrote 1000 sprites" in out
    sprites = np.stack([png(tmp_path / f"plants_{i:04d}.png") for i in range(1000)])
    f = features(sprites)
    sampler = SpriteSampler.load("plants")
    assert ssd(f, f)[np.triu_indices(1000, 1)].min() >= sampler.unique_limit
    assert ssd(f, sampler.index.vectors).min() >= sampler.novel_limit
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["stats"]["exhausted"] == 0 and len(manifest["sprites"]) == 1000
    sheet = png(tmp_path / "sheet.png")
    assert sheet.shape[0] > 32 and sheet.shape[1] > 32 and sheet[..., 3].any()


def test_manifest_keys_reproduce_the_latents(tmp_path, capsys):
    assert run(["sample", "--model", "plants", "-n", 30, "--seed", 5, "--out", tmp_path], capsys)[0] == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    rows = manifest["sprites"]
    keys = np.array([attempt_key(int(r["key"], 16), r["attempt"]) for r in rows], dtype=np.uint64)
    sampler = SpriteSampler.load("plants")
    assert np.array_equal(sampler.latents(keys), np.array([r["latent"] for r in rows], dtype=np.float32))
    eps = latents_from_keys(keys, sampler.latent_dim)  # the key's normals, in the class Gaussian, then the one-hot
    classes = [sampler.class_names.index(r["class"]) for r in rows]
    expected = sampler.class_mean[classes] + sampler.class_std[classes] * eps
    assert np.array_equal(np.array([r["latent"][:sampler.latent_dim] for r in rows], np.float32),
                          expected.astype(np.float32))
    assert {r["seed"] for r in rows} == {5} and rows[3]["file"] == "plants_0003.png"


def test_at_writes_the_cell_sprite_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "cell.png"
    command = ["at", "--model", "plants", "--world", 42, "--x", 10, "--y", -3, "--scale", 3, "--out", out]
    status, text, _ = run(command, capsys)
    assert status == 0 and "world 42 cell (10, -3)" in text
    expected = SpriteSampler.load("plants").sprite_at(42, 10, -3, scale=3)
    assert np.array_equal(png(out), expected)
    before = out.read_bytes()
    status, _, err = run(command, capsys)
    assert status == 2 and "already exists; pass --force" in err
    assert run(command + ["--force"], capsys)[0] == 0 and out.read_bytes() == before


def test_train_on_a_folder_then_sample_from_it(tmp_path, capsys):
    images = tmp_path / "sprites"
    rng = np.random.default_rng(0)
    for group in ("rocks", "shells"):
        (images / group).mkdir(parents=True)
        for i in range(6):
            rgba = np.zeros((16, 16, 4), np.uint8)
            rgba[4:12, 3 + i:10 + i] = (*rng.integers(0, 255, 3), 255)
            Image.fromarray(rgba).save(images / group / f"{i}.png")
    model = tmp_path / "mine.npz"
    command = ["train", "--images", images, "--out", model, "--epochs", 2, "--encoder", "32", "--decoder", "16,32",
               "--latent", 4, "--batch-size", 4]
    status, out, err = run(command, capsys)
    assert status == 0, err
    assert "epoch 2/2" in err and "12 images, 2 classes" in out
    assert model.is_file() and (tmp_path / "mine.novelty.npz").is_file()
    sampler = SpriteSampler.load(model)
    assert sampler.class_names == ["rocks", "shells"] and len(sampler.index) == 12
    assert run(["sample", "--model", model, "-n", 4, "--class", "shells", "--out", tmp_path / "s"], capsys)[0] == 0
    status, _, err = run(command, capsys)
    assert status == 2 and "already exists; pass --force" in err


@pytest.mark.parametrize("case", ["class", "palette", "corrupt model", "missing model", "not empty", "bad n",
                                  "no out", "outline"])
def test_bad_sample_input_exits_2_naming_the_problem(tmp_path, capsys, case):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    base = ["sample", "-n", 3, "--out", tmp_path / "out"]
    args, message = {
        "class": (base + ["--class", "palm"], "unknown class 'palm'; expected one of fern, bush"),
        "palette": (base + ["--palette", "neon"], "palette must be one of pico8"),
        "corrupt model": (base + ["--model", broken], "broken.npz"),
        "missing model": (base + ["--model", tmp_path / "nope.npz"], "is neither"),
        "not empty": (["sample", "-n", 3, "--out", tmp_path / "full"], "did not write: keep.txt; it must be new, "
                                                                         "empty or an earlier output"),
        "bad n": (["sample", "-n", "many", "--out", tmp_path / "out"], "argument -n: expected an integer >= 1, got 'many'"),
        "no out": (["sample", "-n", 3], "the following arguments are required: --out"),
        "outline": (base + ["--outline", "purple"], "outline"),
    }[case]
    status, _, err = run(args, capsys)
    assert status == 2
    assert message in err and "usage: procgen sample" in err
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("stray, message", [("notes.txt", "notes.txt: not a PNG or JPEG file"),
                                            ("bad.png", "bad.png: not a readable PNG or JPEG image")])
def test_train_refuses_a_folder_with_a_non_image(tmp_path, capsys, stray, message):
    images = tmp_path / "sprites"
    images.mkdir()
    Image.fromarray(np.zeros((8, 8, 4), np.uint8)).save(images / "ok.png")
    (images / stray).write_text("not an image")
    status, _, err = run(["train", "--images", images, "--out", tmp_path / "m.npz", "--epochs", 1], capsys)
    assert status == 2 and message in err and "usage: procgen train" in err
    assert not (tmp_path / "m.npz").exists()


def test_an_unknown_subcommand_prints_usage_and_exits_2(capsys):
    status, _, err = run(["smaple"], capsys)
    assert status == 2 and "usage: procgen" in err and "invalid choice: 'smaple'" in err
