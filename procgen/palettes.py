"""Palettes: built-in, from hex strings or GIMP .gpl files, and nearest-colour mapping by lookup table.

A palette is K opaque sRGB colours, (K, 3) uint8 with 1 <= K <= 64. Two ways onto it:

- by colour: the palette colour nearest in squared RGB distance. Searching K colours per pixel is
  too slow for whole batches, so the answer is tabulated once per palette for the 64**3 cells of
  6-bit RGB: a pixel takes the colour nearest to the centre of its cell, ``4 * (c >> 2) + 1.5``.
  That differs from the exact nearest colour only for pixels within a cell's width (a few units)
  of the boundary between two palette colours.
- by luma: the palette colour whose Rec. 601 luma ``Y = (299 R + 587 G + 114 B) / 1000`` is nearest
  to the pixel's, tabulated for the 256 luma levels. Good for grayscale sprites and one-hue palettes.

Ties go to the earlier palette colour. Built-in palettes are .gpl files in ``procgen/palettes/``:
"pico8" (the PICO-8 console's 16), "gameboy" (4 greens), "forest" (16 plant colours) and
"procgen32" (32 general colours); the last two are this project's own.

A palette a user gives is checked entry by entry: an error names the entry (its position and text,
or the file and line) and shows what a colour looks like. A .gpl file must be a regular file of at
most 1 MiB, checked on the open file before a byte is read, so a FIFO or a device cannot hang a run.

GIMP palette format, as parsed here (strictly: anything else is an error naming file and line)::

    GIMP Palette                 <- first line, exactly
    Name: forest                 <- optional, before the first colour
    Columns: 8                   <- optional, before the first colour
    # comment                    <- comments and blank lines anywhere
     15  42  29	shadow-green     <- R G B, each 0..255, then an optional name
"""

import os
import re
import stat
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from procgen.errors import PaletteError

BUILTIN_PALETTES = ("pico8", "gameboy", "forest", "procgen32")
MAX_COLOURS = 64  # pixel-art palettes such as ENDESGA 64 fit; more is a mistake (a photo's colours, a wrong file)
MAX_GPL_BYTES = 1 << 20  # 64 colour rows take a few KiB; 1 MiB leaves room for any comments
HEX_EXAMPLE = "'#rrggbb', six hex digits such as '#1a2b3c'"
ROW_EXAMPLE = "'R G B [name]' with R, G, B in 0..255, such as ' 15  42  29 shadow-green'"

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_GPL_ROW = re.compile(r"\s*(\d{1,3})\s+(\d{1,3})\s+(\d{1,3})(?:\s+.*)?")
_GPL_HEADER = re.compile(r"(Name|Columns):\s*(.*)")


def luma(r, g, b):
    """Rec. 601 luma of 8-bit channel values in integers, rounded: ``(299 r + 587 g + 114 b + 500) // 1000``."""
    r, g, b = (v.astype(np.uint32, copy=False) for v in (r, g, b))
    return (299 * r + 587 * g + 114 * b + 500) // 1000


def rgb_cell(r, g, b):
    """Index of the 6-bit RGB cell of 8-bit channel values: ``(r >> 2) << 12 | (g >> 2) << 6 | b >> 2``."""
    r, g, b = (v.astype(np.uint32, copy=False) for v in (r, g, b))
    return (r >> 2) << 12 | (g >> 2) << 6 | b >> 2


