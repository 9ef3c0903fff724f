"""A new user's first minutes with ``procgen``: the README command run twice, ``info``, ``--version``, plain
``procgen``, class names a shell can type, and palettes that fail with a message naming the bad entry."""

import json
import os
import subprocess
import sys
import threading
from importlib import metadata

import pytest

import procgen
from procgen import cli
from procgen.classes import aliases, resolve_class
from procgen.errors import PaletteError, ProcgenError
from procgen.info import describe
from procgen.palettes import from_colors, get_palette, load_gpl, parse_gpl
from tinyae import checkpoint

from test_cli_procgen import run

CLOTHING = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
OLD = 1_000_000_000 * 10**9  # an mtime in 2001, in ns: any file a run writes gets a newer one


def snapshot(folder):
    """{name: (bytes, mtime in ns)} of every entry in ``folder``."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def age(folder):
    """Give every file in ``folder`` the mtime OLD, so that a rewrite shows even within one clock tick."""
    for p in folder.iterdir():
        os.utime(p, ns=(OLD, OLD))


def leftovers(parent):
    """Temporary folders a run left beside its --out."""
    return [p.name for p in parent.iterdir() if p.name.endswith(".tmp")]


# --- the README command, twice -------------------------------------------------------------------

SAMPLE = ["sample", "--model", "clothing", "-n", 4, "--seed", 7, "--scale", 2]


def test_the_second_identical_run_is_up_to_date_and_touches_nothing(tmp_path, capsys):
    out = tmp_path / "sprites"
    assert run(SAMPLE + ["--class", "T-shirt/top", "--out", out], capsys)[0] == 0
    age(out)
    before = snapshot(out)
    assert sorted(before) == [f"clothing_{i:04d}.png" for i in range(4)] + ["manifest.json", "sheet.png"]
    status, text, err = run(SAMPLE + ["--class", "top", "--out", out], capsys)  # an alias: the same class
    assert status == 0, err
    assert "is up to date" in text and "nothing was written" in text
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_a_run_that_would_change_files_is_refused_naming_them_until_force(tmp_path, capsys):
    out, fresh = tmp_path / "sprites", tmp_path / "fresh"
    assert run(SAMPLE + ["--out", out], capsys)[0] == 0
    age(out)
    before = snapshot(out)
    changed = ["sample", "--model", "clothing", "-n", 3, "--seed", 8, "--scale", 2]
    status, _, err = run(changed + ["--out", out], capsys)
    assert status == 2 and "usage: procgen sample" in err
    assert "would change: clothing_0000.png, clothing_0001.png, clothing_0002.png, sheet.png, manifest.json " \
           "(and 1 more); pass --force" in err
    assert snapshot(out) == before

    status, text, err = run(changed + ["--out", out, "--force"], capsys)
    assert status == 0, err
    assert "wrote 3 sprites" in text
    assert run(changed + ["--out", fresh], capsys)[0] == 0
    assert {k: v[0] for k, v in snapshot(out).items()} == {k: v[0] for k, v in snapshot(fresh).items()}
    assert all(mtime > OLD for _, mtime in snapshot(out).values())  # rewritten, and clothing_0003.png is gone
    assert leftovers(tmp_path) == []


def test_a_folder_holding_a_users_file_is_refused_and_force_leaves_that_file_alone(tmp_path, capsys):
    out = tmp_path / "sprites"
    assert run(SAMPLE + ["--out", out], capsys)[0] == 0
    (out / "notes.txt").write_text("mine")
    status, _, err = run(SAMPLE + ["--out", out], capsys)
    assert status == 2 and "did not write: notes.txt;" in err and "pass --force" in err
    assert run(SAMPLE + ["--out", out, "--force"], capsys)[0] == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert len(list(out.iterdir())) == 7


def test_a_manifest_procgen_did_not_write_makes_every_file_someone_elses(tmp_path, capsys):
    out = tmp_path / "sprites"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"sprites": [{"file": "clothing_0000.png"}]}))
    (out / "clothing_0000.png").write_bytes(b"my drawing")
    status, _, err = run(SAMPLE + ["--out", out], capsys)
    assert status == 2 and "did not write: clothing_0000.png, manifest.json;" in err
    assert (out / "clothing_0000.png").read_bytes() == b"my drawing"


@pytest.mark.parametrize("existing", [False, True])
def test_a_failure_while_writing_leaves_the_folder_as_it_was_and_no_temporary(tmp_path, capsys, monkeypatch,
                                                                               existing):
    out = tmp_path / "sprites"
    if existing:
        assert run(SAMPLE + ["--out", out], capsys)[0] == 0
    before = snapshot(out) if existing else None
    calls = []

    def disk_full_at_the_third_file(fd):
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "fsync", disk_full_at_the_third_file)
    status, _, err = run(["sample", "--model", "clothing", "-n", 4, "--seed", 9, "--out", out, "--force"], capsys)
    assert status == 2 and "No space left on device; the folder was left as it was" in err
    assert len(calls) == 3
    assert (snapshot(out) if existing else out.exists()) == (before if existing else False)
    assert leftovers(tmp_path) == []


# --- info ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["plants", "clothing"])
def test_info_on_a_shipped_model_reports_what_its_checkpoint_records(model, capsys):
    spec = checkpoint.load(procgen.sampler._model_path(model))[1]
    meta = spec["training"]["procgen"]
    status, text, err = run(["info", model], capsys)
    assert status == 0, err
    lines = text.splitlines()
    assert f"  sprite size       {tuple(spec['image_shape'])}  (C, H, W)" in lines
    assert f"likelihood        {spec['likelihood']['kind']}" in text
    assert f"classes           {len(meta['class_names'])}; --class" in text
    assert all(any(line.startswith(f"    {name}") for line in lines) for name in meta["class_names"])
    for key in ("licence", "credit"):
        assert f"  {key:<18}{meta.get(key) or '(not recorded)'}" in lines
    thresholds = meta["thresholds"]
    assert f"thresholds        uniqueness {thresholds['uniqueness']}, novelty {thresholds['novelty']}" in text
    assert f"epochs {meta['settings']['epochs']}" in text
    assert f"  dataset           {meta['dataset']}" in lines
    assert f"  training images   {meta['n_training_images']}" in lines

    status, text, _ = run(["info", model, "--json"], capsys)
    facts = json.loads(text)
    assert status == 0 and facts["sprite_size"] == spec["image_shape"] and facts["kind"] == meta["kind"]
    assert [c["name"] for c in facts["classes"]] == meta["class_names"]
    assert facts["thresholds"] == thresholds and facts["settings"] == meta["settings"]
    assert facts["licence"] == meta.get("licence") and facts["style"] == meta.get("style")


def test_info_lists_the_shell_aliases_of_the_clothing_classes(capsys):
    text = run(["info", "clothing"], capsys)[1]
    assert "    T-shirt/top     t-shirt-top, t-shirt, top\n" in text
    assert "    Ankle boot      ankle-boot\n" in text
    assert "    Trouser\n" in text  # "trouser" is the name in another case: not news
    assert describe("clothing")["classes"][1] == {"name": "Trouser", "aliases": ["trouser"]}


def spec_of(tmp_path, name, training):
    """A checkpoint at tmp_path/name whose spec is the shipped plants model's with ``training`` in its place."""
    arrays, spec = checkpoint.load(procgen.sampler._model_path("plants"))
    spec = {k: v for k, v in spec.items() if k != "training"}
    if training is not None:
        spec["training"] = training
    checkpoint.save(tmp_path / name, arrays, spec)
    return tmp_path / name


