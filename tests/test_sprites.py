"""procgen.sprites and procgen.palettes: alpha, palette mapping, outline ring, mirror, upscale, .gpl parsing."""

import numpy as np
import pytest
from PIL import Image

from procgen.errors import PaletteError, ProcgenError
from procgen.palettes import (
    BUILTIN_PALETTES,
    Palette,
    builtin_palette,
    from_colors,
    get_palette,
    load_gpl,
    parse_color,
    parse_gpl,
)
from procgen.sprites import postprocess, to_pil


def blobs(n, channels=4, size=16, seed=0):
    """Random sprites: noisy colours inside random discs (some touching the border), float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = rng.uniform(0, size, (2, n, 1, 1))
    r = rng.uniform(2, size / 2, (n, 1, 1))
    inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2  # (n, size, size)
    x = rng.random((n, channels, size, size), dtype=np.float32)
    # the alpha channel, or for C = 1, 3 the brightest one, lies above 0.5 exactly inside the discs
    cue = -1 if channels in (2, 4) else 0
    if channels == 3:
        x[:, 1:] *= 0.45
    x[:, cue] = np.where(inside, rng.uniform(0.55, 1.0, inside.shape), rng.uniform(0.0, 0.45, inside.shape))
    return x, inside


# --- alpha and colour --------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_alpha_is_binary_and_follows_the_threshold(channels):
    x, inside = blobs(20, channels)
    out = postprocess(x)
    assert out.dtype == np.uint8 and out.shape == (20, 16, 16, 4)
    assert set(np.unique(out[..., 3])) <= {0, 255}
    assert np.array_equal(out[..., 3] == 255, inside)
    assert not out[~inside].any()  # transparent pixels are (0, 0, 0, 0)


def test_threshold_is_strict_and_configurable():
    x = np.zeros((1, 4, 1, 3), dtype=np.float64)
    x[0, 3, 0] = [0.5, 0.5000001, 0.8]
    assert postprocess(x)[0, 0, :, 3].tolist() == [0, 255, 255]
    assert postprocess(x, alpha_threshold=0.7)[0, 0, :, 3].tolist() == [0, 0, 255]


def test_colours_are_rounded_half_up_to_bytes():
    levels = np.arange(256) / 255.0
    x = np.ones((1, 4, 1, 256))
    x[0, :3, 0] = levels
    assert np.array_equal(postprocess(x)[0, 0, :, 0], np.arange(256))
    x[0, 0, 0, :3] = [0.5 / 255, 0.49 / 255, 254.6 / 255]
    assert postprocess(x)[0, 0, :3, 0].tolist() == [1, 0, 255]


def test_gray_models_use_intensity_as_alpha_and_replicate_it():
    x = np.array([[[[0.0, 0.3, 0.6, 1.0]]]])  # (1, 1, 1, 4)
    out = postprocess(x)[0, 0]
    assert out.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [153, 153, 153, 255], [255, 255, 255, 255]]


def test_rgb_models_use_the_brightest_channel_as_alpha():
    x = np.zeros((1, 3, 1, 2))
    x[0, 2, 0, 0] = 0.9  # only blue is bright
    assert postprocess(x)[0, 0, :, 3].tolist() == [255, 0]


@pytest.mark.parametrize("channels", [1, 4])
def test_uint8_bytes_give_the_same_sprites_as_their_floats(channels):
    x, _ = blobs(40, channels)
    data = (x * 255 + 0.5).astype(np.uint8)
    data[0, -1, 0, :3] = [127, 128, 102]  # alpha at both sides of the thresholds 0.5 and 0.4
    for options in (dict(palette="forest", outline="#000000", mirror=True), dict(alpha_threshold=0.4)):
        assert np.array_equal(postprocess(data, **options), postprocess(data / np.float32(255), **options))


def test_chunked_batches_equal_sprites_processed_one_by_one():
    x, _ = blobs(600, size=8)  # more than one chunk of 256
    options = dict(palette="pico8", outline="#ff0000", mirror=True, scale=2)
    whole = postprocess(x, **options)
    single = np.concatenate([postprocess(x[i : i + 1], **options) for i in range(len(x))])
    assert np.array_equal(whole, single)


# --- outline ---------------------------------------------------------------------------------------


def ring_by_loops(opaque):
    """The naive twin: a transparent pixel with an opaque up/down/left/right neighbour inside the frame."""
    h, w = opaque.shape
    ring = np.zeros_like(opaque)
    for i in range(h):
        for j in range(w):
            neighbours = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
            near = any(0 <= a < h and 0 <= b < w and opaque[a, b] for a, b in neighbours)
            ring[i, j] = near and not opaque[i, j]
    return ring


def test_outline_is_exactly_the_4_neighbour_ring():
    x, inside = blobs(12)
    out = postprocess(x, outline=(10, 20, 30))
    for sprite, opaque in zip(out, inside):
        ring = ring_by_loops(opaque)
        assert ring.any()
        assert np.array_equal(sprite[..., 3] == 255, opaque | ring)
        assert np.all(sprite[ring] == [10, 20, 30, 255])


def test_outline_leaves_the_sprite_itself_alone():
    x, inside = blobs(12)
    plain, outlined = postprocess(x), postprocess(x, outline="#000000")
    assert np.array_equal(plain[inside], outlined[inside])


def test_a_single_pixel_gets_a_plus_shaped_outline_without_diagonals():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    alpha = postprocess(x, outline="#102030")[0, ..., 3] // 255
    expected = np.array([[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]])
    assert np.array_equal(alpha, expected)


# --- palettes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_PALETTES)
@pytest.mark.parametrize("match", ["rgb", "luma"])
def test_palette_output_uses_only_palette_colours(name, match):
    x, inside = blobs(30)
    out = postprocess(x, palette=name, match=match)
    colours = {tuple(c) for c in builtin_palette(name).colors}
    assert {tuple(c) for c in out[inside][:, :3]} <= colours
    assert np.all(out[~inside] == 0)


def test_palette_colours_map_to_themselves():
    for name in BUILTIN_PALETTES:
        colors = builtin_palette(name).colors
        x = np.ones((1, 4, 1, len(colors)))
        x[0, :3, 0] = colors.T / 255.0
        assert np.array_equal(postprocess(x, palette=name)[0, 0, :, :3], colors)


def test_rgb_table_is_the_exact_nearest_colour_of_each_cell_centre():
    palette = builtin_palette("procgen32")
    centres = 4 * np.arange(64) + 1.5
    cells = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), axis=-1).reshape(-1, 3)
    distances = ((cells[:, None, :] - palette.colors[None, :, :].astype(float)) ** 2).sum(-1)
    assert np.array_equal(palette.rgb_table, np.argmin(distances, axis=1))


def test_rgb_mapping_is_within_the_cell_bound_of_the_exact_nearest_colour():
    # |p - chosen| <= |p - exact| + 2 |p - cell centre| <= |p - exact| + 2 * 1.5 * sqrt(3)
    palette = builtin_palette("pico8")
    pixels = np.random.default_rng(1).integers(0, 256, (20_000, 3)).astype(np.uint8)
    colors = palette.colors.astype(float)
    exact = np.sqrt(((pixels[:, None, :] - colors[None]) ** 2).sum(-1)).min(axis=1)
    chosen = np.sqrt(((pixels - palette.map_rgb(pixels).astype(float)) ** 2).sum(-1))
    assert np.all(chosen <= exact + 3 * np.sqrt(3) + 1e-9)
    assert np.mean(chosen == exact) > 0.95  # only pixels near a boundary between two colours differ


def test_gray_sprites_map_by_luma_onto_a_dark_to_light_ramp():
    x = np.linspace(0.51, 1.0, 50).reshape(1, 1, 1, 50)
    out = postprocess(x, palette="gameboy")[0, 0, :, :3]
    index = [np.flatnonzero((builtin_palette("gameboy").colors == c).all(1))[0] for c in out]
    assert np.all(np.diff(index) >= 0) and index[0] < index[-1]  # gameboy.gpl is ordered darkest first


def test_rgb_sprites_can_be_matched_by_luma():
    x = np.ones((1, 4, 1, 2))
    x[0, :3, 0, 0] = [1.0, 0.0, 0.0]  # red, luma 76: nearest gameboy luma is 'dark' (48, 98, 48)
    x[0, :3, 0, 1] = [0.0, 1.0, 0.0]  # green, luma 150: 'light' (139, 172, 15)
    out = postprocess(x, palette="gameboy", match="luma")[0, 0, :, :3]
    assert out.tolist() == [[48, 98, 48], [139, 172, 15]]


# --- mirror and upscale --------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [7, 8])
def test_mirror_reflects_the_left_side_onto_the_right_about_the_centre_column(width):
    x = blobs(10, size=8)[0][..., :width]
    centre = width // 2
    k = np.arange(1, width - centre)
    plain, mirrored = postprocess(x), postprocess(x, mirror=True)
    first = 1 if width % 2 == 0 else 0  # an even width clears column 0, which has no partner
    assert not mirrored[:, :, :first].any()
    assert np.array_equal(mirrored[:, :, first : centre + 1], plain[:, :, first : centre + 1])
    assert np.array_equal(mirrored[:, :, centre + k], mirrored[:, :, centre - k])
    outlined = postprocess(x, mirror=True, outline="#000000")  # the outline follows the mirrored shape
    assert np.array_equal(outlined[:, :, centre + k], outlined[:, :, centre - k])


@pytest.mark.parametrize("scale", [2, 3])
def test_upscaling_repeats_each_pixel_into_a_block(scale):
    x, _ = blobs(5)
    small, big = postprocess(x, outline="#ffffff"), postprocess(x, outline="#ffffff", scale=scale)
    assert big.shape == (5, 16 * scale, 16 * scale, 4)
    assert np.array_equal(big, np.repeat(np.repeat(small, scale, axis=1), scale, axis=2))
    assert np.array_equal(big[:, ::scale, ::scale], small)


def test_postprocess_is_deterministic_and_leaves_its_input_alone():
    x, _ = blobs(10)
    before = x.copy()
    a = postprocess(x, palette="forest", outline="#000000", mirror=True)
    assert np.array_equal(x, before)
    assert np.array_equal(a, postprocess(x, palette="forest", outline="#000000", mirror=True))


def test_to_pil_gives_an_rgba_image_with_the_same_pixels():
    sprite = postprocess(blobs(1)[0], scale=2)[0]
    image = to_pil(sprite)
    assert image.mode == "RGBA" and image.size == (32, 32)
    assert np.array_equal(np.asarray(image), sprite)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: postprocess(np.zeros((4, 4, 4))), r"\(N, C, H, W\) array"),
        (lambda: postprocess(np.zeros((1, 5, 4, 4))), "C in 1..4"),
        (lambda: postprocess(np.zeros((1, 4, 4, 4), dtype=np.int16)), "float array in \\[0, 1\\] or uint8"),
        (lambda: postprocess(np.full((1, 4, 2, 2), np.nan)), "finite and in"),
        (lambda: postprocess(np.full((1, 4, 2, 2), 1.5)), r"in \[0, 1\]"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), scale=0), "scale must be an int >= 1"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), scale=1.5), "scale must be an int >= 1"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), alpha_threshold=1.0), "alpha_threshold"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), match="hsv"), "match must be"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), outline="black"), "outline must be a hex colour"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), outline=(0, 0, 256)), "outline must be"),
        (lambda: postprocess(np.zeros((1, 4, 2, 2)), palette="nes"), "palette must be one of pico8"),
        (lambda: to_pil(np.zeros((4, 4, 3), dtype=np.uint8)), r"\(H, W, 4\) uint8"),
        (lambda: to_pil(np.zeros((4, 4, 4))), r"\(H, W, 4\) uint8"),
    ],
)
def test_bad_arguments_raise_a_procgen_error_naming_them(call, fragment):
    with pytest.raises(ProcgenError, match=fragment):
        call()


# --- palette sources ---------------------------------------------------------------------------------


def test_builtin_palettes_load_with_their_sizes():
    sizes = {name: len(builtin_palette(name).colors) for name in BUILTIN_PALETTES}
    assert sizes == {"pico8": 16, "gameboy": 4, "forest": 16, "procgen32": 32}
    assert builtin_palette("pico8").colors[[0, 8, 15]].tolist() == [[0, 0, 0], [255, 0, 77], [255, 204, 170]]


def test_colours_from_hex_strings_and_int_triples():
    assert parse_color("#0a0B0c").tolist() == [10, 11, 12]
    assert parse_color("ff0000").tolist() == [255, 0, 0]
    assert from_colors("#000000, #ffffff").colors.tolist() == [[0, 0, 0], [255, 255, 255]]
    assert get_palette(["#102030", (1, 2, 3)]).colors.tolist() == [[16, 32, 48], [1, 2, 3]]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: from_colors(["#000000", "#12345"]), "entry 2 of palette 'custom' must be a hex colour"),
        (lambda: from_colors([]), "at least one colour"),
        (lambda: get_palette(3), "got int"),
        (lambda: Palette("p", np.zeros((65, 3), dtype=int)), "1 <= K <= 64"),
        (lambda: Palette("p", [[0.5, 0, 0]]), "must be ints"),
    ],
)
def test_bad_colours_raise_a_palette_error(call, fragment):
    with pytest.raises(PaletteError, match=fragment):
        call()


VALID_GPL = """\ufeffGIMP Palette\r
Name: Two greens\r
Columns: 2\r
# a comment\r
\r
 15  56  15\tdarkest green\r
