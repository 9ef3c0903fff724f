"""A folder of the user's own pixel art as training sprites, kept crisp at every model size.

    x, labels, class_names, files = load_sprite_folder("my_sprites", size=32)

The files of a subfolder form a class named after it (deeper folders count for their top folder), files
directly in the folder the class "sprite". An image is only ever cropped, padded with transparent pixels or
scaled by a whole factor with nearest neighbour, so every sprite pixel is a pixel of the file (a 21 px sprite
resized to 32 would turn its pixels into a mix of 1- and 2-pixel columns). Each image, in this order:
    colour  RGB, paletted and grayscale images become RGBA; alpha >= 128 is opaque (255), below it transparent (0)
    trim    crop to the bounding box of the opaque pixels (an image without alpha is all opaque: nothing to trim)
    blocks  pixels in uniform f x f blocks (an upscaled sprite, f >= 2 dividing both sides): reduce by the largest f
    fit     fits in size x size: scaled up by k = min(size // h, size // w) if k >= 2 (16 px art, 32 px model: x2)
    pad     transparent, centred across and standing on the bottom row (sprites stand on the ground)
    refuse  larger than size x size: named in one ProcgenError with every other refused file, nothing loaded
Also refused, each by name: files other than .png/.jpg/.jpeg (hidden names are skipped), animated images,
links that lead outside the folder or to a folder, headers of more than 4096 x 4096 pixels (read before any
pixel is decoded), 16-bit images, and files Pillow cannot read; an empty folder, and more than 100,000 files.
"""

import math
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from procgen.errors import ProcgenError

SIZES = (16, 32, 48, 64)
SUFFIXES = (".png", ".jpg", ".jpeg")
MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK")  # 8-bit or less: not Pillow's 16-bit "I;16" or "I"
FORMATS = ("PNG", "JPEG")  # the only decoders Pillow may try: a .png that holds a TIFF or a GIF is refused
MAX_SIDE = 4096
MAX_FILES = 100_000
OPAQUE = 128  # alpha from here up is opaque
LISTED = 20  # problems named in one error before "and N more"
TOP_CLASS = "sprite"  # the class of the files directly in the folder


def load_sprite_folder(root, size, n=None, rng=None):
    """Every sprite under root fitted to size x size by the rules of the module docstring.

    Returns x (N, 4, size, size) float32 RGBA in [0, 1], labels (N,) int64 indices into class_names (the sorted
    classes of the whole folder), and files, the N paths relative to root with "/", in sorted order. With n
    below the number of files, n of them drawn by rng without replacement; every file is checked all the same,
    so the draw never hides a bad one.
    """
    if size not in SIZES:
        raise ProcgenError(f"sprite size must be one of {SIZES}, got {size!r}")
    root = Path(root)
    names = sprite_files(root)
    sprites, refused = [], []
    for name in names:
        try:
            sprites.append(fit_sprite(read_rgba(root / name), size))
        except ProcgenError as err:
            refused.append(f"{name}: {err}")
    if refused:
        raise ProcgenError(f"images folder {str(root)!r}: {len(refused)} of {len(names)} files refused for "
                           f"{size} x {size} sprites, none loaded:{_listed(refused)}")
    pick = _draw(len(names), n, rng)
    groups = [name.split("/")[0] if "/" in name else TOP_CLASS for name in names]
    class_names = sorted(set(groups))
    labels = np.array([class_names.index(groups[i]) for i in pick], dtype=np.int64)
    pixels = np.stack([sprites[i] for i in pick])  # (N, size, size, 4) uint8
    x = np.divide(pixels.transpose(0, 3, 1, 2), 255, dtype=np.float32)  # (N, H, W, 4) -> (N, 4, H, W)
    return x, labels, class_names, [names[i] for i in pick]


def sprite_files(root):
    """The image files under root as sorted paths relative to it, with "/"; refuses anything else by name."""
    root = Path(root)
    if not root.is_dir():
        raise ProcgenError(f"images folder {str(root)!r}: expected a folder, found "
                           f"{'a file' if root.exists() else 'nothing'}")
    inside = root.resolve()
    images, others, links = [], [], []
    for folder, dirs, files in os.walk(root):  # a linked folder is listed in dirs, never walked
        folder = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # hidden folders: .git, macOS metadata
        for d in dirs:
            path = folder / d
            if path.is_symlink():
                where = "leads outside the folder, to" if not path.resolve().is_relative_to(inside) else \
                    "is not followed (its sprites would count twice), to"
                links.append(f"{path.relative_to(root).as_posix()}/: a link to a folder {where} {path.resolve()}")
        for name in files:
            if name.startswith("."):
                continue
            path = folder / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                links.append(f"{relative}: a link that leads outside the folder, to {path.resolve()}")
            elif path.suffix.lower() in SUFFIXES:
                images.append(relative)
            else:
                others.append(relative)
            if len(images) + len(others) > MAX_FILES:
                raise ProcgenError(f"images folder {str(root)!r} holds more than {MAX_FILES:,} files; a sprite set "
                                   f"is a few hundred images: is it the right folder?")
    if others or links:
        problems = [f"{name}: not a PNG or JPEG file ({', '.join(SUFFIXES)})" for name in sorted(others)]
        raise ProcgenError(f"images folder {str(root)!r} must hold only PNG/JPEG images; refused "
                           f"{len(others) + len(links)} entries:{_listed(problems + sorted(links))}")
    if not images:
        raise ProcgenError(f"images folder {str(root)!r}: expected PNG or JPEG files ({', '.join(SUFFIXES)}), "
                           f"found none")
    return sorted(images)