def test_info_on_an_old_checkpoint_says_not_recorded_and_never_crashes(tmp_path, capsys):
    bare = spec_of(tmp_path, "bare.npz", None)
    status, text, err = run(["info", bare], capsys)
    assert status == 0, err
    for key in ("kind", "classes", "default style", "palettes", "licence", "credit", "thresholds",
                "alpha threshold", "dataset", "training images", "settings"):
        assert f"  {key:<18}(not recorded)" in text.splitlines(), key
    shape = list(checkpoint.load(bare)[1]["image_shape"])  # (K categories, 32, 32) of the shipped palette model
    assert f"sprite size       ({', '.join(map(str, shape))})" in text
    facts = json.loads(run(["info", bare, "--json"], capsys)[1])
    assert facts["classes"] is None and facts["licence"] is None and facts["sprite_size"] == shape

    odd = spec_of(tmp_path, "odd.npz", {"procgen": {"class_names": "fern", "style": "bold", "palettes": [1, 2],
                                                    "thresholds": 0.5, "settings": ["x"]}})
    status, text, err = run(["info", odd], capsys)
    assert status == 0, err
    assert "  classes           (not recorded)" in text and "  default style     bold" in text
    assert "  palettes          [1, 2]" in text and "  thresholds        0.5" in text


def test_info_shows_the_style_palettes_licence_and_credit_of_a_new_checkpoint(tmp_path, capsys):
    meta = {"kind": "herbs", "class_names": ["sage", "Wild thyme"], "thresholds": {"uniqueness": 0.05, "novelty": 0.03},
            "style": {"palette": "pico8", "outline": "#1a1c2c", "class_palettes": [["#000000", "#ffffff"],
                                                                                   ["#112233", "#445566"]]},
            "palettes": [["#0f380f", "#306230"], ["#8bac0f", "#9bbc0f"]], "licence": "CC0", "credit": "me"}
    path = spec_of(tmp_path, "new.npz", {"procgen": meta})
    lines = run(["info", path], capsys)[1].splitlines()
    for line in ["  default style     palette pico8, outline #1a1c2c", "    class palettes  2 lists of colours",
                 "      sage          #000000 #ffffff", "      Wild thyme    #112233 #445566",
                 "  palettes          2 lists of colours", "    Wild thyme      #8bac0f #9bbc0f",
                 "    Wild thyme      wild-thyme", "  licence           CC0", "  credit            me"]:
        assert line in lines, line


