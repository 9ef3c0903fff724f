"""Scanned documents for denoising: seeded clean/dirty page pairs, random crops, and the Kaggle folder.

A clean page is dark text (ink 0.0-0.2) on white paper (1.0), rendered with Pillow's built-in
font from a built-in word list. Its dirty twin goes through a model of a bad scan, each factor a
(H, W) field drawn from the generator:

    dirty = clip( blur(clean) * light * prod_k (1 - stain_k) * (1 - shadow) + sum_j crease_j + noise, 0, 1 )

    light     a linear fall-off of the lamp across the page            (multiplies: ink dims too)
    stain_k   blotches and coffee rings, darkest where liquid dried     (multiply)
    shadow    a soft dark band entering from one edge                   (multiplies)
    crease_j  a fold: thin dark valley, bright ridge beside it, and
              shading on the side that faces away from the light        (adds)
    noise     paper grain (smoothed noise) plus sensor noise            (adds)

Every random choice comes from the numpy Generator passed in, so a seed fixes the pages exactly
(for one Pillow version: the font rasteriser draws the text).

The Kaggle "Denoising Dirty Documents" data (folders train/, train_cleaned/, test/ of PNGs) loads
with load_document_folder; its pages are 540 pixels wide and 258 or 420 high.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter
from scipy.special import expit

from tinyae.datasets.folder import image_files, load_image
from tinyae.errors import DataError

WORDS = """
the of and to in is was that for it with as on be by this are from at or an have not which but
were all can their one has been more when will there would so if out up two into time only
other some could them these may than first any new like about then its our over such after
most also made many before must through years where much your well down should because each
just those people how too little state good very make world still own see men work long get
here between both life being under never day same another know while last might great old
year off come since against go came right used take three page letter river mountain garden
window morning evening paper ink printer office station market harbour bridge engine theory
question answer number history science summer winter children village machine experiment
""".split()


def make_documents(n, rng, size=(258, 540), dtype=np.float32):
    """`n` page pairs as arrays: clean (n, 1, H, W) and dirty (n, 1, H, W), in [0, 1]."""
    height, width = size
    clean = np.empty((n, 1, height, width), dtype=dtype)
    dirty = np.empty((n, 1, height, width), dtype=dtype)
    for i in range(n):
        clean[i, 0], dirty[i, 0] = make_document_pair(rng, height, width, dtype)
    return clean, dirty


def make_document_pair(rng, height=258, width=540, dtype=np.float32):
    """One page: (clean, dirty), each (height, width) in [0, 1]. Text needs a page ~16 pixels high."""
    _check_generator(rng)
    if height < 1 or width < 1:
        raise ValueError(f"make_document_pair: expected a positive page size, found {height}x{width}")
    clean = render_text_page(rng, height, width)
    return clean.astype(dtype), degrade(clean, rng).astype(dtype)


def render_text_page(rng, height, width):
    """Lines of random words, in paragraphs, dark on white: (height, width) float64 in [0, 1]."""
    font = ImageFont.load_default()
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    # Text drawn at y covers rows y .. y + text_bottom; the gap between lines varies per page.
    text_bottom = font.getbbox("Hg")[3]
    pitch = text_bottom + int(rng.integers(2, 7))
    margin = int(rng.integers(2, max(3, width // 10)))
    ink = int(rng.integers(0, 52))
    indent = 3 * font.getlength(" ")
    new_paragraph = True
    y = int(rng.integers(0, pitch))
    while y + text_bottom <= height:
        x = margin + (indent if new_paragraph else 0)
        words = _fill_line(rng, font, width - margin - x, capitalise=new_paragraph)
        # Some lines end a paragraph: cut short, closed by a full stop, followed by a blank line.
        new_paragraph = bool(words) and rng.random() < 0.15
        if new_paragraph:
            words = words[: int(rng.integers(1, len(words) + 1))]
            words[-1] = words[-1].rstrip(",") + "."
        draw.text((x, y), " ".join(words), fill=ink, font=font)
        y += pitch * (2 if new_paragraph else 1)
    return np.asarray(page, dtype=np.float64) / 255


def _fill_line(rng, font, room, capitalise):
    """Random words, some followed by a comma, as many as fit in `room` pixels."""
    words = []
    while True:
        word = WORDS[rng.integers(len(WORDS))]
        if capitalise and not words:
            word = word.capitalize()
        if rng.random() < 0.08:
            word += ","
        if font.getlength(" ".join(words + [word])) > room:
            return words
        words.append(word)


def degrade(clean, rng):
    """The dirty scan of a clean (H, W) page, by the model in the module docstring; float64 in [0, 1]."""
    h, w = clean.shape
    page = gaussian_filter(clean, sigma=rng.uniform(0.3, 0.9))
    page = page * lighting_field(rng, h, w)
    for _ in range(rng.integers(1, 4)):
        page *= 1 - stain_field(rng, h, w)
    for _ in range(rng.integers(0, 3)):
        page *= 1 - coffee_ring_field(rng, h, w)
    if rng.random() < 0.5:
        page *= 1 - shadow_field(rng, h, w)
    for _ in range(rng.integers(0, 3)):
        page += crease_field(rng, h, w)
    page += noise_field(rng, h, w)
    return np.clip(page, 0, 1)


def lighting_field(rng, h, w):
    """Light reaching the page, (h, w): brightest on one side, falling linearly by up to 25 % across it."""
    ramp = _projection(rng.uniform(0, 2 * np.pi), h, w)
    # (h, w) ramp rescaled to 0 at the lamp side, 1 at the far side
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-12)
    return rng.uniform(0.9, 1.0) * (1 - rng.uniform(0.05, 0.25) * ramp)


def stain_field(rng, h, w):
    """Darkness of one stain, (h, w) in [0, 0.3]: a wobbly blob, darker along its rim where it dried."""
    radius = rng.uniform(0.05, 0.25) * min(h, w) + 1
    r, angle = _polar(rng.uniform(0, h), rng.uniform(0, w), h, w)
    outline = radius * _wobble(rng, angle, 0.12)
    inside = expit((outline - r) / (0.1 * radius))
    rim = np.exp(-(((r - outline) / (0.08 * radius)) ** 2))
    rim_share = rng.uniform(0.2, 0.6)
    return rng.uniform(0.1, 0.3) * ((1 - rim_share) * inside + rim_share * rim)


def coffee_ring_field(rng, h, w):
    """Darkness of a mug's ring, (h, w) in [0, 0.4]: a thin circle that fades out over part of its arc."""
    radius = rng.uniform(0.08, 0.3) * min(h, w) + 2
    r, angle = _polar(rng.uniform(0, h), rng.uniform(0, w), h, w)
    outline = radius * _wobble(rng, angle, 0.03)
    ring = np.exp(-(((r - outline) / rng.uniform(0.02, 0.06) / radius) ** 2))
    # A mug rarely leaves a whole circle: full strength facing one way, down to 30 % opposite.
    arc = 0.3 + 0.7 * (0.5 + 0.5 * np.cos(angle - rng.uniform(0, 2 * np.pi)))
    return rng.uniform(0.15, 0.4) * ring * arc


