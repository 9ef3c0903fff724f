"""``procgen``: sprites from a trained model on the command line.

    procgen sample --model plants -n 64 --seed 7 [--class NAME] [style] --out DIR
        DIR/<kind>_0000.png ...  one PNG per sprite
        DIR/sheet.png            all of them on one grid, to look at
        DIR/manifest.json        per sprite: file, key, seed, index, attempt, class, latent; and the settings
    procgen at --model plants --world 42 --x 10 --y -3 [--class NAME] [style] --out FILE.png
    procgen train (--dataset plants|fashion-mnist | --images DIR) --out MODEL.npz [training options]
    procgen sheet ... / procgen godot-addon ...   sheets with atlases for game engines (procgen.cli_export)

    style: [--palette NAME|FILE.gpl] [--outline [#RRGGBB]] [--mirror] [--scale S]

The same command gives the same files, byte for byte. Nothing is overwritten without --force.
Exit status: 0 done; 2 bad arguments or bad input (a message naming the problem, and the usage).

Each subcommand is one ``add_<name>(subparsers)`` that builds its parser and sets ``run`` to one small
function of the parsed arguments; a new subcommand is one more such pair, listed in ``COMMANDS``.
"""

import argparse
import io
import json
import sys
from pathlib import Path

from PIL import Image

from tinyae.errors import TinyAEError

from tinyae.argtypes import fraction, positive_int
from procgen import cli_export
from procgen.errors import ProcgenError

OUTLINE = "#1a1c2c"  # --outline without a colour: a near-black that reads as an ink line


# --- shared pieces -------------------------------------------------------------------------------


def _model_arguments(parser):
    parser.add_argument("--model", default="plants", help="plants, clothing or a checkpoint .npz (default plants)")
    parser.add_argument("--class", dest="cls", metavar="NAME", help="sample this class's latent Gaussian")
    _threshold_arguments(parser, "default: the model's")


def _threshold_arguments(parser, default):
    """--uniqueness and --novelty; ``default`` says in the help where an omitted value comes from."""
    parser.add_argument("--uniqueness", type=fraction, metavar="D",
                        help=f"no two sprites closer than this distance ({default})")
    parser.add_argument("--novelty", type=fraction, metavar="D",
                        help=f"no sprite closer than this to a training image ({default})")


