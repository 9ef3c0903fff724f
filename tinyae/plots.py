"""Pictures with pillow alone: image grids, labelled comparison rows, latent scatter, 2-D manifold,
loss curves and histograms. Every function returns a ``PIL.Image``; ``save_png`` writes one to disk.

Images come in as NCHW float arrays in [0, 1] (C = 1 gray, 3 RGB, 4 RGBA), like everywhere in tinyae;
values outside [0, 1] are clipped, and v becomes the byte round(255 v).
The charts share one small layout: a plot area of a size you choose, with margins around it sized
to fit the tick labels, axis labels and title, drawn in pillow's built-in font.
"""

import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.special import ndtri

from tinyae.checkpoint import write_atomic
from tinyae.errors import ShapeError

# matplotlib's tab10, then tab20's light partner of each: 20 colours a reader can tell apart.
PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    (174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213),
    (196, 156, 148), (247, 182, 210), (199, 199, 199), (219, 219, 141), (158, 218, 229),
]  # fmt: skip
INK = (34, 34, 34)
GRID = (228, 228, 228)
WHITE = (255, 255, 255)
FONT_SIZE = 13
PAD = 8  # pixels between text and whatever it labels
TICK = 4  # length of a tick mark
SUPERSAMPLE = 3  # charts are drawn this many times larger, then shrunk: smooth lines and dots


# ---------------------------------------------------------------- text


@functools.lru_cache(maxsize=None)
def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        return ImageFont.load_default()


def _text_size(text, size=FONT_SIZE):
    """(width, height) of text; the height is that of "Ag", so lines of text align whatever their letters."""
    font = _font(size)
    x0, _, x1, _ = font.getbbox(text)
    _, y0, _, y1 = font.getbbox("Ag")
    return x1 - x0, y1 - y0


def _text(draw, xy, text, anchor="lt", fill=INK, size=FONT_SIZE):
    """Draw text with its box placed at xy by anchor: horizontal l/m/r then vertical t/m/b."""
    font = _font(size)
    x0, _, _, _ = font.getbbox(text)
    _, y0, _, _ = font.getbbox("Ag")
    w, h = _text_size(text, size)
    x = xy[0] - {"l": 0, "m": w / 2, "r": w}[anchor[0]] - x0
    y = xy[1] - {"t": 0, "m": h / 2, "b": h}[anchor[1]] - y0
    draw.text((round(x), round(y)), text, font=font, fill=fill)


