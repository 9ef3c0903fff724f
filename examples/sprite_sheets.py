"""The pictures of the shipped sprite models: a sheet per class, the 64 px plants, and the old default beside the new.

    python examples/sprite_sheets.py [--out procgen/models] [--old OLD_PLANTS.npz] [--force]

Writes into --out:
    samples.png       every class of plants and clothing, 12 sprites each, as `procgen sample` draws them by default
    plants64.png      the 64 px plant model, 8 sprites per species
    before_after.png  with --old (a checkpoint of the earlier Bernoulli plant model, e.g. from git history):
                      its default output beside the new model's, 24 sprites each, the same command
Every sprite is `SpriteSampler.sample(n, seed=7, cls=c)` with the model's default style, shown at 3x on
a dark ground. --quick draws fewer sprites per row (the mode the tests run).
"""

import sys

import _common  # noqa: F401  (sets the thread environment before numpy loads)

from _common import make_parser, prepare_out, save

BACKGROUND, INK = (36, 40, 56), (225, 225, 235)


def rows_of(sampler, per_class, seed=7):
    """[(label, sprites (n, H, W, 4))] one row per class of the sampler, default style."""
    return [(name, sampler.sample(per_class, seed, cls=name).sprites) for name in sampler.class_names]


def sheet(title, rows, scale=3, pad=6, left=110):
    """Rows of sprites under a title, each row labelled, on the dark ground: a PIL RGB image."""
    from PIL import Image, ImageDraw

    h, w = rows[0][1].shape[1:3]
    cell_w, cell_h = w * scale + pad, h * scale + pad
    width = left + max(len(s) for _, s in rows) * cell_w + pad
    canvas = Image.new("RGBA", (width, 26 + len(rows) * cell_h + pad), (*BACKGROUND, 255))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 8), title, fill=INK)
    for r, (label, sprites) in enumerate(rows):
        y = 26 + r * cell_h
        draw.text((pad, y + cell_h // 2 - 6), label, fill=INK)
        for i, sprite in enumerate(sprites):
            tile = Image.fromarray(sprite).resize((w * scale, h * scale), Image.NEAREST)
            canvas.alpha_composite(tile, (left + i * cell_w, y + pad))
    return canvas.convert("RGB")


def stacked(images, gap=10):
    """PIL images one under another on the dark ground."""
    from PIL import Image

    canvas = Image.new("RGB", (max(im.width for im in images), sum(im.height for im in images) + gap * len(images)),
                       BACKGROUND)
    y = 0
    for im in images:
        canvas.paste(im, (0, y))
        y += im.height + gap
    return canvas


def main(argv=None):
    from pathlib import Path

    parser = make_parser(__doc__, "sprite_sheets")
    parser.set_defaults(out=Path("procgen/models"))
    parser.add_argument("--old", type=Path, help="an earlier plant checkpoint for before_after.png")
    args = parser.parse_args(argv)
    names = ["samples.png", "plants64.png"] + (["before_after.png"] if args.old else [])
    out = prepare_out(args.out, names, args.force)
    per = 4 if args.quick else 12

    from procgen.errors import ProcgenError
    from procgen.sampler import SpriteSampler

    try:
        plants, clothing = SpriteSampler.load("plants"), SpriteSampler.load("clothing")
        big = SpriteSampler.load("plants64")
    except ProcgenError as err:
        sys.exit(f"error: {err}")
    save(stacked([sheet(f"plants: {per} sprites per species, default style (procgen sample --model plants)",
                        rows_of(plants, per)),
                  sheet(f"clothing: {per} sprites per Fashion-MNIST class, default style", rows_of(clothing, per))]),
         out / "samples.png", args.force)
    save(sheet("plants64: the 64 px plant model, default style", rows_of(big, per // 2 + 2), scale=2),
         out / "plants64.png", args.force)
    if args.old:
        n = 8 if args.quick else 24
        old = SpriteSampler.load(args.old).sample(n, 7, palette=None, outline=None).sprites
        new = plants.sample(n, 7).sprites
        save(sheet("procgen sample --model plants -n 24 --seed 7: before (Bernoulli model) and after (palette model)",
                   [("before", old), ("after", new)]), out / "before_after.png", args.force)
    return {"written": names}


if __name__ == "__main__":
    main()