155 188 15\r
"""


def test_gpl_parser_reads_headers_comments_names_crlf_and_bom(tmp_path):
    palette = parse_gpl(VALID_GPL)
    assert palette.name == "Two greens"
    assert palette.colors.tolist() == [[15, 56, 15], [155, 188, 15]]
    path = tmp_path / "greens.gpl"
    path.write_text("GIMP Palette\n0 0 0\n255 255 255 white\n", encoding="utf-8")
    loaded = get_palette(str(path))
    assert loaded.name == "greens" and len(loaded.colors) == 2
    out = postprocess(np.ones((1, 4, 1, 1)), palette=load_gpl(path))
    assert out[0, 0, 0].tolist() == [255, 255, 255, 255]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "line 1: expected 'GIMP Palette', found 'an empty file'"),
        ("JASC-PAL\n0 0 0\n", "line 1: expected 'GIMP Palette', found 'JASC-PAL'"),
        ("GIMP Palette\n0 0\n", "line 2: expected 'R G B \\[name\\]'"),
        ("GIMP Palette\n0 0 256\n", "line 2: colour values must be 0..255"),
        ("GIMP Palette\n# only a comment\n0 -1 0\n", "line 3: expected 'R G B"),
        ("GIMP Palette\n1 2 3x\n", "line 2: expected 'R G B"),
        ("GIMP Palette\nColumns: many\n0 0 0\n", "line 2: expected 'Columns: <int>'"),
        ("GIMP Palette\n0 0 0\nName: late\n", "line 3: .*headers go before the first colour"),
        ("GIMP Palette\nName: empty\n", "expected at least one colour row"),
        ("GIMP Palette\n" + "1 2 3\n" * 65, "line 66: colour 65, '1 2 3'; a palette holds at most 64"),
    ],
)
def test_gpl_parser_rejects_broken_files_naming_the_line(text, fragment):
    with pytest.raises(PaletteError, match=fragment):
        parse_gpl(text, source="broken.gpl")


def test_gpl_loader_rejects_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(PaletteError, match="does not exist"):
        load_gpl(tmp_path / "nope.gpl")
    path = tmp_path / "latin1.gpl"
    path.write_bytes("GIMP Palette\nName: caf\xe9\n0 0 0\n".encode("latin-1"))
    with pytest.raises(PaletteError, match="is not UTF-8"):
        load_gpl(path)


def test_pil_round_trip_of_a_palette_sprite_keeps_binary_alpha(tmp_path):
    sprite = postprocess(blobs(1)[0], palette="pico8", outline="#000000")[0]
    to_pil(sprite).save(tmp_path / "s.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "s.png")), sprite)
