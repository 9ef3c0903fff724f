"""Pictures checked pixel by pixel: where each image, point, line and bar lands, and in which colour."""

import os

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from scipy.stats import norm

from tinyae import plots
from tinyae.errors import ShapeError
from tinyae.plots import PALETTE


def rgb(img):
    return np.asarray(img.convert("RGB")).astype(int)  # (H, W, 3)


def mask_of(img, colour, tol=0):
    """(H, W) True where the pixel is within tol of colour in every channel."""
    return np.all(np.abs(rgb(img) - np.array(colour)) <= tol, axis=2)


def blobs(mask):
    """Centroids (row, col) of the connected regions of mask, left to right."""
    labelled, count = ndimage.label(mask)
    centres = ndimage.center_of_mass(mask, labelled, range(1, count + 1))
    return sorted(centres, key=lambda rc: rc[1])


# ---------------------------------------------------------------- image_grid


def test_grid_places_image_i_at_row_i_div_ncols_col_i_mod_ncols():
    N, H, W, ncols, pad, scale = 7, 3, 4, 3, 2, 2
    codes = np.arange(N * H * W).reshape(N, 1, H, W) + 1  # a distinct byte for every pixel of every image
    img = plots.image_grid(codes / 255, ncols=ncols, scale=scale, pad=pad)
    assert img.mode == "L"
    expected = np.full((pad + 3 * (H * scale + pad), pad + ncols * (W * scale + pad)), 255)  # bg=1.0: white
    for i in range(N):
        top = pad + (i // ncols) * (H * scale + pad)
        left = pad + (i % ncols) * (W * scale + pad)
        expected[top : top + H * scale, left : left + W * scale] = np.kron(codes[i, 0], np.ones((scale, scale)))
    np.testing.assert_array_equal(np.asarray(img), expected)


def test_grid_rgb_values_rounding_and_clipping():
    x = np.zeros((2, 3, 1, 2))
    x[0, :, 0, 0] = [1.0, 0.5, 0.0]
    x[0, :, 0, 1] = [-0.3, 1.7, 0.2]  # clipped to 0 and 1
    x[1] = 0.25
    img = plots.image_grid(x, ncols=2, pad=0)
    assert img.mode == "RGB" and img.size == (4, 1)
    np.testing.assert_array_equal(np.asarray(img)[0], [[255, 128, 0], [0, 255, 51], [64, 64, 64], [64, 64, 64]])


def test_grid_default_ncols_is_ceil_sqrt_n():
    img = plots.image_grid(np.zeros((10, 1, 2, 2)), pad=0)
    assert img.size == (8, 6)  # 4 columns, 3 rows


def test_grid_colour_background_turns_gray_images_rgb():
    img = plots.image_grid(np.full((1, 1, 2, 2), 0.2), pad=1, bg=(1.0, 0.0, 0.0))
    a = np.asarray(img)
    assert img.mode == "RGB"
    np.testing.assert_array_equal(a[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(a[1:3, 1:3], np.full((2, 2, 3), 51))


def test_grid_rgba_over_checkerboard_and_kept():
    x = np.zeros((1, 4, 16, 16))
    x[0, 0] = 1.0  # red
    x[0, 3, :, :8] = 0.0  # left half transparent, right half opaque
    x[0, 3, :, 8:] = 1.0
    x[0, 3, 0, 8] = 0.5
    a = np.asarray(plots.image_grid(x, pad=0))
    assert a.shape == (16, 16, 3)
    np.testing.assert_array_equal(a[0, 0], [204, 204, 204])  # 8-pixel checker squares: 0.8 then 0.6
    np.testing.assert_array_equal(a[8, 0], [153, 153, 153])
    np.testing.assert_array_equal(a[0, 9], [255, 0, 0])
    np.testing.assert_array_equal(a[0, 8], np.rint([255 * (0.5 + 0.5 * 0.6), 255 * 0.5 * 0.6, 255 * 0.5 * 0.6]))
    kept = plots.image_grid(x, pad=1, alpha="keep")
    k = np.asarray(kept)
    assert kept.mode == "RGBA"
    np.testing.assert_array_equal(k[1, 1], [255, 0, 0, 0])
    np.testing.assert_array_equal(k[1, 9], [255, 0, 0, 128])
    np.testing.assert_array_equal(k[0, 0], [255, 255, 255, 255])  # the pad is opaque


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((3, 28, 28)), ShapeError, r"\(N, C, H, W\) with N >= 1 and C = 1, 3 or 4; got shape \(3, 28, 28\)"),
        (np.zeros((0, 1, 28, 28)), ShapeError, r"got shape \(0, 1, 28, 28\)"),
        (np.zeros((2, 2, 5, 5)), ShapeError, "got shape"),
        (np.full((1, 1, 2, 2), np.nan), ShapeError, "4 NaN or infinite"),
    ],
)
def test_grid_bad_images(images, error, message):
    with pytest.raises(error, match=message):
        plots.image_grid(images)