def test_info_of_a_missing_or_broken_model_exits_2(tmp_path, capsys):
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not a checkpoint")
    for model, message in ((tmp_path / "nope.npz", "is neither"), (tmp_path / "broken.npz", "broken.npz")):
        status, _, err = run(["info", model], capsys)
        assert status == 2 and message in err and "usage: procgen info" in err


# --- version, help, train --size -----------------------------------------------------------------


def test_version_is_the_installed_distributions_or_the_packages(capsys, monkeypatch):
    status, text, _ = run(["--version"], capsys)
    assert status == 0 and text == f"procgen {metadata.version('tinyae')}\n"

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert cli.version() == procgen.__version__


def test_python_dash_m_procgen_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "procgen", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"procgen {cli.version()}\n"


def test_plain_procgen_prints_the_help_to_stdout_and_exits_0(capsys):
    status, text, err = run([], capsys)
    assert status == 0 and err == ""
    assert text.startswith("usage: procgen") and "first steps:" in text
    assert all(f"    {command}" in text for command in ("sample", "at", "info", "train", "sheet", "godot-addon"))


@pytest.mark.parametrize("size, expected", [(None, 32), (48, 48), (40, None), ("big", None)])
def test_train_size_is_one_of_16_32_48_64(size, expected, capsys):
    parser = cli.build_parser()[0]
    argv = ["train", "--dataset", "plants", "--out", "m.npz"] + ([] if size is None else ["--size", str(size)])
    if expected is None:
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(argv)
        assert exit_.value.code == 2 and "argument --size: invalid" in capsys.readouterr().err
    else:
        assert parser.parse_args(argv).size == expected


# --- class names a shell likes -------------------------------------------------------------------


def test_the_clothing_aliases():
    assert aliases(CLOTHING) == {"t-shirt-top": "T-shirt/top", "t-shirt": "T-shirt/top", "top": "T-shirt/top",
                                 "trouser": "Trouser", "pullover": "Pullover", "dress": "Dress", "coat": "Coat",
                                 "sandal": "Sandal", "shirt": "Shirt", "sneaker": "Sneaker", "bag": "Bag",
                                 "ankle-boot": "Ankle boot"}


@pytest.mark.parametrize("text, name", [("T-shirt/top", "T-shirt/top"), ("t-shirt", "T-shirt/top"),
                                        ("TOP", "T-shirt/top"), ("t_shirt top", "T-shirt/top"),
                                        ("ankle-boot", "Ankle boot"), ("ANKLE BOOT", "Ankle boot"),
                                        ("shirt", "Shirt"), ("sneaker", "Sneaker")])
def test_resolve_class_takes_names_in_any_case_and_aliases(text, name):
    assert resolve_class(text, CLOTHING) == name


def test_an_alias_two_names_share_is_dropped_and_a_full_slug_always_wins():
    assert aliases(["T-shirt/top", "Tank/top"]) == {"t-shirt-top": "T-shirt/top", "t-shirt": "T-shirt/top",
                                                    "tank-top": "Tank/top", "tank": "Tank/top"}
    with pytest.raises(ProcgenError, match="class 'top' could mean T-shirt/top or Tank/top; expected one of"):
        resolve_class("top", ["T-shirt/top", "Tank/top"])
    assert resolve_class("top", ["T-shirt/top", "top"]) == "top"
    assert resolve_class("bag", ["Bag", "bag"]) == "bag"
    with pytest.raises(ProcgenError, match="'BAG' could mean Bag or bag"):
        resolve_class("BAG", ["Bag", "bag"])