class Palette:
    """K opaque colours and their lookup tables; ``map_rgb`` and ``map_luma`` put any pixel onto them."""

    def __init__(self, name, colors):
        colors = np.asarray(colors)
        if colors.ndim != 2 or colors.shape[1] != 3 or not 1 <= len(colors) <= MAX_COLOURS:
            raise PaletteError(f"palette {name!r} must be (K, 3) colours, 1 <= K <= {MAX_COLOURS}, "
                               f"got shape {colors.shape}")
        if colors.dtype.kind not in "iu":
            raise PaletteError(f"palette {name!r} colours must be ints in 0..255, got dtype {colors.dtype}")
        if colors.min() < 0 or colors.max() > 255:
            raise PaletteError(f"palette {name!r} colours must be in 0..255, got {colors.min()}..{colors.max()}")
        self.name = name
        self.colors = colors.astype(np.uint8)
        self.colors.flags.writeable = False  # the lookup tables below are cached from these

    def __repr__(self):
        return f"Palette({self.name!r}, {len(self.colors)} colours)"

    @cached_property
    def rgb_table(self):
        """(64**3,) uint8: index of the palette colour nearest to the centre of each ``rgb_cell``."""
        cells = np.arange(64, dtype=np.int32)
        # twice the cell centre, 8 c + 3, and twice the palette colours keep every distance an exact integer
        centre = 8 * cells + 3
        r, g, b = np.meshgrid(centre, centre, centre, indexing="ij")
        best = np.full(r.shape, np.iinfo(np.int32).max, dtype=np.int32)
        index = np.zeros(r.shape, dtype=np.uint8)
        for k, (pr, pg, pb) in enumerate(2 * self.colors.astype(np.int32)):  # a loop over K colours, not pixels
            d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2
            closer = d < best  # strict: ties stay with the earlier colour
            best[closer] = d[closer]
            index[closer] = k
        return index.ravel()

    @cached_property
    def luma_table(self):
        """(256,) uint8: index of the palette colour whose luma is nearest to each luma level."""
        levels = np.arange(256, dtype=np.int64)
        lumas = luma(*self.colors.T).astype(np.int64)
        return np.argmin(np.abs(levels[:, None] - lumas[None, :]), axis=1).astype(np.uint8)  # argmin: first of ties

    def map_rgb(self, rgb):
        """Nearest palette colour of each uint8 RGB pixel: (..., 3) uint8 -> (..., 3) uint8."""
        return self.colors[self.rgb_table[rgb_cell(rgb[..., 0], rgb[..., 1], rgb[..., 2])]]

    def map_luma(self, rgb):
        """Palette colour nearest in luma to each uint8 RGB pixel: (..., 3) uint8 -> (..., 3) uint8."""
        return self.colors[self.luma_table[luma(rgb[..., 0], rgb[..., 1], rgb[..., 2])]]


def parse_color(spec, what="colour"):
    """A colour as (3,) uint8 from "#RRGGBB", "RRGGBB" or a sequence of three ints in 0..255."""
    if isinstance(spec, str):
        match = _HEX.fullmatch(spec.strip())
        if not match:
            raise PaletteError(f"{what} must be a hex colour {HEX_EXAMPLE}, got {spec!r}")
        return np.frombuffer(bytes.fromhex(match.group(1)), dtype=np.uint8).copy()
    values = np.asarray(spec)
    if values.shape != (3,) or values.dtype.kind not in "iu" or values.min() < 0 or values.max() > 255:
        raise PaletteError(f"{what} must be '#RRGGBB' or three ints in 0..255, got {spec!r}")
    return values.astype(np.uint8)


def from_colors(colors, name="custom"):
    """A palette from colours as ``parse_color`` reads them, or one str of hex colours: ``"#0f380f, #306230"``.

    Entries are counted from 1 in error messages, as a user counts the colours they typed.
    """
    if isinstance(colors, str):
        colors = [c for c in re.split(r"[\s,]+", colors) if c]
    if len(colors) == 0:
        raise PaletteError(f"palette {name!r} needs at least one colour, got none; a colour is {HEX_EXAMPLE}")
    if len(colors) > MAX_COLOURS:
        raise PaletteError(f"palette {name!r} has {len(colors)} colours; at most {MAX_COLOURS} are allowed "
                           f"(entry {MAX_COLOURS + 1} is {colors[MAX_COLOURS]!r})")
    return Palette(name, [parse_color(c, f"entry {i} of palette {name!r}") for i, c in enumerate(colors, start=1)])