def _style_arguments(parser):
    parser.add_argument("--palette", metavar="NAME|FILE", help="built-in palette name or a GIMP .gpl file")
    parser.add_argument("--outline", nargs="?", const=OUTLINE, metavar="#RRGGBB",
                        help=f"draw a 1-pixel outline (default colour {OUTLINE})")
    parser.add_argument("--mirror", action="store_true", help="make sprites left-right symmetric")
    parser.add_argument("--scale", type=positive_int, default=1, metavar="S", help="upscale by S (nearest)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated widths such as 128,128, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return tuple(values)


def _style(args):
    """The post-processing options of the parsed arguments, checked before any work is done."""
    if args.palette is not None:
        from procgen.palettes import get_palette

        get_palette(args.palette)
    if args.outline is not None:
        from procgen.palettes import parse_color

        parse_color(args.outline, "outline")
    return {"palette": args.palette, "outline": args.outline, "mirror": args.mirror, "scale": args.scale}


def _sampler(args):
    from procgen.sampler import SpriteSampler

    thresholds = {k: getattr(args, k) for k in ("uniqueness", "novelty") if getattr(args, k) is not None}
    sampler = SpriteSampler.load(args.model, **thresholds)
    sampler.class_index(args.cls)  # an unknown class fails here, before anything is decoded
    return sampler


def _png(sprite):
    """PNG bytes of an (H, W, 4) uint8 sprite; PIL writes no time stamp, so equal sprites give equal bytes."""
    buffer = io.BytesIO()
    Image.fromarray(sprite).save(buffer, format="PNG")
    return buffer.getvalue()


def _write(path, data):
    """Write bytes atomically with the user's umask (tempfile.mkstemp would make the file private)."""
    from tinyae.checkpoint import write_atomic

    write_atomic(path, lambda f: f.write(data), force=True)


def _check_new_file(path, force):
    if path.exists() and not force:
        raise ProcgenError(f"{path} already exists; pass --force to overwrite it")
    if path.exists() and path.is_dir():
        raise ProcgenError(f"{path} is a folder; expected a file name")


# --- sample --------------------------------------------------------------------------------------


def add_sample(subparsers):
    p = subparsers.add_parser("sample", help="write n sprites, a sheet and a manifest into a folder")
    _model_arguments(p)
    p.add_argument("-n", type=positive_int, default=64, help="how many sprites (default 64)")
    p.add_argument("--seed", type=int, default=0, help="batch seed (default 0)")
    _style_arguments(p)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into (new or empty)")
    p.set_defaults(run=run_sample)
    return p


def run_sample(args):
    from procgen.export.packer import pack

    style = _style(args)
    out = args.out
    if out.exists() and not out.is_dir():
        raise ProcgenError(f"--out {str(out)!r} must be a folder; found a file")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise ProcgenError(f"--out {str(out)!r} must be empty or new; pass --force to write into it")
    sampler = _sampler(args)
    result = sampler.sample(args.n, args.seed, args.cls, **style)
    names = [f"{sampler.kind}_{i:04d}.png" for i in range(args.n)]
    sheet = pack(list(zip(names, result.sprites)), method="grid", max_width=16 * (result.sprites.shape[2] + 1) + 1)
    manifest = {
        "model": str(args.model), "kind": sampler.kind, "seed": args.seed, "n": args.n, "class": result.cls,
        "style": style, "thresholds": sampler.thresholds, "alpha_threshold": sampler.alpha_threshold,
        "stats": result.stats.as_dict(),
        "sprites": [{"file": name, "index": i, "seed": args.seed, "class": result.cls,
                     "key": f"{int(result.keys[i]):016x}", "attempt": int(result.attempts[i]),
                     "latent": [float(v) for v in result.latents[i]]} for i, name in enumerate(names)],
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, sprite in zip(names, result.sprites):
        _write(out / name, _png(sprite))
    _write(out / "sheet.png", _png(sheet.image))
    _write(out / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    print(f"wrote {args.n} sprites, sheet.png and manifest.json to {out} "
          f"({result.stats.decoded - args.n} redraws)")


# --- at ------------------------------------------------------------------------------------------


def add_at(subparsers):
    p = subparsers.add_parser("at", help="write the sprite of one world cell")
    _model_arguments(p)
    p.add_argument("--world", type=int, required=True, help="world seed")
    p.add_argument("--x", type=int, required=True, help="cell column")
    p.add_argument("--y", type=int, required=True, help="cell row")
    _style_arguments(p)
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="the PNG to write")
    p.set_defaults(run=run_at)
    return p


def run_at(args):
    style = _style(args)
    _check_new_file(args.out, args.force)
    sampler = _sampler(args)
    result = sampler.region(args.world, args.x, args.y, 1, 1, args.cls, **style)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _write(args.out, _png(result.sprites[0]))
    print(f"wrote {args.out}: world {args.world} cell ({args.x}, {args.y}) key {int(result.keys[0]):016x} "
          f"attempt {int(result.attempts[0])}")


# --- train ---------------------------------------------------------------------------------------


def add_train(subparsers):
    from procgen.train import DATASETS

    p = subparsers.add_parser("train", help="train a sprite model (VAE with a dense decoder) and its novelty index")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=DATASETS, help="a built-in training set")
    source.add_argument("--images", type=Path, metavar="DIR", help="a folder of PNG/JPEG sprites; subfolders = classes")
    p.add_argument("--out", required=True, type=Path, metavar="MODEL", help="checkpoint to write (.npz)")
    p.add_argument("--n", type=positive_int, default=12000, help="training images (default 12000)")
    p.add_argument("--epochs", type=positive_int, default=40, help="default 40")
    p.add_argument("--batch-size", type=positive_int, default=128, help="default 128")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--latent", type=positive_int, default=16, help="latent dimensions (default 16)")
    p.add_argument("--encoder", type=_int_list, default=(128,), help="encoder hidden widths (default 128)")
    p.add_argument("--decoder", type=_int_list, default=(128, 128), help="decoder hidden widths (default 128,128)")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight (default 1)")
    p.add_argument("--warmup-epochs", type=int, default=5, help="epochs of KL warm-up (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seeds the data, the initial weights and the batches")
    _threshold_arguments(p, "recorded in the model as its default")
    p.add_argument("--alpha-threshold", type=fraction, metavar="A",
                   help="where a pixel turns opaque, recorded as the model's default (plants 0.5, clothing 0.2)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--force", action="store_true", help="overwrite MODEL and its novelty index")
    p.set_defaults(run=run_train)
    return p


def run_train(args):
    from procgen.train import run

    if args.out.suffix != ".npz":
        raise ProcgenError(f"--out must name a .npz file, got {str(args.out)!r}")
    summary = run(dataset=args.dataset, images=args.images, out=args.out, n=args.n, force=args.force,
                  progress=not args.quiet, latent=args.latent, encoder=args.encoder, decoder=args.decoder,
                  epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, beta=args.beta,
                  warmup_epochs=args.warmup_epochs, seed=args.seed,
                  thresholds={"uniqueness": args.uniqueness, "novelty": args.novelty},
                  alpha_threshold=args.alpha_threshold)
    parts = "  ".join(f"{k} {v:.2f}" for k, v in summary["parts"].items())
    print(f"wrote {' and '.join(summary['files'])}: {summary['images']} images, {len(summary['classes'])} classes, "
          f"final loss {summary['loss']:.2f} nats/image ({parts}), {summary['seconds']:.0f} s")


# --- dispatch ------------------------------------------------------------------------------------

COMMANDS = (add_sample, add_at, add_train, *cli_export.COMMANDS)


def build_parser():
    parser = argparse.ArgumentParser(prog="procgen", description="Seeded, unique game sprites from a trained VAE.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers = {}
    for add in COMMANDS:
        sub = add(subparsers)
        parsers[sub.prog.split()[-1]] = sub
    return parser, parsers


def main(argv=None):
    """Run ``procgen`` with ``argv`` (default sys.argv[1:]); returns the exit status."""
    parser, parsers = build_parser()
    args = parser.parse_args(argv)  # bad arguments: usage and exit 2, by argparse
    try:
        args.run(args)
    except (ProcgenError, TinyAEError) as err:
        parsers[args.command].print_usage(sys.stderr)
        print(f"procgen {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("procgen: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