def shadow_field(rng, h, w):
    """Darkness of a shadow from one edge, (h, w) in [0, 0.45]: flat near the edge, soft where it ends."""
    depth = _projection(rng.uniform(0, 2 * np.pi), h, w)
    # (h, w) distance into the page from the edge the shadow enters by
    depth = depth - depth.min()
    reach = rng.uniform(0.05, 0.35) * np.ptp(depth) + 1
    softness = reach * rng.uniform(0.1, 0.5)
    return rng.uniform(0.15, 0.45) * expit((reach - depth) / softness)


def crease_field(rng, h, w):
    """Brightness change of one fold, (h, w): dark valley, bright ridge beside it, shade on one side."""
    theta = rng.uniform(0, np.pi)
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    yy, xx = np.mgrid[0:h, 0:w]
    across = (xx - cx) * -np.sin(theta) + (yy - cy) * np.cos(theta)
    along = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
    # Signed distance to the fold in pixels; paper never folds quite straight.
    s = across + rng.uniform(0, 1.5) * np.sin(along / rng.uniform(20, 80) + rng.uniform(0, 2 * np.pi))
    width = rng.uniform(0.6, 1.4)
    valley = rng.uniform(0.15, 0.4) * np.exp(-((s / width) ** 2))
    ridge = rng.uniform(0.05, 0.2) * np.exp(-(((s - 1.5 * width) / width) ** 2))
    # The side with s < 0 tilts away from the light: darkest at the fold, fading over `falloff` pixels.
    falloff = rng.uniform(5, 40)
    shade = rng.uniform(0.03, 0.1) * np.where(s < 0, np.exp(np.minimum(s, 0) / falloff), 0.0)
    return ridge - valley - shade


def noise_field(rng, h, w):
    """Additive noise, (h, w): paper grain (white noise smoothed over a few pixels) plus sensor noise."""
    grain = gaussian_filter(rng.standard_normal((h, w)), sigma=rng.uniform(1.5, 4))
    grain /= max(grain.std(), 1e-12)
    return rng.uniform(0.005, 0.03) * grain + rng.uniform(0.01, 0.05) * rng.standard_normal((h, w))


def _projection(theta, h, w):
    """(h, w): each pixel's coordinate along the direction theta (radians from the x axis)."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.cos(theta) * xx + np.sin(theta) * yy


def _polar(cy, cx, h, w):
    """(h, w) distance and angle of every pixel from the centre (cy, cx)."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.hypot(yy - cy, xx - cx), np.arctan2(yy - cy, xx - cx)