@pytest.mark.parametrize("kwargs", [{"scale": 0}, {"pad": -1}, {"ncols": 0}, {"scale": 1.5}, {"alpha": "x"}, {"bg": (1, 0)}])
def test_grid_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        plots.image_grid(np.zeros((2, 1, 2, 2)), **kwargs)


# ---------------------------------------------------------------- save_png


def test_save_png_round_trip_and_refuses_overwrite(tmp_path):
    img = plots.image_grid(np.random.default_rng(0).random((5, 3, 4, 4)), scale=2)
    path = tmp_path / "figs" / "deep" / "grid.png"  # parent folders are created
    plots.save_png(img, path)
    with Image.open(path) as back:
        np.testing.assert_array_equal(np.asarray(back), np.asarray(img))
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="force=True"):
        plots.save_png(plots.image_grid(np.zeros((1, 1, 2, 2))), path)
    assert path.read_bytes() == before
    plots.save_png(plots.image_grid(np.zeros((1, 1, 2, 2))), path, force=True)
    assert path.read_bytes() != before
    assert os.listdir(path.parent) == ["grid.png"]  # no temporary file left


def test_save_png_needs_an_image(tmp_path):
    with pytest.raises(TypeError, match="PIL.Image, got ndarray"):
        plots.save_png(np.zeros((2, 2)), tmp_path / "x.png")


# ---------------------------------------------------------------- row_comparison


def test_row_comparison_puts_each_row_right_of_its_label():
    # Image i of row r is filled with a colour of its own: (40 r + 10, 20 i + 10, 200).
    rows = []
    for r, label in enumerate(["clean", "noisy", "denoised"]):
        x = np.zeros((4, 3, 5, 5))
        for i in range(4):
            x[i] = (np.array([40 * r + 10, 20 * i + 10, 200]) / 255)[:, None, None]
        rows.append((label, x))
    img = plots.row_comparison(rows, scale=2, pad=2)
    a = rgb(img)
    corners = {}
    for r in range(3):
        for i in range(4):
            ys, xs = np.nonzero(mask_of(img, (40 * r + 10, 20 * i + 10, 200)))
            assert len(ys) == 100  # 5x5 pixels at scale 2
            assert ys.max() - ys.min() == 9 and xs.max() - xs.min() == 9
            corners[r, i] = (ys.min(), xs.min())
    for r in range(3):
        assert len({corners[r, i][0] for i in range(4)}) == 1  # a row is level
        assert [corners[r, i][1] for i in range(4)] == [corners[0, 0][1] + 12 * i for i in range(4)]
        label_band = a[corners[r, 0][0] : corners[r, 0][0] + 10, : corners[0, 0][1]]
        assert (label_band.sum(axis=2) < 3 * 120).any()  # dark label text left of the row
    assert corners[0, 0][0] < corners[1, 0][0] < corners[2, 0][0]


# ---------------------------------------------------------------- latent_scatter


