"""Your own art: a folder of a few hundred pixel-art sprites -> a palette model -> new sprites in that style.

    python examples/own_art.py [--out runs/own_art] [--per-class 100] [--epochs 400] [--quick] [--force]

The workflow of `procgen train --images DIR`, end to end, on an art set the project draws itself
(examples/art_set.py: potions, gems and swords, a class per folder, some saved upscaled x2 and x3):

1. art/           the art set, as an artist would hand it over
2. items.npz      `procgen.train.run(images=art, size=16)`: each sprite loaded crisp (procgen.images),
                  quantized to its class palette (procgen.quantize), a class-conditioned palette VAE
3. own_art.png    the art beside what the model makes: the same classes, the same palettes, new sprites
4. summary.txt    setup, training time and loss, colours per sprite, redraws

Writes into --out: art/, items.npz, items.novelty.npz, own_art.png, summary.txt, summary.json.
"""

import sys

import _common  # noqa: F401  (sets the thread environment before numpy loads)
import numpy as np

from _common import Summary, machine, make_parser, positive_int, prepare_out, save

NAMES = ("items.npz", "items.novelty.npz", "own_art.png", "summary.txt", "summary.json")
SHOWN = 12  # sprites per class in the figure


def grid(rows, scale=4, gap=4, background=(36, 40, 56)):
    """Rows of RGBA sprites (each (n, H, W, 4)) as one RGB picture, each sprite scaled by nearest neighbour."""
    from PIL import Image

    h, w = rows[0].shape[1:3]
    cell = (h * scale + gap, w * scale + gap)
    canvas = Image.new("RGBA", (gap + max(len(r) for r in rows) * cell[1], gap + len(rows) * cell[0]),
                       (*background, 255))
    for i, row in enumerate(rows):
        for j, sprite in enumerate(row):
            tile = Image.fromarray(sprite).resize((w * scale, h * scale), Image.NEAREST)
            canvas.alpha_composite(tile, (gap + j * cell[1], gap + i * cell[0]))
    return canvas.convert("RGB")


def panels(titled, gap=24, title_height=22):
    """(title, RGB image) pairs side by side on the figure background, each title above its image."""
    from PIL import Image, ImageDraw

    width = sum(im.width for _, im in titled) + gap * (len(titled) + 1)
    height = max(im.height for _, im in titled) + title_height + 2 * gap
    canvas = Image.new("RGB", (width, height), (24, 26, 36))
    draw, x = ImageDraw.Draw(canvas), gap
    for title, im in titled:
        draw.text((x, gap // 2), title, fill=(225, 225, 235))
        canvas.paste(im, (x, gap // 2 + title_height))
        x += im.width + gap
    return canvas


def main(argv=None):
    parser = make_parser(__doc__, "own_art")
    parser.add_argument("--per-class", type=positive_int, default=100, help="sprites of each class (default 100)")
    parser.add_argument("--epochs", type=positive_int, default=400, help="training epochs (default 400)")
    args = parser.parse_args(argv)
    per_class, epochs = (20, 3) if args.quick else (args.per_class, args.epochs)
    out = prepare_out(args.out, NAMES, args.force)

    from art_set import CLASSES, make_art_set

    from procgen.images import load_sprite_folder
    from procgen.quality import colour_counts
    from procgen.sampler import SpriteSampler
    from procgen.train import run

    summary = Summary("Your own art: a palette model trained on a folder of sprites")
    summary.note(f"machine: {machine()}")
    summary.note(f"setup: examples/art_set.py, {per_class} sprites per class of {', '.join(CLASSES)}, seed "
                 f"{args.seed}; procgen train --images art --size 16 --epochs {epochs} --batch-size 32 "
                 f"--latent 8 --encoder 128 --decoder 128,128 --warmup-epochs 10")
    try:
        make_art_set(out / "art", np.random.default_rng(args.seed), per_class, force=args.force)
    except FileExistsError as err:
        sys.exit(f"error: {err}")
    trained = run(images=out / "art", out=out / "items.npz", n=None, size=16, force=args.force, progress=False,
                  epochs=epochs, batch_size=32, latent=8, encoder=(128,), decoder=(128, 128), warmup_epochs=10,
                  seed=args.seed)
    summary.add("training_images", trained["images"])
    summary.add("training_seconds", round(trained["seconds"], 1), unit="s")
    summary.add("final_loss", round(trained["loss"], 2), unit="nats per sprite")

    art, labels, _, _ = load_sprite_folder(out / "art", 16)
    art = (art.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)  # (N, 4, H, W) -> (N, H, W, 4)
    sampler = SpriteSampler.load(out / "items.npz")
    made = [sampler.sample(SHOWN, args.seed, cls=name) for name in sampler.class_names]  # rows as the input's
    for name, result in zip(sampler.class_names, made):
        summary.add(f"colours_per_sprite_{name}", int(np.median(colour_counts(result.sprites))), unit="(median)")
        summary.add(f"redraws_{name}", result.stats.decoded - SHOWN)
    figure = panels([("the art set (input)", grid([art[labels == k][:SHOWN] for k in range(len(made))])),
                     ("sprites the model made (output)", grid([r.sprites for r in made]))])
    save(figure, out / "own_art.png", args.force)
    summary.write(out, args.force)
    return summary.values


if __name__ == "__main__":
    main()
