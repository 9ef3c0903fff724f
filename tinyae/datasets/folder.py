"""Image folders: every PNG or JPEG in a folder as one (N, C, H, W) float array in [0, 1].

Pixels are 8-bit values v in 0..255 and become v / 255. The channels follow `mode`:

    "L"     C = 1, luma L = (299 R + 587 G + 114 B) / 1000 (ITU-R 601-2, Pillow's conversion);
            an alpha channel is dropped, not composited, so transparent pixels keep their colour
    "RGB"   C = 3
    "RGBA"  C = 4, alpha 1.0 for images without transparency

Files whose name starts with "." are skipped: they are hidden files, and on macOS-written disks
`._name.png` files hold metadata, not images.
"""

import os
from pathlib import Path

import numpy as np
from PIL import Image

from tinyae.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")
CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
RESAMPLE = {"nearest": Image.Resampling.NEAREST, "box": Image.Resampling.BOX}
# More than 8 bits per channel: Pillow's convert("L") would clip these to 255, not rescale them.
DEEP_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def load_image_folder(root, size=None, mode="L", recursive=False, resample="box", dtype=np.float32):
    """Load every PNG/JPEG under `root`, in sorted order of their names.

    Args:
        root: the folder.
        size: (H, W) to resize every image to, or None to require that all share one size.
        mode: "L", "RGB" or "RGBA" (see the module docstring).
        recursive: also look in subfolders; names are then paths relative to `root` with "/".
        resample: "box" (each output pixel averages the input pixels it covers: the right choice
            to shrink) or "nearest" (copies one input pixel: keeps pixel art crisp).
        dtype: floating dtype of the result.

    Returns:
        images: (N, C, H, W) array of `dtype` in [0, 1].
        names: the N file names, images[i] came from names[i].
    """
    root = Path(root)
    paths = image_files(root, recursive)
    names = [p.relative_to(root).as_posix() for p in paths]
    first = load_image(paths[0], mode, size, resample, dtype)
    images = np.empty((len(paths),) + first.shape, dtype=dtype)
    images[0] = first
    for i, path in enumerate(paths[1:], start=1):
        image = load_image(path, mode, size, resample, dtype)
        if image.shape != first.shape:
            raise DataError(
                f"{path}: expected {first.shape[1]}x{first.shape[2]} pixels like {names[0]}, "
                f"found {image.shape[1]}x{image.shape[2]}; pass size=(H, W) to resize every image"
            )
        images[i] = image
    return images, names


def image_files(root, recursive=False):
    """The PNG/JPEG files under `root` (extension in any case, hidden names skipped), sorted by relative path."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"image folder {root}: expected a folder, found {'a file' if root.exists() else 'nothing'}")
    candidates = root.rglob("*") if recursive else root.iterdir()
    paths = [
        p for p in candidates
        if p.is_file() and p.suffix.lower() in EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    if not paths:
        hint = ""
        if not recursive and any(p.is_dir() for p in root.iterdir()):
            hint = "; it has subfolders, pass recursive=True to look in them"
        raise DataError(f"image folder {root}: expected PNG or JPEG files ({', '.join(EXTENSIONS)}), found none{hint}")
    return sorted(paths, key=lambda p: p.relative_to(root).as_posix())


def load_image(path, mode="L", size=None, resample="box", dtype=np.float32):
    """One image file as a (C, H, W) array of `dtype` in [0, 1]; arguments as in load_image_folder."""
    if mode not in CHANNELS:
        raise ValueError(f"load_image: expected mode in {tuple(CHANNELS)}, found {mode!r}")
    if resample not in RESAMPLE:
        raise ValueError(f"load_image: expected resample in {tuple(RESAMPLE)}, found {resample!r}")
    two_positive_ints = (
        isinstance(size, (tuple, list)) and len(size) == 2
        and all(isinstance(s, (int, np.integer)) and s > 0 for s in size)
    )
    if size is not None and not two_positive_ints:
        raise ValueError(f"load_image: expected size (H, W) of two positive integers or None, found {size!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"load_image: expected a floating dtype, found {dtype}")

    try:
        image = _decode(path)
    except (OSError, SyntaxError, ValueError) as err:
        # Pillow reports unknown formats and truncated files as OSError, some broken headers as the others.
        raise DataError(
            f"{path}: expected a readable PNG or JPEG image, found a corrupt or unknown file ({err})"
        ) from None
    if image.mode in DEEP_MODES:
        raise DataError(f"{path}: expected 8 bits per channel, found Pillow mode {image.mode!r}")
    image = image.convert(mode)
    if size is not None and image.size != (size[1], size[0]):
        # Pillow sizes are (width, height).
        image = image.resize((size[1], size[0]), RESAMPLE[resample])

    pixels = np.asarray(image, dtype=np.uint8)
    # (H, W) or (H, W, C) -> (C, H, W)
    pixels = np.ascontiguousarray(pixels.reshape(pixels.shape[0], pixels.shape[1], -1).transpose(2, 0, 1))
    return np.divide(pixels, 255, dtype=dtype)


def _decode(path):
    """Open and fully decode an image file, so that a truncated file fails here and the file is closed."""
    with Image.open(os.fspath(path)) as image:
        image.load()
        return image