def _wobble(rng, angle, amount):
    """1 + a sum of harmonics 2..4 of the angle, each up to `amount`: a circle made irregular."""
    k = np.arange(2, 5)[:, None, None]
    a = rng.uniform(0, amount, size=(3, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(3, 1, 1))
    return 1 + (a * np.sin(k * angle + phase)).sum(axis=0)


def random_crops(clean, dirty, n, size, rng):
    """`n` aligned crops of (h, w) pixels from page pairs, to train on pages larger than the model's input.

    Args:
        clean, dirty: sequences of (C, H, W) arrays (an (N, C, H, W) array is one), pairwise the
            same size; pages may differ in height and width from each other (as Kaggle's do).
        n: number of crops.
        size: (h, w), at most the size of every page.
        rng: numpy Generator. Every crop position of every page is equally likely.

    Returns:
        clean_crops, dirty_crops: (n, C, h, w) each; dirty_crops[i] is the same window as clean_crops[i].
    """
    _check_generator(rng)
    h, w = size
    if h < 1 or w < 1:
        raise ValueError(f"random_crops: expected a crop size of at least 1x1, found {h}x{w}")
    if len(clean) != len(dirty) or len(clean) == 0:
        raise DataError(
            f"random_crops: expected as many clean as dirty pages, at least one, found {len(clean)} and {len(dirty)}"
        )
    for i, (c, d) in enumerate(zip(clean, dirty)):
        if c.shape != d.shape or c.ndim != 3 or c.shape[1] < h or c.shape[2] < w:
            raise DataError(
                f"random_crops: page {i}: expected clean and dirty of one shape (C, H, W) with H >= {h}, W >= {w}, "
                f"found {c.shape} and {d.shape}"
            )
    # Choosing a page in proportion to its number of crop positions makes every position equally likely.
    positions = np.array([(c.shape[1] - h + 1) * (c.shape[2] - w + 1) for c in clean], dtype=np.float64)
    pages = rng.choice(len(clean), size=n, p=positions / positions.sum())
    out_clean = np.empty((n, clean[0].shape[0], h, w), dtype=np.result_type(clean[0]))
    out_dirty = np.empty_like(out_clean)
    for i, p in enumerate(pages):
        top = rng.integers(clean[p].shape[1] - h + 1)
        left = rng.integers(clean[p].shape[2] - w + 1)
        out_clean[i] = clean[p][:, top: top + h, left: left + w]
        out_dirty[i] = dirty[p][:, top: top + h, left: left + w]
    return out_clean, out_dirty


@dataclass
class DocumentFolder:
    """Pages of a Kaggle-layout folder; each page a (1, H, W) float32 array in [0, 1], names sorted."""

    train_dirty: list = field(default_factory=list)
    train_clean: list = field(default_factory=list)
    train_names: list = field(default_factory=list)
    test_dirty: list = field(default_factory=list)
    test_names: list = field(default_factory=list)


def load_document_folder(root):
    """Load the "Denoising Dirty Documents" layout: root/train, root/train_cleaned, optional root/test.

    Pages in train/ and train_cleaned/ are paired by file name; every name must be in both, and the
    two images of a pair must have the same size. Lists, not arrays, since page heights differ:
    use random_crops to draw training batches.
    """
    root = Path(root)
    missing = [name for name in ("train", "train_cleaned") if not (root / name).is_dir()]
    if missing:
        found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else "no such folder"
        raise DataError(
            f"document folder {root}: expected subfolders train/ and train_cleaned/ "
            f"(Kaggle 'Denoising Dirty Documents' layout), missing {missing}, found {found}"
        )
    dirty = {p.name: p for p in image_files(root / "train")}
    clean = {p.name: p for p in image_files(root / "train_cleaned")}
    unpaired = sorted(set(dirty) ^ set(clean))
    if unpaired:
        where = ", ".join(f"{n} (only in {'train' if n in dirty else 'train_cleaned'}/)" for n in unpaired[:5])
        more = f" and {len(unpaired) - 5} more" if len(unpaired) > 5 else ""
        raise DataError(
            f"document folder {root}: expected every page in both train/ and train_cleaned/, found {where}{more}"
        )

    pages = DocumentFolder(train_names=sorted(dirty))
    for name in pages.train_names:
        d, c = load_image(dirty[name]), load_image(clean[name])
        if d.shape != c.shape:
            raise DataError(f"{clean[name]}: expected the size of {dirty[name]}, {d.shape[1:]}, found {c.shape[1:]}")
        pages.train_dirty.append(d)
        pages.train_clean.append(c)
    if (root / "test").is_dir():
        test = image_files(root / "test")
        pages.test_names = [p.name for p in test]
        pages.test_dirty = [load_image(p) for p in test]
    return pages


def _check_generator(rng):
    """Only an explicit Generator: a seed or the global np.random state would hide where randomness comes from."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"expected rng to be a numpy.random.Generator (np.random.default_rng(seed)), found {type(rng).__name__}"
        )
