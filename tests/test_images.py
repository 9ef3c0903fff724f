"""load_sprite_folder: every fitting rule on tiny hand-made images, pixel for pixel; the files it refuses and
how it names them; classes from subfolders; and the art set of examples/art_set.py, loaded at two sizes."""

import importlib.util
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from procgen import images
from procgen.errors import ProcgenError
from procgen.images import block_factor, load_sprite_folder, read_rgba, trim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def save(path, pixels, mode=None, **options):
    """Write uint8 pixels, (H, W) or (H, W, C), as an image file; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode).save(path, **options)
    return path


def art(rng, h, w):
    """Opaque (h, w, 4) pixel art in 4 colours drawn per pixel: no f x f block is uniform in practice."""
    colours = np.array([[20, 20, 30, 255], [200, 60, 70, 255], [90, 180, 80, 255], [240, 240, 250, 255]], np.uint8)
    return colours[rng.integers(0, 4, (h, w))]


def as_pixels(x):
    """(4, H, W) float in [0, 1] -> (H, W, 4) uint8, exactly (the loader divides bytes by 255)."""
    return np.round(x.transpose(1, 2, 0) * 255).astype(np.uint8)


def png_header_only(width, height):
    """A PNG of a few bytes whose IHDR declares width x height: an IDAT that is not even zlib, then IEND."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"not zlib") + chunk(b"IEND", b"")


# --- the fitting rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 32, 48])
def test_a_sprite_upscaled_by_3_is_reduced_then_scaled_by_a_whole_factor(tmp_path, size):
    sprite = art(np.random.default_rng(0), 16, 16)
    save(tmp_path / "big.png", sprite.repeat(3, axis=0).repeat(3, axis=1), "RGBA")  # 48 x 48 in 3 x 3 blocks
    x, _, _, _ = load_sprite_folder(tmp_path, size)
    k = size // 16
    np.testing.assert_array_equal(as_pixels(x[0]), sprite.repeat(k, axis=0).repeat(k, axis=1))


def test_block_factor_is_the_largest_one():
    rng = np.random.default_rng(1)
    assert block_factor(art(rng, 4, 4).repeat(6, axis=0).repeat(6, axis=1)) == 6  # not 2 or 3, which also divide
    assert block_factor(art(rng, 2, 3).repeat(4, axis=0).repeat(4, axis=1)) == 4  # 8 x 12
    assert block_factor(art(rng, 9, 6)) == 1
    upscaled = art(rng, 3, 3).repeat(2, axis=0).repeat(2, axis=1)
    upscaled[5, 5, 0] ^= 1  # one channel of one pixel off by one: no longer blocks
    assert block_factor(upscaled) == 1
    ink = np.zeros((2, 2, 4), np.uint8)
    ink[0, 0] = [0, 0, 0, 255]  # opaque black beside transparent (0, 0, 0, 0): only alpha tells them apart
    assert block_factor(ink) == 1


def test_16px_art_in_a_32_model_is_doubled_centred_and_on_the_bottom_row(tmp_path):
    sprite = art(np.random.default_rng(2), 12, 10)  # 12 tall, 10 wide
    save(tmp_path / "a.png", sprite, "RGBA")
    x, _, _, _ = load_sprite_folder(tmp_path, 32)
    expected = np.zeros((32, 32, 4), np.uint8)
    expected[8:32, 6:26] = sprite.repeat(2, axis=0).repeat(2, axis=1)  # k = min(32 // 12, 32 // 10) = 2
    np.testing.assert_array_equal(as_pixels(x[0]), expected)


def test_a_whole_factor_below_2_leaves_the_sprite_unscaled(tmp_path):
    sprite = art(np.random.default_rng(3), 20, 17)
    save(tmp_path / "a.png", sprite, "RGBA")
    x, _, _, _ = load_sprite_folder(tmp_path, 32)
    expected = np.zeros((32, 32, 4), np.uint8)
    expected[12:, 7:24] = sprite  # left (32 - 17) // 2 = 7: an odd margin leaves the extra column on the right
    np.testing.assert_array_equal(as_pixels(x[0]), expected)