def test_an_unknown_class_lists_the_names_and_the_aliases():
    with pytest.raises(ProcgenError) as error:
        resolve_class("hat", CLOTHING)
    assert str(error.value) == ("unknown class 'hat'; expected one of " + ", ".join(CLOTHING) +
                                " (in any case), or an alias: t-shirt-top, t-shirt, top, ankle-boot")


def test_the_cli_resolves_an_alias_to_the_same_sprite(tmp_path, capsys):
    cell = ["at", "--model", "clothing", "--world", 3, "--x", 1, "--y", 2]
    assert run(cell + ["--class", "Ankle boot", "--out", tmp_path / "a.png"], capsys)[0] == 0
    assert run(cell + ["--class", "ankle-boot", "--out", tmp_path / "b.png"], capsys)[0] == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert run(cell + ["--class", "Sneaker", "--out", tmp_path / "c.png"], capsys)[0] == 0
    assert (tmp_path / "c.png").read_bytes() != (tmp_path / "a.png").read_bytes()
    status, _, err = run(cell + ["--class", "boot", "--out", tmp_path / "d.png"], capsys)
    assert status == 2 and "unknown class 'boot'" in err and "ankle-boot" in err


# --- palettes ------------------------------------------------------------------------------------


def test_a_palette_of_65_colours_is_refused_naming_the_65th():
    colours = [f"#0000{i:02x}" for i in range(65)]
    assert len(from_colors(colours[:64]).colors) == 64
    with pytest.raises(PaletteError, match=r"has 65 colours; at most 64 are allowed \(entry 65 is '#000040'\)"):
        from_colors(colours)
    rows = "".join(f"0 0 {i}\n" for i in range(65))
    with pytest.raises(PaletteError, match="big.gpl line 67: colour 65, '0 0 64'; a palette holds at most 64"):
        parse_gpl("GIMP Palette\n# 65 blues\n" + rows, source="big.gpl")


@pytest.mark.parametrize("spec, fragment", [
    ("#000000, #12345", "entry 2 of palette 'custom' must be a hex colour '#rrggbb', six hex digits such as "
                        "'#1a2b3c', got '#12345'"),
    (["#000000", "#ffffff", "red-ish"], "entry 3 of palette 'custom' .* got 'red-ish'"),
    ([], "needs at least one colour, got none; a colour is '#rrggbb'"),
])
def test_a_bad_entry_is_named_by_position_and_text(spec, fragment):
    with pytest.raises(PaletteError, match=fragment):
        get_palette(spec)


def test_a_gpl_row_out_of_range_is_named_by_line_with_an_example_row():
    with pytest.raises(PaletteError, match=r"x.gpl line 3: colour values must be 0..255, found '300 0 0'; "
                                           r"a colour row is 'R G B \[name\]'.* such as ' 15  42  29 shadow-green'"):
        parse_gpl("GIMP Palette\n0 0 0\n300 0 0\n", source="x.gpl")


def test_a_fifo_is_refused_at_once_and_never_read(tmp_path):
    fifo = tmp_path / "pipe.gpl"
    os.mkfifo(fifo)
    errors = []

    def load():
        try:
            load_gpl(fifo)
        except PaletteError as err:
            errors.append(str(err))

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=5)
    hung = worker.is_alive()
    if hung:  # release a reader blocked in open() before failing, so the test run can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not hung and errors == [f"palette file {str(fifo)!r} must be a regular file; found a FIFO (named pipe)"]


def test_a_gpl_over_1_mib_or_a_folder_is_refused(tmp_path):
    big = tmp_path / "big.gpl"
    big.write_bytes(b"GIMP Palette\n0 0 0\n" + b"#" * (1 << 20))
    with pytest.raises(PaletteError, match=f"has {(1 << 20) + 19} bytes; a .gpl palette must be at most 1048576"):
        load_gpl(big)
    big.write_bytes(b"GIMP Palette\n0 0 0\n" + b"#" * ((1 << 20) - 19))
    assert len(load_gpl(big).colors) == 1  # exactly 1 MiB is allowed
    (tmp_path / "dir.gpl").mkdir()
    with pytest.raises(PaletteError, match="must be a regular file; found a folder"):
        load_gpl(tmp_path / "dir.gpl")


def test_a_bad_palette_on_the_command_line_exits_2_before_sampling(tmp_path, capsys):
    status, _, err = run(SAMPLE + ["--palette", "#000000,#12345", "--out", tmp_path / "out"], capsys)
    assert status == 2 and "entry 2 of palette 'custom'" in err and "'#12345'" in err
    assert not (tmp_path / "out").exists()