def test_scatter_puts_each_class_colour_at_its_point_and_in_the_legend():
    z = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.0, 0.0]])
    names = ["bottom left", "top right", "top left", "bottom right", "centre"]
    img = plots.latent_scatter(z, np.arange(5), names, size=200, alpha=1.0, radius=4)
    points, legend = [], []
    for c in range(5):
        found = blobs(mask_of(img, PALETTE[c]))
        assert len(found) == 2, f"class {c}: expected its point and its legend dot, found {len(found)} blobs"
        points.append(found[0])
        legend.append(found[1])  # the legend is right of the plot
    (v0, u0), (v1, u1), (v2, u2), (v3, u3), (v4, u4) = points
    assert abs(u0 - u2) < 0.5 and abs(u1 - u3) < 0.5  # same z[0], same column
    assert abs(v0 - v3) < 0.5 and abs(v1 - v2) < 0.5  # same z[1], same row
    assert u0 < u4 < u1 and v1 < v4 < v0  # z[0] grows to the right, z[1] upwards
    assert abs(u4 - (u0 + u1) / 2) < 1 and abs(v4 - (v0 + v1) / 2) < 1  # the map is affine
    assert abs((u1 - u0) - (v0 - v1)) < 1  # equal ranges on a square plot: equal scales
    assert abs((u1 - u0) - 200 / 1.1) < 2  # the data span fills the plot less 5 % margins each side
    assert max(u for _, u in legend) - min(u for _, u in legend) < 0.5
    assert [v for v, _ in legend] == sorted(v for v, _ in legend)  # legend rows in class order
    assert min(u for _, u in legend) > u1 + 10


def test_scatter_points_are_translucent():
    img = plots.latent_scatter(np.array([[0.0, 0.0]]), size=100, alpha=0.5, radius=5)
    expected = [round((c + 255) / 2) for c in PALETTE[0]]
    assert mask_of(img, expected, tol=1).sum() >= 50


@pytest.mark.parametrize(
    "z, labels, names, error, message",
    [
        (np.zeros((4, 3)), None, None, ShapeError, r"\(N, 2\)"),
        (np.zeros((4, 2)), np.arange(3), None, ShapeError, "4 integers"),
        (np.zeros((4, 2)), np.array([0, 1, 2, 5]), ["a", "b", "c"], ValueError, r"\[0, 3\), found 0 to 5"),
        (np.zeros((30, 2)), np.arange(30), None, ValueError, "up to 20 classes, got 30"),
        (np.full((2, 2), np.inf), None, None, ShapeError, "4 NaN or infinite"),
    ],
)
def test_scatter_bad_input(z, labels, names, error, message):
    with pytest.raises(error, match=message):
        plots.latent_scatter(z, labels, names)


# ---------------------------------------------------------------- manifold


def coded_decoder(calls, n):
    """A decoder whose image k (k-th latent) is filled with the byte k + 1."""

    def decode(Z):
        calls.append(Z.copy())
        return np.broadcast_to(((np.arange(len(Z)) + 1) / 255)[:, None, None, None], (len(Z), 1, 3, 2))

    return decode


def test_manifold_decodes_the_ndtri_grid_in_reading_order():
    n = 5
    calls = []
    img = plots.manifold(coded_decoder(calls, n), n=n, axes=False)
    assert len(calls) == 1
    g = norm.ppf(np.linspace(0.05, 0.95, n))
    expected = np.array([[g[c], g[n - 1 - r]] for r in range(n) for c in range(n)])
    np.testing.assert_allclose(calls[0], expected, rtol=0, atol=1e-15)
    a = np.asarray(img)[:, :, 0]
    assert a.shape == (n * 3, n * 2)
    for r in range(n):
        for c in range(n):
            assert np.all(a[3 * r : 3 * r + 3, 2 * c : 2 * c + 2] == r * n + c + 1)