def parse_gpl(text, source="<string>"):
    """A palette from the text of a GIMP .gpl file; ``source`` names it in error messages."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "GIMP Palette":
        found = lines[0][:40] if lines else "an empty file"
        raise PaletteError(f"{source} line 1: expected 'GIMP Palette', found {found!r}")
    name, colors = Path(source).stem, []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        header = _GPL_HEADER.fullmatch(line.strip())
        row = _GPL_ROW.fullmatch(line)
        if header and not colors:
            if header.group(1) == "Name":
                name = header.group(2).strip() or name
            elif not header.group(2).strip().isdigit():
                raise PaletteError(f"{source} line {number}: expected 'Columns: <int>', found {line.strip()!r}")
        elif row:
            rgb = [int(v) for v in row.groups()[:3]]
            if max(rgb) > 255:
                raise PaletteError(f"{source} line {number}: colour values must be 0..255, found {line.strip()!r}; "
                                   f"a colour row is {ROW_EXAMPLE}")
            if len(colors) == MAX_COLOURS:
                raise PaletteError(f"{source} line {number}: colour {MAX_COLOURS + 1}, {line.strip()!r}; a palette "
                                   f"holds at most {MAX_COLOURS} colours")
            colors.append(rgb)
        else:
            raise PaletteError(
                f"{source} line {number}: expected {ROW_EXAMPLE}"
                f"{' (headers go before the first colour)' if header else ''}, found {line.strip()!r}"
            )
    if not colors:
        raise PaletteError(f"{source}: expected at least one colour row ({ROW_EXAMPLE}), found none")
    return Palette(name, colors)


def load_gpl(path):
    """A palette from a GIMP .gpl file at ``path`` (UTF-8): a regular file of at most ``MAX_GPL_BYTES``."""
    path = Path(path)
    try:
        data = _read_small_file(path, MAX_GPL_BYTES)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise PaletteError(f"palette file {str(path)!r} does not exist") from None
    except UnicodeDecodeError as error:
        raise PaletteError(f"palette file {str(path)!r} is not UTF-8 text: {error}") from None
    except OSError as error:
        raise PaletteError(f"palette file {str(path)!r} cannot be read: {error.strerror}") from None
    return parse_gpl(text, source=str(path))


def _read_small_file(path, limit):
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else PaletteError.

    The checks run on the opened descriptor, so no other file can be swapped in between, and the open
    does not block: with O_NONBLOCK it returns at once on a FIFO that has no writer, where a plain open waits.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PaletteError(f"palette file {str(path)!r} must be a regular file; found a "
                               f"{_file_kind(info.st_mode)}")
        if info.st_size > limit:
            raise PaletteError(f"palette file {str(path)!r} has {info.st_size} bytes; a .gpl palette must be at most "
                               f"{limit}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit)  # at most limit bytes, even from a file that grew since fstat
    finally:
        os.close(fd)


def _file_kind(mode):
    """What a non-regular file is, for an error message."""
    kinds = ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))
    return next((kind for test, kind in kinds if test(mode)), "special file")


@cache
def builtin_palette(name):
    """One of ``BUILTIN_PALETTES``, parsed once per process from its shipped .gpl file."""
    if name not in BUILTIN_PALETTES:
        raise PaletteError(f"unknown palette {name!r}: expected one of {', '.join(BUILTIN_PALETTES)}")
    text = resources.files("procgen").joinpath("palettes", f"{name}.gpl").read_text(encoding="utf-8")
    return parse_gpl(text, source=f"{name}.gpl")


def get_palette(spec):
    """A Palette from a Palette, a built-in name, a path to a .gpl file, or colours (a hex str or a list)."""
    if isinstance(spec, Palette):
        return spec
    if isinstance(spec, str):
        if spec in BUILTIN_PALETTES:
            return builtin_palette(spec)
        if spec.lower().endswith(".gpl"):
            return load_gpl(spec)
        if spec.lstrip().startswith("#"):
            return from_colors(spec)
        raise PaletteError(
            f"palette must be one of {', '.join(BUILTIN_PALETTES)}, a .gpl file or '#RRGGBB,...' hex colours,"
            f" got {spec!r}"
        )
    if isinstance(spec, (list, tuple)):
        return from_colors(list(spec))
    raise PaletteError(f"palette must be a Palette, a name, a .gpl path or hex colours, got {type(spec).__name__}")