def test_a_40px_image_without_blocks_is_refused_in_a_32_model(tmp_path):
    save(tmp_path / "big.png", art(np.random.default_rng(4), 40, 40), "RGBA")
    with pytest.raises(ProcgenError, match=r"1 of 1 files refused .*\n  big\.png: 40x40 px: larger than 32x32, "
                                           r"needs size 48$"):
        load_sprite_folder(tmp_path, 32)
    x, _, _, _ = load_sprite_folder(tmp_path, 48)
    assert x.shape == (1, 4, 48, 48)


def test_the_refusal_names_every_bad_file_and_loads_none(tmp_path):
    rng = np.random.default_rng(5)
    save(tmp_path / "fine.png", art(rng, 16, 16), "RGBA")
    save(tmp_path / "a" / "wide.png", art(rng, 8, 33), "RGBA")
    huge = np.zeros((70, 72, 4), np.uint8)
    huge[:, 1:71] = art(rng, 70, 70)
    save(tmp_path / "b" / "huge.png", huge, "RGBA")
    save(tmp_path / "b" / "empty.png", np.zeros((8, 8, 4)), "RGBA")
    with pytest.raises(ProcgenError) as err:
        load_sprite_folder(tmp_path, 32)
    assert str(err.value).splitlines()[1:] == [
        "  a/wide.png: 33x8 px: larger than 32x32, needs size 48",
        "  b/empty.png: 8x8 px with no opaque pixel (alpha >= 128)",
        "  b/huge.png: 72x70 px, 70x70 after trimming: larger than 32x32, more than the largest size 64",
    ]
    assert "3 of 4 files refused" in str(err.value)


def test_a_long_refusal_lists_20_files_then_says_how_many_more(tmp_path):
    rng = np.random.default_rng(6)
    for i in range(25):
        save(tmp_path / f"big{i:02d}.png", art(rng, 17, 17), "RGBA")
    with pytest.raises(ProcgenError) as err:
        load_sprite_folder(tmp_path, 16)
    lines = str(err.value).splitlines()
    assert [line.split(":")[0] for line in lines[1:21]] == [f"  big{i:02d}.png" for i in range(20)]
    assert lines[21:] == ["  and 5 more"]


def test_trimmed_to_the_opaque_pixels_with_alpha_cut_at_128(tmp_path):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (20, 24, 4)).astype(np.uint8)
    image[..., 3] = rng.integers(0, 128, (20, 24))  # transparent, with colours that must not survive
    blob = art(rng, 3, 5)
    blob[..., 3] = rng.integers(128, 256, (3, 5))  # opaque, however faint
    image[9:12, 4:9] = blob
    image[0, 23] = [255, 0, 0, 127]  # just transparent: would widen the box if it counted
    save(tmp_path / "a.png", image, "RGBA")
    x, _, _, _ = load_sprite_folder(tmp_path, 16)
    expected = np.zeros((16, 16, 4), np.uint8)
    blob[..., 3] = 255
    expected[7:, 0:15] = blob.repeat(3, axis=0).repeat(3, axis=1)  # k = min(16 // 3, 16 // 5) = 3
    np.testing.assert_array_equal(as_pixels(x[0]), expected)


def test_trim_of_an_image_without_opaque_pixels_is_empty():
    assert trim(np.zeros((4, 5, 4), np.uint8)).shape == (0, 0, 4)