def test_manifold_other_latent_dims_are_zero_and_flat_outputs_reshape():
    n = 4
    calls = []

    def decode(Z):
        calls.append(Z)
        return np.full((len(Z), 12), 0.5)  # a dense decoder: (M, C*H*W)

    img = plots.manifold(decode, n=n, image_shape=(3, 2, 2), latent_dim=5, dims=(3, 1), axes=False)
    Z = calls[0]
    g = norm.ppf(np.linspace(0.05, 0.95, n))
    assert Z.shape == (n * n, 5)
    np.testing.assert_array_equal(Z[:, [0, 2, 4]], 0)
    np.testing.assert_allclose(Z[:, 3], np.tile(g, n), atol=1e-15)
    np.testing.assert_allclose(Z[:, 1], np.repeat(g[::-1], n), atol=1e-15)
    assert img.size == (8, 8)


def test_manifold_with_axes_contains_the_bare_grid():
    n = 5
    bare = np.asarray(plots.manifold(coded_decoder([], n), n=n, scale=4, axes=False))
    framed = np.asarray(plots.manifold(coded_decoder([], n), n=n, scale=4, title="manifold"))
    ys, xs = np.nonzero(framed[:, :, 0] <= n * n)  # grid bytes 1..25; text and frame (34 and up) are lighter
    top, left = ys.min(), xs.min()
    assert (ys.max() - top + 1, xs.max() - left + 1) == bare.shape[:2]
    np.testing.assert_array_equal(framed[top : top + bare.shape[0], left : left + bare.shape[1]], bare)
    assert framed.shape[0] > bare.shape[0] + 40 and framed.shape[1] > bare.shape[1] + 40  # room for labels


def test_manifold_bad_arguments():
    with pytest.raises(ValueError, match=r"dims must be two different latent dimensions in \[0, 2\)"):
        plots.manifold(coded_decoder([], 3), n=3, dims=(0, 2))
    with pytest.raises(ShapeError, match="returned 4 images for 9 latents"):
        plots.manifold(lambda Z: np.zeros((4, 1, 2, 2)), n=3)


# ---------------------------------------------------------------- loss_curves


def line_rows(img, colour):
    """{column: mean row} of the pixels close to colour (the anti-aliased core of a 2-pixel line)."""
    ys, xs = np.nonzero(mask_of(img, colour, tol=40))
    return {x: ys[xs == x].mean() for x in np.unique(xs)}


def straightness(rows):
    """Largest distance in pixels of the line's points from their least-squares straight line."""
    xs = np.array(sorted(rows), dtype=float)
    ys = np.array([rows[x] for x in sorted(rows)])
    fit = np.polyval(np.polyfit(xs, ys, 1), xs)
    return np.abs(ys - fit).max()


def test_loss_curves_draw_each_series_where_its_values_are():
    falling = np.linspace(1.0, 0.1, 10)
    img = plots.loss_curves({"falling": falling, "flat": [0.55] * 10}, legend=False)
    a_rows, b_rows = line_rows(img, PALETTE[0]), line_rows(img, PALETTE[1])
    assert straightness(a_rows) < 1.5 and straightness(b_rows) < 1.5
    a_cols = sorted(a_rows)
    assert a_rows[a_cols[0]] < a_rows[a_cols[-1]] - 200  # falling values: the line goes down the picture
    # The curves cross where falling = 0.55, at epoch 5.5: halfway along the x axis for epochs 1..10.
    # (Where they cross, the later line hides the earlier one: intersect a's fitted line with b's row.)
    b_cols = sorted(b_rows)
    slope, intercept = np.polyfit(list(a_rows), list(a_rows.values()), 1)
    crossing = (np.mean(list(b_rows.values())) - intercept) / slope
    assert abs(crossing - (b_cols[0] + b_cols[-1]) / 2) < 1


def test_loss_curves_log_scale_straightens_an_exponential():
    decay = {"train": 10.0 ** -np.linspace(0, 3, 12)}
    assert straightness(line_rows(plots.loss_curves(decay, log=True, legend=False), PALETTE[0])) < 1.5
    assert straightness(line_rows(plots.loss_curves(decay, legend=False), PALETTE[0])) > 20