def _text_vertical(img, center, text, fill=INK, size=FONT_SIZE):
    """Text turned 90 degrees counter-clockwise (reading upwards), centred at center."""
    w, h = _text_size(text, size)
    mask = Image.new("L", (w + 2, h + 2), 0)
    _text(ImageDraw.Draw(mask), (1, 1), text, fill=255, size=size)
    mask = mask.rotate(90, expand=True)
    img.paste(Image.new("RGB", mask.size, fill), (center[0] - mask.width // 2, center[1] - mask.height // 2), mask)


# ---------------------------------------------------------------- axes


def _nice_ticks(lo, hi, count=7, integer=False):
    """Round numbers 1, 2 or 5 times a power of ten apart inside [lo, hi], as (value, label) pairs."""
    raw = (hi - lo) / count
    step = 10.0 ** math.floor(math.log10(raw))
    step = next(m * step for m in (1, 2, 5, 10) if m * step >= raw)
    if integer:
        step = max(step, 1.0)
    decimals = max(0, -math.floor(math.log10(step)))
    ticks = np.arange(math.ceil(lo / step), math.floor(hi / step) + 1) * step
    return [(t, _format(t, decimals)) for t in ticks]


def _format(value, decimals):
    return f"{round(value, decimals) + 0.0:.{decimals}f}"  # + 0.0 turns -0.0 into 0.0


def _log_ticks(lo, hi):
    """Powers of ten inside [lo, hi] (lo > 0), with 2 and 5 times them when hi / lo is under 1000."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    mantissas = (1,) if hi / lo >= 1000 else (1, 2, 5)
    ticks = [m * 10.0**e for e in decades for m in mantissas]
    return [(t, f"{t:g}") for t in ticks if lo <= t <= hi]


def _limits(values, margin=0.05):
    """(lo, hi) around the values with a margin on each side; a single value gets a unit-wide range."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi == lo:
        return lo - 0.5, hi + 0.5
    return lo - margin * (hi - lo), hi + margin * (hi - lo)


class _Axes:
    """A white figure with a framed plot area of plot_size pixels, tick labels, axis labels and title.

    Everything is drawn ``s`` = SUPERSAMPLE times larger and ``finish()`` shrinks it by averaging
    s x s blocks: pillow draws lines and dots without anti-aliasing, and this smooths their edges.
    So drawing code works in big pixels: ``to_u(x)``, ``to_v(y)`` give big-pixel coordinates of data
    (x grows right, y grows up, on a log10 scale when ylog), and widths are multiplied by ``s``.
    ticks: (value, label) pairs. extra_right: room right of the plot in final pixels, e.g. for a legend.
    """

    def __init__(self, plot_size, xlim, ylim, xticks, yticks, title=None, xlabel=None, ylabel=None,
                 ylog=False, extra_right=0):  # fmt: skip
        s = self.s = SUPERSAMPLE
        font, text_h = FONT_SIZE * s, _text_size("Ag", FONT_SIZE * s)[1]
        label_w = max((_text_size(label, font)[0] for _, label in yticks), default=0)
        # Margins in big pixels, rounded up to whole final pixels so the plot area stays pixel-aligned.
        left = _round_up(s * PAD + (text_h + s * PAD if ylabel else 0) + label_w + s * (TICK + PAD), s)
        top = _round_up(s * PAD + (_text_size(title, font + 2 * s)[1] + s * PAD if title else 0) + s * PAD, s)
        bottom = _round_up(s * (TICK + PAD) + text_h + (s * PAD + text_h if xlabel else 0) + s * PAD, s)
        width, height = s * plot_size[0], s * plot_size[1]
        self.box = (left, top, left + width, top + height)  # plot area, right and bottom exclusive
        self.xlim = xlim
        self.ylog = ylog
        self.ylim = tuple(np.log10(ylim)) if ylog else ylim
        self.img = Image.new("RGB", (left + width + s * (PAD + extra_right), top + height + bottom), WHITE)
        self.draw = d = ImageDraw.Draw(self.img, "RGBA")  # RGBA: translucent fills blend into the figure
        for x, label in xticks:
            u = _round_up(self.to_u(x) - s // 2, s)  # grid lines one final pixel wide, on a pixel
            d.rectangle([u, top, u + s - 1, top + height - 1], fill=GRID)
            d.rectangle([u, top + height, u + s - 1, top + height + s * TICK - 1], fill=INK)
            _text(d, (u + s // 2, top + height + s * (TICK + PAD // 2)), label, "mt", size=font)
        for y, label in yticks:
            v = _round_up(self.to_v(y) - s // 2, s)
            d.rectangle([left, v, left + width - 1, v + s - 1], fill=GRID)
            d.rectangle([left - s * TICK, v, left - 1, v + s - 1], fill=INK)
            _text(d, (left - s * (TICK + PAD // 2), v + s // 2), label, "rm", size=font)
        d.rectangle([left - s, top - s, left + width + s - 1, top + height + s - 1], outline=INK, width=s)
        if title:
            _text(d, (left + width // 2, s * PAD), title, "mt", size=font + 2 * s)
        if xlabel:
            _text(d, (left + width // 2, self.img.height - s * PAD), xlabel, "mb", size=font)
        if ylabel:
            _text_vertical(self.img, (s * PAD + text_h // 2, top + height // 2), ylabel, size=font)

    def to_u(self, x):
        """Big-pixel column of data x: xlim[0] -> the plot's left edge, xlim[1] -> its right edge."""
        left, _, right, _ = self.box
        x0, x1 = self.xlim
        return left + (np.asarray(x, dtype=float) - x0) / (x1 - x0) * (right - left)

    def to_v(self, y):
        """Big-pixel row of data y: ylim[0] -> the plot's bottom edge, ylim[1] -> its top edge."""
        _, top, _, bottom = self.box
        y0, y1 = self.ylim
        y = np.log10(y) if self.ylog else np.asarray(y, dtype=float)
        return bottom - (y - y0) / (y1 - y0) * (bottom - top)

    def legend(self, names, colours, kind, corner=None):
        """A framed legend, a dot (kind="dot") or a line per name; top-left corner in big pixels,
        by default inside the plot's top-right corner."""
        s, font = self.s, FONT_SIZE * self.s
        line_h = _text_size("Ag", font)[1] + s * PAD // 2
        w = s * (2 * PAD + 14 + PAD // 2) + max(_text_size(name, font)[0] for name in names)
        h = s * 2 * PAD + len(names) * line_h
        x, y = corner or (self.box[2] - w - s * PAD, self.box[1] + s * PAD)
        self.draw.rectangle([x, y, x + w - 1, y + h - 1], fill=(255, 255, 255, 230), outline=(190, 190, 190), width=s)
        for i, (name, colour) in enumerate(zip(names, colours)):
            cy = y + s * PAD + i * line_h + line_h // 2
            if kind == "dot":
                self.draw.ellipse([x + s * (PAD + 3), cy - 4 * s, x + s * (PAD + 11), cy + 4 * s], fill=colour)
            else:
                self.draw.line([(x + s * PAD, cy), (x + s * (PAD + 14), cy)], fill=colour, width=3 * s)
            _text(self.draw, (x + s * (PAD + 14 + PAD // 2), cy), name, "lm", size=font)

    def finish(self):
        """The figure at its final size."""
        return self.img.reduce(self.s)


def _legend_width(names):
    """Final-pixel width of a legend for names, as _Axes.legend draws it."""
    return 2 * PAD + 14 + PAD // 2 + math.ceil(max(_text_size(n, FONT_SIZE * SUPERSAMPLE)[0] for n in names) / SUPERSAMPLE)


def _round_up(x, s):
    return int(math.ceil(x / s)) * s


# ---------------------------------------------------------------- image grids


def _as_images(images):
    """images as a float64 (N, C, H, W) array clipped to [0, 1], C in {1, 3, 4}."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[1] not in (1, 3, 4) or len(x) == 0:
        raise ShapeError(f"images must be (N, C, H, W) with N >= 1 and C = 1, 3 or 4; got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise ShapeError(f"images must be numeric, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ShapeError(f"images contain {x.size - np.isfinite(x).sum()} NaN or infinite values")
    return np.clip(x.astype(np.float64), 0, 1)


def _to_pil(chw):
    """(C, H, W) floats in [0, 1] -> PIL image of mode L, RGB or RGBA."""
    hwc = np.rint(chw * 255).astype(np.uint8).transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    return Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)


def image_grid(images, ncols=None, scale=1, pad=1, bg=1.0, alpha="checkerboard"):
    """Tile images (N, C, H, W) in [0, 1] into one picture, row by row: image i at row i // ncols, column i % ncols.

    Cell i has its top-left corner at (pad + col * (W*scale + pad), pad + row * (H*scale + pad));
    every image is enlarged ``scale`` times by repeating pixels (crisp, for pixel art).
    ncols: columns, ceil(sqrt(N)) by default. pad: pixels of bg between and around the cells.
    bg: gray level in [0, 1], or an (r, g, b) tuple in [0, 1] (gray images then become RGB).
    alpha (C = 4 only): "checkerboard" composites each image over a gray checkerboard and returns RGB,
    so transparency is visible; "keep" returns an RGBA image with the alpha channel as it was.
    Returns a PIL image of mode L (C = 1), RGB, or RGBA.
    """
    x = _as_images(images)
    N, C, H, W = x.shape
    ncols = math.ceil(math.sqrt(N)) if ncols is None else ncols
    if not all(isinstance(v, int) for v in (ncols, scale, pad)) or ncols < 1 or scale < 1 or pad < 0:
        raise ValueError(f"image_grid needs integers ncols >= 1, scale >= 1, pad >= 0; got {ncols}, {scale}, {pad}")
    if alpha not in ("checkerboard", "keep"):
        raise ValueError(f"alpha must be 'checkerboard' or 'keep', got {alpha!r}")
    bg = np.asarray(bg, dtype=np.float64)
    if bg.shape not in ((), (3,)):
        raise ValueError(f"bg must be a gray level or an (r, g, b) tuple in [0, 1], got {bg.tolist()}")
    if bg.shape == (3,) and C == 1:
        x = np.repeat(x, 3, axis=1)  # (N, 1, H, W) -> (N, 3, H, W)
        C = 3
    fill = np.broadcast_to(bg, (min(C, 3),))  # one value per colour channel
    if C == 4:
        fill = np.append(fill, 1.0)  # the pad is opaque
    x = x.repeat(scale, axis=2).repeat(scale, axis=3)  # (N, C, H, W) -> (N, C, H*scale, W*scale)
    h, w = H * scale, W * scale
    nrows = math.ceil(N / ncols)
    canvas = np.empty((C, pad + nrows * (h + pad), pad + ncols * (w + pad)))
    canvas[:] = fill[:, None, None]
    for i in range(N):
        top, left = pad + (i // ncols) * (h + pad), pad + (i % ncols) * (w + pad)
        canvas[:, top : top + h, left : left + w] = x[i]
    if C == 4 and alpha == "checkerboard":
        rows, cols = np.indices(canvas.shape[1:])
        checker = np.where((rows // 8 + cols // 8) % 2 == 0, 0.8, 0.6)  # 8-pixel squares, light grays
        a = canvas[3]
        canvas = canvas[:3] * a + checker * (1 - a)  # (4, Ht, Wt) -> (3, Ht, Wt): "over" compositing
    return _to_pil(canvas)


def save_png(img, path, force=False):
    """Write img as a PNG at path, atomically, creating parent directories.

    Raises FileExistsError if path exists and force is false.
    """
    if not isinstance(img, Image.Image):
        raise TypeError(f"save_png needs a PIL.Image, got {type(img).__name__}")
    write_atomic(path, lambda f: img.save(f, format="PNG"), force=force)


def row_comparison(rows, scale=2, pad=2, bg=0.85):
    """Labelled rows of images, e.g. [("clean", x), ("noisy", x_noisy), ("denoised", x_hat)].

    rows: list of (label, images (N_r, C, H, W) in [0, 1]); each row is ``image_grid`` with one row,
    drawn right of its label. Returns an RGB image.
    """
    if not rows:
        raise ValueError("row_comparison needs at least one (label, images) row")
    grids = [image_grid(images, ncols=len(images), scale=scale, pad=pad, bg=bg).convert("RGB") for _, images in rows]
    label_w = max(_text_size(label)[0] for label, _ in rows) + 2 * PAD
    width = label_w + max(g.width for g in grids) + PAD
    height = sum(g.height for g in grids) + (len(grids) + 1) * PAD // 2
    img = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(img)
    y = PAD // 2
    for (label, _), grid in zip(rows, grids):
        _text(draw, (label_w - PAD, y + grid.height // 2), label, "rm")
        img.paste(grid, (label_w, y))
        y += grid.height + PAD // 2
    return img


# ---------------------------------------------------------------- charts


def latent_scatter(z, labels=None, class_names=None, size=600, title="latent space", alpha=0.7, radius=None):
    """Scatter of 2-D codes z (N, 2), one colour per class, with axes, a legend and a title.

    labels: (N,) integers in [0, K), or None for one colour and no legend.
    class_names: K names for the legend, "0" ... "K-1" by default. K <= len(PALETTE) = 20.
    size: side of the square plot area in pixels. alpha: opacity of a point, so dense regions show.
    radius: of a point in pixels, size / 250 (at least 1.5) by default.
    Points are drawn in the order given: shuffle first if one class should not hide another.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 2 or len(z) == 0:
        raise ShapeError(f"latent_scatter needs z of shape (N, 2) with N >= 1, got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ShapeError(f"z contains {z.size - np.isfinite(z).sum()} NaN or infinite values")
    if labels is None:
        labels, names = np.zeros(len(z), dtype=int), None
    else:
        labels = np.asarray(labels)
        if labels.shape != (len(z),) or labels.dtype.kind not in "iu":
            raise ShapeError(f"labels must be {len(z)} integers, one per row of z; got {labels.dtype} {labels.shape}")
        k = int(labels.max()) + 1 if class_names is None else len(class_names)
        names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
        if labels.min() < 0 or labels.max() >= len(names):
            raise ValueError(f"labels must lie in [0, {len(names)}), found {labels.min()} to {labels.max()}")
        if len(names) > len(PALETTE):
            raise ValueError(f"latent_scatter can colour up to {len(PALETTE)} classes, got {len(names)}")
    xlim, ylim = _limits(z[:, 0]), _limits(z[:, 1])
    legend_w = _legend_width(names) + PAD if names else 0
    ax = _Axes((size, size), xlim, ylim, _nice_ticks(*xlim), _nice_ticks(*ylim), title, "z[0]", "z[1]",
               extra_right=legend_w)  # fmt: skip
    r = ax.s * (max(1.5, size / 250) if radius is None else radius)
    u, v = ax.to_u(z[:, 0]), ax.to_v(z[:, 1])
    a = round(255 * alpha)
    for ui, vi, c in zip(u, v, labels):
        ax.draw.ellipse([ui - r, vi - r, ui + r, vi + r], fill=PALETTE[c] + (a,))
    if names:
        ax.legend(names, PALETTE, "dot", corner=(ax.box[2] + ax.s * 2 * PAD, ax.box[1]))
    return ax.finish()


def manifold(decode_fn, n=20, image_shape=None, latent_dim=2, dims=(0, 1), scale=1, pad=0, axes=True, title=None):
    """Decode an n x n grid of latent points into one picture: the learned 2-D manifold.

    The grid values are Gaussian quantiles, g = ndtri(linspace(0.05, 0.95, n)) (scipy.stats.norm.ppf),
    so neighbouring cells hold equal prior probability mass under z ~ N(0, I), as in the Keras VAE tutorial.
    Cell (row r, column c) decodes the latent with z[dims[0]] = g[c] and z[dims[1]] = g[n-1-r]: z[dims[0]]
    grows to the right and z[dims[1]] grows upwards, as in ``latent_scatter``. Other latent dims are 0.

    decode_fn: called once with Z (n*n, latent_dim) float64, rows in reading order (index r*n + c);
    returns (n*n, C, H, W) images in [0, 1], or (n*n, D) with image_shape = (C, H, W) to reshape them.
    axes: add tick labels with the z values of some cells; False returns the bare image_grid.
    """
    if not (0 <= dims[0] < latent_dim and 0 <= dims[1] < latent_dim and dims[0] != dims[1]):
        raise ValueError(f"dims must be two different latent dimensions in [0, {latent_dim}), got {dims}")
    g = ndtri(np.linspace(0.05, 0.95, n))  # (n,)
    rows, cols = np.divmod(np.arange(n * n), n)
    Z = np.zeros((n * n, latent_dim))
    Z[:, dims[0]] = g[cols]
    Z[:, dims[1]] = g[n - 1 - rows]
    images = np.asarray(decode_fn(Z))
    if image_shape is not None:
        images = images.reshape(n * n, *image_shape)  # (n*n, D) -> (n*n, C, H, W)
    if len(images) != n * n:
        raise ShapeError(f"decode_fn returned {len(images)} images for {n * n} latents")
    grid = image_grid(images, ncols=n, scale=scale, pad=pad).convert("RGB")
    if not axes:
        return grid
    cell = (grid.width - pad) / n  # pixels per cell, pad included
    shown = np.unique(np.round(np.linspace(0, n - 1, min(n, 5))).astype(int))
    # Axes in grid pixels (y counted downwards), ticks at the centres of the shown cells.
    xticks = [(pad + c * cell + (cell - pad) / 2, _format(g[c], 2)) for c in shown]
    yticks = [(pad + r * cell + (cell - pad) / 2, _format(g[n - 1 - r], 2)) for r in shown]
    ax = _Axes(grid.size, (0, grid.width), (grid.height, 0), xticks, yticks, title, f"z[{dims[0]}]", f"z[{dims[1]}]")
    img = ax.finish()
    img.paste(grid, (ax.box[0] // ax.s, ax.box[1] // ax.s))
    return img


def loss_curves(history, title="loss", log=False, size=(560, 320), xlabel="epoch", ylabel="loss", legend=True):
    """Curves of per-epoch values, one colour per series, with axes and a legend.

    history: {name: [value per epoch]}, or a tinyae.train.History (its .loss and .val_loss lists; empty
    ones are left out). Epochs are numbered from 1. Non-finite values (a diverged run) break the line there.
    log: log10 y axis (values must then be > 0). size: (width, height) of the plot area in pixels.
    legend: name the series in the plot's top-right corner.
    """
    if not isinstance(history, dict):
        history = {"train": history.loss, "validation": history.val_loss}
    series = {name: np.asarray(values, dtype=np.float64) for name, values in history.items() if len(values)}
    finite = np.concatenate([s[np.isfinite(s)] for s in series.values()]) if series else np.array([])
    if finite.size == 0:
        raise ValueError("loss_curves needs at least one finite value")
    if log and finite.min() <= 0:
        raise ValueError(f"a log scale needs values > 0, found {finite.min()}")
    longest = max(len(s) for s in series.values())
    xlim = _limits([1, longest], margin=0.02)
    if log:
        lo, hi = _limits(np.log10(finite))
        ylim, yticks = (10**lo, 10**hi), _log_ticks(10**lo, 10**hi)
    else:
        ylim = _limits(finite)
        yticks = _nice_ticks(*ylim)
    ax = _Axes(size, xlim, ylim, _nice_ticks(*xlim, integer=True), yticks, title, xlabel, ylabel, ylog=log)
    for (name, s), colour in zip(series.items(), PALETTE):
        with np.errstate(invalid="ignore", divide="ignore"):  # log10 of a non-finite or negative value
            u, v = ax.to_u(np.arange(1, len(s) + 1)), ax.to_v(s)
        for start, stop in _runs(np.isfinite(v)):
            points = list(zip(u[start:stop], v[start:stop]))
            r = 2 * ax.s
            if len(points) == 1:
                ax.draw.ellipse([points[0][0] - r, points[0][1] - r, points[0][0] + r, points[0][1] + r], fill=colour)
            else:
                ax.draw.line(points, fill=colour, width=r, joint="curve")
    if legend:
        ax.legend(list(series), PALETTE, "line")
    return ax.finish()


def _runs(mask):
    """(start, stop) of each run of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))  # (n + 1,): +1 at a start, -1 after an end
    return zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))


def histogram(values, bins=50, title="histogram", range=None, size=(480, 280), xlabel="value", ylabel="count"):
    """Histogram of values (any shape, flattened), e.g. one layer's activations: bars of counts per bin.

    bins and range as in numpy.histogram. Non-finite values are left out and counted in the title.
    size: (width, height) of the plot area in pixels.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("histogram needs at least one finite value")
    if finite.size < values.size:
        title = f"{title} ({values.size - finite.size} non-finite left out)"
    counts, edges = np.histogram(finite, bins=bins, range=range)
    xlim, ylim = (float(edges[0]), float(edges[-1])), (0.0, max(1.0, counts.max() * 1.05))
    ax = _Axes(size, xlim, ylim, _nice_ticks(*xlim), _nice_ticks(*ylim, integer=True), title, xlabel, ylabel)
    u, v, base = ax.to_u(edges), ax.to_v(counts), ax.to_v(0.0)
    for i, count in enumerate(counts):
        if count:
            # A white edge separates neighbouring bars; on very thin bars it would hide the colour.
            edge = WHITE if u[i + 1] - u[i] > 4 * ax.s else None
            ax.draw.rectangle([u[i], min(v[i], base - 1), u[i + 1] - 1, base - 1], fill=PALETTE[0], outline=edge, width=ax.s)
    return ax.finish()
