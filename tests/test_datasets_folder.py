"""load_image_folder: order, channels, exact pixel values, resizing, and the errors a user meets."""

import numpy as np
import pytest
from PIL import Image

from tinyae.datasets.folder import load_image, load_image_folder
from tinyae.errors import DataError


def save(path, pixels, mode=None):
    """Write uint8 pixels, (H, W) or (H, W, C), as an image file; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode).save(path)
    return path


def test_sorted_names_and_exact_values(tmp_path):
    rng = np.random.default_rng(0)
    pixels = {name: rng.integers(0, 256, (3, 5), dtype=np.uint8) for name in ("b.png", "a.png", "c.PNG")}
    for name, p in pixels.items():
        save(tmp_path / name, p)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"macOS metadata, not a PNG")

    images, names = load_image_folder(tmp_path)
    assert names == ["a.png", "b.png", "c.PNG"]
    assert images.shape == (3, 1, 3, 5) and images.dtype == np.float32
    for image, name in zip(images, names):
        np.testing.assert_array_equal(image[0] * 255, pixels[name].astype(np.float32))


def test_modes_give_the_documented_channels(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 255                 # pure red
    rgba[..., 3] = [[0, 255], [128, 255]]
    save(tmp_path / "a.png", rgba, "RGBA")

    x_rgba, _ = load_image_folder(tmp_path, mode="RGBA")
    np.testing.assert_array_equal(x_rgba[0, 3] * 255, rgba[..., 3])
    x_rgb, _ = load_image_folder(tmp_path, mode="RGB")
    np.testing.assert_array_equal(x_rgb[0, :, 0, 0], [1, 0, 0])
    x_l, _ = load_image_folder(tmp_path, mode="L", dtype=np.float64)
    assert x_l.shape == (1, 1, 2, 2) and x_l.dtype == np.float64
    # Luma of pure red is 299/1000 of 255, rounded by Pillow to 76; alpha is ignored.
    np.testing.assert_array_equal(x_l[0, 0] * 255, np.full((2, 2), 76.0))


def test_grayscale_image_as_rgba_is_opaque(tmp_path):
    save(tmp_path / "g.png", np.full((2, 3), 200))
    x, _ = load_image_folder(tmp_path, mode="RGBA")
    np.testing.assert_array_equal(x[0, 3], np.ones((2, 3)))
    np.testing.assert_allclose(x[0, :3], 200 / 255, rtol=1e-6)


def test_jpeg_loads(tmp_path):
    save(tmp_path / "photo.jpg", np.full((8, 8, 3), 128))
    x, names = load_image_folder(tmp_path, mode="RGB")
    assert names == ["photo.jpg"] and x.shape == (1, 3, 8, 8)
    assert abs(x.mean() - 128 / 255) < 2 / 255, "JPEG is lossy, but a flat image stays flat"


def test_box_resize_averages_and_nearest_copies(tmp_path):
    pixels = np.array([[0, 100, 10, 10], [200, 100, 10, 10]], np.uint8)
    save(tmp_path / "a.png", pixels)
    box, _ = load_image_folder(tmp_path, size=(1, 2), resample="box")
    np.testing.assert_allclose(box[0, 0] * 255, [[100, 10]], atol=0.5)
    nearest, _ = load_image_folder(tmp_path, size=(1, 2), resample="nearest")
    assert set((nearest[0, 0, 0] * 255).round().tolist()) <= set(pixels.ravel().tolist())
    up, _ = load_image_folder(tmp_path, size=(4, 8), resample="nearest")
    np.testing.assert_array_equal(up[0, 0, ::2, ::2] * 255, pixels.astype(np.float32))


def test_different_sizes_need_a_size(tmp_path):
    save(tmp_path / "a.png", np.zeros((4, 4)))
    save(tmp_path / "b.png", np.zeros((4, 5)))
    with pytest.raises(DataError, match=r"b\.png: expected 4x4 pixels like a\.png, found 4x5; pass size"):
        load_image_folder(tmp_path)
    x, _ = load_image_folder(tmp_path, size=(3, 3))
    assert x.shape == (2, 1, 3, 3)


def test_recursive_uses_relative_names(tmp_path):
    save(tmp_path / "top.png", np.zeros((2, 2)))
    save(tmp_path / "sub" / "inner.png", np.full((2, 2), 255))
    save(tmp_path / ".git" / "ignored.png", np.zeros((2, 2)))
    assert load_image_folder(tmp_path)[1] == ["top.png"]
    x, names = load_image_folder(tmp_path, recursive=True)
    assert names == ["sub/inner.png", "top.png"]
    assert x[0].min() == 1.0 and x[1].max() == 0.0


def test_empty_folder_says_what_it_wanted(tmp_path):
    save(tmp_path / "sub" / "a.png", np.zeros((2, 2)))
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=r"PNG or JPEG files.*found none; it has subfolders, pass recursive=True"):
        load_image_folder(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="expected a folder, found nothing"):
        load_image_folder(tmp_path / "nope")


@pytest.mark.parametrize("data", [b"not a png at all", "cut"])
def test_corrupt_image_is_named(tmp_path, data):
    good = save(tmp_path / "a.png", np.random.default_rng(1).integers(0, 256, (32, 32)))
    bad = tmp_path / "b.png"
    bad.write_bytes(good.read_bytes()[:200] if data == "cut" else data)
    with pytest.raises(DataError, match=r"b\.png: expected a readable PNG or JPEG"):
        load_image_folder(tmp_path)


def test_sixteen_bit_images_are_refused_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((2, 2), 40000, np.uint16)).save(path)
    with pytest.raises(DataError, match="8 bits per channel"):
        load_image(path)


@pytest.mark.parametrize(
    "kwargs", [{"mode": "CMYK"}, {"resample": "bicubic"}, {"size": (0, 3)}, {"size": 5}, {"dtype": np.uint8}]
)
def test_bad_arguments(tmp_path, kwargs):
    save(tmp_path / "a.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected"):
        load_image_folder(tmp_path, **kwargs)