def test_rgb_paletted_and_gray_images_become_rgba(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[2:6, 2:6] = [250, 200, 10]  # a black frame: no alpha, so it is kept, not trimmed
    save(tmp_path / "rgb.png", rgb)
    paletted = Image.fromarray(np.array([[0, 1, 0], [2, 1, 2]], np.uint8), "P")
    paletted.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
    paletted.save(tmp_path / "paletted.png", transparency=0)  # palette entry 0 is transparent
    save(tmp_path / "gray.png", np.full((4, 4), 77))
    x, _, _, files = load_sprite_folder(tmp_path, 16)
    assert files == ["gray.png", "paletted.png", "rgb.png"]
    np.testing.assert_array_equal(as_pixels(x[2]), np.dstack([rgb, np.full((8, 8), 255)]).repeat(2, 0).repeat(2, 1))
    # palette: the top row keeps only its middle pixel, so the box is 3 wide and 2 tall; k = 5
    red, blue, none = [255, 0, 0, 255], [0, 0, 255, 255], [0, 0, 0, 0]
    tile = np.array([[none, red, none], [blue, red, blue]], np.uint8)
    np.testing.assert_array_equal(as_pixels(x[1])[6:, 0:15], tile.repeat(5, 0).repeat(5, 1))
    np.testing.assert_array_equal(as_pixels(x[0])[:, 0:16], np.full((16, 16, 4), [77, 77, 77, 255], np.uint8))


def test_a_jpeg_loads_opaque(tmp_path):
    save(tmp_path / "photo.JPG", np.random.default_rng(15).integers(0, 256, (10, 10, 3)), format="JPEG")
    x, _, _, _ = load_sprite_folder(tmp_path, 16)
    alpha = np.zeros((16, 16), np.float32)
    alpha[6:, 3:13] = 1  # 10 x 10, lossy so without blocks, on the bottom row and centred
    np.testing.assert_array_equal(x[0, 3], alpha)


# --- what is refused before or while reading -----------------------------------------------------


def test_other_files_are_refused_by_name_and_hidden_ones_skipped(tmp_path):
    save(tmp_path / "a.png", art(np.random.default_rng(8), 4, 4), "RGBA")
    (tmp_path / "notes.txt").write_text("not a sprite")
    save(tmp_path / "sub" / "anim.gif", np.zeros((4, 4)))
    (tmp_path / ".DS_Store").write_bytes(b"macOS")
    (tmp_path / "._a.png").write_bytes(b"macOS metadata, not a PNG")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]")
    with pytest.raises(ProcgenError) as err:
        load_sprite_folder(tmp_path, 16)
    assert str(err.value).splitlines()[1:] == ["  notes.txt: not a PNG or JPEG file (.png, .jpg, .jpeg)",
                                               "  sub/anim.gif: not a PNG or JPEG file (.png, .jpg, .jpeg)"]
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "sub" / "anim.gif").unlink()
    assert load_sprite_folder(tmp_path, 16)[3] == ["a.png"]


def test_animated_and_disguised_images_are_refused(tmp_path):
    frames = [Image.new("RGBA", (4, 4), (60 * i, 0, 0, 255)) for i in range(3)]
    frames[0].save(tmp_path / "walk.png", save_all=True, append_images=frames[1:])  # an animated PNG
    frames[0].save(tmp_path / "gif.png", format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ProcgenError) as err:
        load_sprite_folder(tmp_path, 16)
    lines = str(err.value).splitlines()[1:]
    assert lines[0].startswith("  gif.png: not a readable PNG or JPEG image (cannot identify image file")
    assert lines[1] == "  walk.png: an animated image of 3 frames; save each frame as a file"


def test_links_that_lead_outside_the_folder_are_refused(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "elsewhere"
    save(root / "a.png", art(np.random.default_rng(9), 4, 4), "RGBA")
    save(outside / "b.png", art(np.random.default_rng(10), 4, 4), "RGBA")
    try:
        (root / "same.png").symlink_to(root / "a.png")
        (root / "out.png").symlink_to(outside / "b.png")
        (root / "outdir").symlink_to(outside, target_is_directory=True)
        (root / "twice").symlink_to(root, target_is_directory=True)  # a loop, were it followed
    except OSError:
        pytest.skip("this file system cannot make symbolic links")
    with pytest.raises(ProcgenError) as err:
        load_sprite_folder(root, 16)
    lines = str(err.value).splitlines()[1:]
    assert lines[0] == f"  out.png: a link that leads outside the folder, to {(outside / 'b.png').resolve()}"
    assert lines[1] == f"  outdir/: a link to a folder leads outside the folder, to {outside.resolve()}"
    assert lines[2] == f"  twice/: a link to a folder is not followed (its sprites would count twice), to " \
                       f"{root.resolve()}"
    assert len(lines) == 3  # same.png, a link to a file within the folder, is fine
    for link in ("out.png", "outdir", "twice"):
        (root / link).unlink()
    x, _, _, files = load_sprite_folder(root, 16)
    assert files == ["a.png", "same.png"] and np.array_equal(x[0], x[1])


@pytest.mark.parametrize("side", [5000, 20000])  # below and above Pillow's own bomb limit (2 x 89.5 Mpixels)
def test_a_huge_header_is_refused_before_decoding(tmp_path, side):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(side, side))
    assert path.stat().st_size < 100
    with pytest.raises(ProcgenError, match=r"\n  bomb\.png: its header declares .*more than 4096 x 4096"):
        load_sprite_folder(tmp_path, 64)  # the IDAT is not zlib: a decode would have failed with another message