def read_rgba(path):
    """An image file as (H, W, 4) uint8 RGBA with alpha 0 or 255 and colour 0 where transparent."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89.5 million pixels: every such image has a side over MAX_SIDE, refused below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=FORMATS)
        with image:
            width, height = image.size  # from the header: Image.open decodes no pixel
            if width > MAX_SIDE or height > MAX_SIDE:
                raise ProcgenError(f"its header declares {width} x {height} pixels, more than {MAX_SIDE} x "
                                   f"{MAX_SIDE}; not decoded")
            if getattr(image, "n_frames", 1) > 1:
                raise ProcgenError(f"an animated image of {image.n_frames} frames; save each frame as a file")
            if image.mode not in MODES:
                raise ProcgenError(f"expected 8 bits per channel (Pillow modes {', '.join(MODES)}), found mode "
                                   f"{image.mode!r}")
            image.load()
            rgba = np.array(image.convert("RGBA"))  # (H, W, 4) uint8; a palette's or a key's transparency kept
    except ProcgenError:
        raise
    except Image.DecompressionBombError as err:  # Pillow's own limit, 2 x 89.5 million pixels, met in Image.open
        raise ProcgenError(f"its header declares more than {MAX_SIDE} x {MAX_SIDE} pixels ({err}); "
                           "not decoded") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        # Pillow reports unknown and truncated files as OSError, some broken chunks as the others.
        raise ProcgenError(f"not a readable PNG or JPEG image ({err})") from None
    opaque = rgba[..., 3] >= OPAQUE
    rgba[~opaque] = 0  # a transparent pixel has no colour, so hidden colours never split a block or a class
    rgba[opaque, 3] = 255
    return rgba


def fit_sprite(rgba, size):
    """(H, W, 4) uint8 RGBA with binary alpha -> (size, size, 4): trimmed, block-reduced, scaled by k, padded."""
    sprite = trim(rgba)
    if sprite.size == 0:
        raise ProcgenError(f"{rgba.shape[1]}x{rgba.shape[0]} px with no opaque pixel (alpha >= {OPAQUE})")
    f = block_factor(sprite)
    sprite = sprite[::f, ::f]  # (f h, f w, 4) -> (h, w, 4): one pixel of each uniform block
    h, w = sprite.shape[:2]
    if h > size or w > size:
        steps = f"{rgba.shape[1]}x{rgba.shape[0]} px"
        if sprite.shape != rgba.shape:
            steps += f", {w}x{h} after trimming" + (f" and reducing {f}x{f} blocks" if f > 1 else "")
        need = next((f"needs size {s}" for s in SIZES if s >= max(h, w)), f"more than the largest size {SIZES[-1]}")
        raise ProcgenError(f"{steps}: larger than {size}x{size}, {need}")
    k = min(size // h, size // w)  # the largest whole factor that fits; k = 1 leaves the sprite as it is
    sprite = sprite.repeat(k, axis=0).repeat(k, axis=1)  # (h, w, 4) -> (k h, k w, 4)
    out = np.zeros((size, size, 4), np.uint8)
    left = (size - k * w) // 2
    out[size - k * h:, left:left + k * w] = sprite  # on the bottom row: sprites stand on the ground
    return out


def trim(rgba):
    """The smallest crop of (H, W, 4) rgba that holds all its opaque pixels; (0, 0, 4) if it has none."""
    opaque = rgba[..., 3] > 0
    rows, cols = np.flatnonzero(opaque.any(axis=1)), np.flatnonzero(opaque.any(axis=0))
    if len(rows) == 0:
        return rgba[:0, :0]
    return rgba[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def block_factor(sprite):
    """The largest f >= 2 such that (H, W, 4) sprite is made of uniform f x f blocks (f divides H and W), else 1."""
    h, w = sprite.shape[:2]
    g = math.gcd(h, w)
    for f in range(g, 1, -1):
        if g % f == 0:
            blocks = sprite.reshape(h // f, f, w // f, f, 4)  # (H, W, 4) -> (H/f, f, W/f, f, 4)
            if (blocks == blocks[:, :1, :, :1]).all():
                return f
    return 1


def _draw(total, n, rng):
    """Indices of the files kept: all of them, or n drawn by rng without replacement, sorted."""
    if n is None:
        return np.arange(total)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ProcgenError(f"n must be a positive integer or None, got {n!r}")
    if n >= total:
        return np.arange(total)
    if not isinstance(rng, np.random.Generator):
        raise ProcgenError(f"n = {n} draws from {total} files: pass rng, a numpy.random.Generator, got {rng!r}")
    return np.sort(rng.choice(total, size=n, replace=False))


def _listed(problems):
    """The first LISTED problems, one per line, then how many more."""
    more = [f"and {len(problems) - LISTED} more"] if len(problems) > LISTED else []
    return "".join(f"\n  {p}" for p in problems[:LISTED] + more)