def test_loss_curves_break_at_non_finite_values():
    values = [1.0, 0.9, 0.8, np.nan, np.inf, 0.5, 0.4, 0.3, 0.2, 0.1]
    img = plots.loss_curves({"run": values, "ruler": [0.0] * 10}, legend=False)
    ruler = sorted(line_rows(img, PALETTE[1]))
    step = (ruler[-1] - ruler[0]) / 9
    run = line_rows(img, PALETTE[0])
    gap = [col for col in run if ruler[0] + 2.2 * step < col < ruler[0] + 4.8 * step]  # epochs 3.2 .. 5.8
    assert gap == []
    assert any(col < ruler[0] + 2 * step for col in run) and any(col > ruler[0] + 6 * step for col in run)


def test_loss_curves_from_a_training_history_and_legend():
    from tinyae.train import History

    img = plots.loss_curves(History(loss=[0.9, 0.5, 0.4]))
    assert mask_of(img, PALETTE[0], tol=40).sum() > 50
    assert mask_of(img, PALETTE[1], tol=40).sum() == 0  # empty validation: no line, no legend entry
    both = plots.loss_curves({"train": [0.9, 0.5, 0.4], "validation": [1.0, 0.7, 0.6]})
    without = plots.loss_curves({"train": [0.9, 0.5, 0.4], "validation": [1.0, 0.7, 0.6]}, legend=False)
    assert mask_of(both, PALETTE[1], tol=40).sum() > mask_of(without, PALETTE[1], tol=40).sum()


def test_loss_curves_bad_input():
    with pytest.raises(ValueError, match="log scale needs values > 0, found -0.1"):
        plots.loss_curves({"a": [1.0, -0.1]}, log=True)
    with pytest.raises(ValueError, match="at least one finite value"):
        plots.loss_curves({"a": [], "b": [np.nan]})


# ---------------------------------------------------------------- histogram


def bar_heights(img):
    """Heights in pixels of the bar-coloured runs in each column that has some."""
    mask = mask_of(img, PALETTE[0], tol=10)
    return mask.sum(axis=0)


def test_histogram_bar_heights_are_proportional_to_counts():
    values = np.concatenate([np.full(300, 0.25), np.full(100, 0.75), np.full(200, 1.25)])
    img = plots.histogram(values, bins=3, range=(0, 1.5), size=(300, 400))
    heights = bar_heights(img)
    cols = np.nonzero(heights)[0]
    thirds = np.array_split(cols, 3)  # the three bars, left to right
    tallest = [heights[c].max() for c in thirds]
    assert abs(tallest[0] - 400 / 1.05) < 2  # the tallest bar reaches the top but for a 5 % margin
    np.testing.assert_allclose(np.array(tallest) / tallest[0], [1, 1 / 3, 2 / 3], atol=0.01)


def test_histogram_leaves_out_non_finite_values():
    values = np.random.default_rng(0).normal(size=1000)
    clean = np.asarray(plots.histogram(values, title="h"))
    dirty = np.asarray(plots.histogram(np.concatenate([values, [np.nan, np.inf]]), title="h"))
    # Same bars; only the title differs ("(2 non-finite left out)").
    assert clean.shape == dirty.shape
    np.testing.assert_array_equal(clean[40:], dirty[40:])
    assert np.any(clean[:40] != dirty[:40])
    with pytest.raises(ValueError, match="at least one finite value"):
        plots.histogram([np.nan])


def test_tick_labels_are_round_numbers():
    assert [label for _, label in plots._nice_ticks(-0.07, 0.33)] == ["0.0", "0.1", "0.2", "0.3"]
    assert [label for _, label in plots._nice_ticks(-0.13, 0.021)] == ["-0.10", "-0.05", "0.00"]
    assert plots._format(-1e-17, 2) == "0.00"  # ndtri(0.5) in the manifold's middle column
    assert [label for _, label in plots._nice_ticks(0.5, 30.5, integer=True)] == ["5", "10", "15", "20", "25", "30"]
    assert [label for _, label in plots._log_ticks(0.003, 0.2)] == ["0.005", "0.01", "0.02", "0.05", "0.1", "0.2"]