def test_truncated_and_corrupt_files_are_named(tmp_path):
    save(tmp_path / "cut.png", art(np.random.default_rng(11), 30, 30), "RGBA")
    data = (tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:len(data) // 2])
    (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(12).bytes(300))
    with pytest.raises(ProcgenError) as err:
        load_sprite_folder(tmp_path, 32)
    lines = str(err.value).splitlines()[1:]
    assert len(lines) == 2
    assert lines[0].startswith("  cut.png: not a readable PNG or JPEG image (image file is truncated")
    assert lines[1].startswith("  noise.jpg: not a readable PNG or JPEG image (cannot identify image file")


def test_16_bit_images_are_refused(tmp_path):
    Image.fromarray(np.full((4, 4), 40000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(ProcgenError, match=r"deep\.png: expected 8 bits per channel \(Pillow .*\), found mode 'I;16'"):
        load_sprite_folder(tmp_path, 16)


def test_an_empty_or_missing_folder_is_refused(tmp_path):
    (tmp_path / ".hidden.png").write_bytes(b"hidden")
    with pytest.raises(ProcgenError, match="expected PNG or JPEG files .*, found none"):
        load_sprite_folder(tmp_path, 16)
    with pytest.raises(ProcgenError, match="expected a folder, found nothing"):
        load_sprite_folder(tmp_path / "missing", 16)
    with pytest.raises(ProcgenError, match="expected a folder, found a file"):
        load_sprite_folder(tmp_path / ".hidden.png", 16)


def test_too_many_files_are_refused_before_any_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_FILES", 3)
    for i in range(4):
        (tmp_path / f"{i}.png").write_bytes(b"never read")
    with pytest.raises(ProcgenError, match="holds more than 3 files"):
        load_sprite_folder(tmp_path, 16)


def test_read_rgba_binarizes_alpha_and_clears_hidden_colour(tmp_path):
    image = np.array([[[9, 8, 7, 127], [9, 8, 7, 128], [9, 8, 7, 0], [9, 8, 7, 255]]], np.uint8)
    save(tmp_path / "a.png", image, "RGBA")
    np.testing.assert_array_equal(read_rgba(tmp_path / "a.png"),
                                  [[[0, 0, 0, 0], [9, 8, 7, 255], [0, 0, 0, 0], [9, 8, 7, 255]]])


# --- classes, subsets, arguments -----------------------------------------------------------------


def test_subfolders_are_classes_and_top_files_the_class_sprite(tmp_path):
    names = ["z.png", "cats/c1.png", "cats/deep/c2.png", "dogs/d1.png"]
    for i, name in enumerate(names):
        save(tmp_path / name, np.full((2, 2, 4), [10 * i, 0, 0, 255]), "RGBA")
    x, labels, class_names, files = load_sprite_folder(tmp_path, 16)
    assert files == ["cats/c1.png", "cats/deep/c2.png", "dogs/d1.png", "z.png"]
    assert class_names == ["cats", "dogs", "sprite"]
    assert labels.tolist() == [0, 0, 1, 2] and labels.dtype == np.int64
    assert x.dtype == np.float32 and x.shape == (4, 4, 16, 16)
    assert [round(float(x[i, 0, 15, 8]) * 255) for i in range(4)] == [10, 20, 30, 0]  # each file's own colour


def test_n_draws_a_sorted_subset_by_rng(tmp_path):
    for i in range(6):
        save(tmp_path / f"k{i % 2}" / f"{i}.png", np.full((2, 2, 4), [i, 0, 0, 255]), "RGBA")
    x, labels, class_names, files = load_sprite_folder(tmp_path, 16, n=3, rng=np.random.default_rng(13))
    assert len(files) == 3 and files == sorted(files) and class_names == ["k0", "k1"]
    again = load_sprite_folder(tmp_path, 16, n=3, rng=np.random.default_rng(13))
    assert again[3] == files and np.array_equal(again[0], x)
    assert [round(float(v) * 255) for v in x[:, 0, 15, 8]] == [int(f.split("/")[1][0]) for f in files]
    assert labels.tolist() == [class_names.index(f.split("/")[0]) for f in files]
    assert len(load_sprite_folder(tmp_path, 16, n=10)[3]) == 6  # n above the count: all, no rng needed
    with pytest.raises(ProcgenError, match="n = 3 draws from 6 files: pass rng"):
        load_sprite_folder(tmp_path, 16, n=3)
    with pytest.raises(ProcgenError, match="n must be a positive integer or None, got 0"):
        load_sprite_folder(tmp_path, 16, n=0, rng=np.random.default_rng(0))


def test_size_must_be_a_model_size(tmp_path):
    with pytest.raises(ProcgenError, match=r"sprite size must be one of \(16, 32, 48, 64\), got 24"):
        load_sprite_folder(tmp_path, 24)


# --- the art set ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def art_set():
    spec = importlib.util.spec_from_file_location("example_art_set", EXAMPLES / "art_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_art_set_loads_whole_at_16_and_32(tmp_path, art_set):
    files = art_set.make_art_set(tmp_path, np.random.default_rng(14), per_class=8)
    assert len(files) == 24
    scales = [Image.open(tmp_path / f).size[0] // 16 for f in files]
    assert sorted(set(scales)) == [1, 2, 3]  # some at 16 px, some upscaled x2 and x3
    x16, labels, class_names, loaded = load_sprite_folder(tmp_path, 16)
    x32, labels32, _, _ = load_sprite_folder(tmp_path, 32)
    assert loaded == files and class_names == ["gem", "potion", "sword"]
    assert np.bincount(labels).tolist() == [8, 8, 8] and np.array_equal(labels, labels32)
    for i, name in enumerate(files):
        on_disk = trim(read_rgba(tmp_path / name))
        small, large = trim(as_pixels(x16[i])), trim(as_pixels(x32[i]))
        s, k = scales[i], large.shape[0] // small.shape[0]
        assert np.array_equal(small.repeat(s, 0).repeat(s, 1), on_disk), name  # the blocks undone exactly
        assert k >= 2 and np.array_equal(small.repeat(k, 0).repeat(k, 1), large), name
        palette = {tuple(int(c[j:j + 2], 16) for j in (1, 3, 5)) for c in art_set.PALETTES[class_names[labels[i]]]}
        colours = {tuple(p[:3]) for p in small.reshape(-1, 4) if p[3]}
        assert colours <= palette and len(colours) >= 4, name  # flat colours of the class, nothing blended


def test_the_art_set_command_refuses_a_folder_in_use_and_bad_flags(tmp_path, art_set, capsys):
    out, twin = tmp_path / "set", tmp_path / "twin"
    assert len(art_set.main(["--out", str(out), "--per-class", "2", "--seed", "3"])) == 6
    art_set.main(["--out", str(twin), "--per-class", "2", "--seed", "3"])
    made = sorted(p.relative_to(twin) for p in twin.rglob("*.png"))
    assert len(made) == 6 and all((out / f).read_bytes() == (twin / f).read_bytes() for f in made)  # seed decides
    (out / "mine.txt").write_text("the user's")
    with pytest.raises(SystemExit, match="is not empty; pass --force"):
        art_set.main(["--out", str(out), "--per-class", "1"])
    assert len(list(out.rglob("*.png"))) == 6
    assert len(art_set.main(["--out", str(out), "--per-class", "1", "--seed", "3", "--force"])) == 3
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "gem/gem_000.png", "mine.txt", "potion/potion_000.png", "sword/sword_000.png"]
    for argv in (["--out", str(out), "--bogus"], ["--out", str(out), "--per-class", "0"], []):
        with pytest.raises(SystemExit) as err:
            art_set.main(argv)
        assert err.value.code == 2
