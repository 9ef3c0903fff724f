"""``procgen``: sprites from a trained model on the command line.

    procgen sample --model plants -n 64 --seed 7 [--class NAME] [style] --out DIR
        DIR/<kind>_0000.png ...  one PNG per sprite
        DIR/sheet.png            all of them on one grid, to look at
        DIR/manifest.json        per sprite: file, key, seed, index, attempt, class (also when none was asked
                                 for), latent; and the settings
    procgen at --model plants --world 42 --x 10 --y -3 [--class NAME] [style] --out FILE.png
    procgen info plants|clothing|MODEL.npz [--json]   classes and their aliases, sprite size, style, licence
    procgen train (--dataset plants|fashion-mnist | --images DIR) --out MODEL.npz [--size 16|32|48|64] [...]
    procgen sheet ... / procgen godot-addon ...   sheets with atlases for game engines (procgen.cli_export)
    procgen --version / procgen (no command: this help)

    style: [--palette NAME|FILE.gpl|none] [--outline [#RRGGBB|none]] [--raw] [--mirror] [--scale S]
           without --palette and --outline, the model's default style (procgen info MODEL shows it);
           --raw: the model's own colours, no outline
    --class takes a class name in any case or an alias a shell likes ("top", "ankle-boot"): procgen.classes

The same command gives the same files, byte for byte, and nothing is overwritten without --force.
Run ``sample`` twice into the same DIR and the second run checks instead of writing: if DIR holds
exactly an earlier output of ``sample`` (its manifest.json, the sprites it names and sheet.png) and
every file would come out the same, it says DIR is up to date and exits 0, touching nothing. If a
file would change, or DIR holds anything else, it refuses and names the files.
The files of a run appear together: they are written whole into a temporary folder beside DIR, which
then becomes DIR in one rename. Into an existing DIR (--force, or an empty one) they are moved in one
rename each, after the old manifest.json is removed and before the new one arrives, so a DIR holding a
manifest.json always holds that run's files. On any failure the temporary folder is removed.
Exit status: 0 done or up to date; 2 bad arguments or bad input (a message naming the problem, and the usage).

Each subcommand is one ``add_<name>(subparsers)`` that builds its parser and sets ``run`` to one small
function of the parsed arguments; a new subcommand is one more such pair, listed in ``COMMANDS``.
"""

import argparse
import io
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

from PIL import Image

from tinyae.errors import TinyAEError

from tinyae.argtypes import fraction, positive_int
from procgen import cli_export
from procgen.errors import ProcgenError

OUTLINE = "#1a1c2c"  # --outline without a colour: a near-black that reads as an ink line
DEFAULT = "default"  # --palette / --outline not given: the model's default style (procgen.sampler.DEFAULT)
DISTRIBUTION = "tinyae"  # the name setup.cfg installs procgen under, for --version
MANIFEST_FORMAT = "procgen-sample"  # manifest.json's "format": marks a folder as an output of procgen sample
NAMED = 5  # files named in a refusal; the rest are counted
FIRST_STEPS = """first steps:
  procgen info plants                                           what the shipped plant model makes
  procgen sample --model plants -n 16 --scale 4 --out sprites   16 plants, a sheet and a manifest
  procgen COMMAND --help                                        the options of one command"""


# --- shared pieces -------------------------------------------------------------------------------


def _model_arguments(parser):
    parser.add_argument("--model", default="plants",
                        help="plants, plants64, clothing or a checkpoint .npz (default plants)")
    parser.add_argument("--class", dest="cls", metavar="NAME", help="sample this class's latent Gaussian")
    _threshold_arguments(parser, "default: the model's")


def _threshold_arguments(parser, default):
    """--uniqueness and --novelty; ``default`` says in the help where an omitted value comes from."""
    parser.add_argument("--uniqueness", type=fraction, metavar="D",
                        help=f"no two sprites closer than this distance ({default})")
    parser.add_argument("--novelty", type=fraction, metavar="D",
                        help=f"no sprite closer than this to a training image ({default})")


def _style_arguments(parser):
    parser.add_argument("--palette", metavar="NAME|FILE", default=DEFAULT,
                        help="built-in palette name, a GIMP .gpl file, or none (default: the model's style)")
    parser.add_argument("--outline", nargs="?", const=OUTLINE, default=DEFAULT, metavar="#RRGGBB",
                        help=f"a 1-pixel outline (colour {OUTLINE} if none is given), or none (default: the model's "
                             f"style)")
    parser.add_argument("--raw", action="store_true",
                        help="the unstyled sprite: the model's own colours, no palette and no outline")
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
    palette, outline = (_none(v) for v in (args.palette, args.outline))
    if args.raw and (palette != DEFAULT or outline != DEFAULT):
        raise ProcgenError("--raw is the unstyled sprite: give it without --palette and --outline")
    if palette not in (None, DEFAULT):
        from procgen.palettes import get_palette

        get_palette(palette)
    if outline not in (None, DEFAULT):
        from procgen.palettes import parse_color

        parse_color(outline, "outline")
    return {"palette": palette, "outline": outline, "raw": args.raw, "mirror": args.mirror, "scale": args.scale}


def _latent_scale(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 2:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 2], got {text!r}")
    return value


def _none(value):
    """The word "none" (any case) stands for no palette or no outline."""
    return None if isinstance(value, str) and value.lower() == "none" else value


def _sampler(args):
    """The sampler of --model, with --class turned into the model's own class name (an alias resolved)."""
    from procgen.sampler import SpriteSampler

    thresholds = {k: getattr(args, k) for k in ("uniqueness", "novelty") if getattr(args, k) is not None}
    sampler = SpriteSampler.load(args.model, **thresholds)
    args.cls = sampler.class_index(args.cls)[1]  # an unknown class fails here, before anything is decoded
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


def _few(names):
    """Up to NAMED names, and how many more: "a.png, b.png (and 3 more)"."""
    more = f" (and {len(names) - NAMED} more)" if len(names) > NAMED else ""
    return ", ".join(names[:NAMED]) + more


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
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="folder to write into: new, empty, or an earlier output of the same command (then checked)")
    p.set_defaults(run=run_sample)
    return p


def run_sample(args):
    out = args.out
    style = _style(args)
    if out.exists() and not out.is_dir():
        raise ProcgenError(f"--out {str(out)!r} must be a folder; found a file")
    earlier, others = _folder_contents(out) if out.is_dir() else ({}, [])
    if others and not args.force:
        raise ProcgenError(f"--out {str(out)!r} holds files procgen sample did not write: {_few(others)}; it must be "
                           "new, empty or an earlier output of this command; pass --force to write into it anyway "
                           "(those files are left alone)")
    sampler = _sampler(args)
    files, result = _sample_files(args, sampler, style)
    changed = [name for name, data in files.items() if name not in earlier or earlier[name].read_bytes() != data]
    stale = [name for name in earlier if name not in files]  # sprites of an earlier, larger -n
    if earlier and not changed and not stale and not args.force:
        print(f"{out} is up to date: its {args.n} sprites, sheet.png and manifest.json are what this command makes; "
              "nothing was written")
        return
    if earlier and not args.force:
        raise ProcgenError(f"--out {str(out)!r} holds an earlier output of procgen sample that this run would change: "
                           f"{_few(changed + stale)}; pass --force to replace it")
    _publish(out, files, stale)
    print(f"wrote {args.n} sprites, sheet.png and manifest.json to {out} "
          f"({result.stats.decoded - args.n} redraws)")


def _sample_files(args, sampler, style):
    """({file name: bytes} of the sprites, sheet.png and manifest.json (last), the SampleResult)."""
    from procgen.export.packer import pack

    result = sampler.sample(args.n, args.seed, args.cls, **style)
    names = [f"{sampler.kind}_{i:04d}.png" for i in range(args.n)]
    sheet = pack(list(zip(names, result.sprites)), method="grid", max_width=16 * (result.sprites.shape[2] + 1) + 1)
    manifest = {
        "format": MANIFEST_FORMAT,
        "model": str(args.model), "kind": sampler.kind, "seed": args.seed, "n": args.n, "class": result.cls,
        "style": style, "thresholds": sampler.thresholds, "alpha_threshold": sampler.alpha_threshold,
        "stats": result.stats.as_dict(),
        "sprites": [{"file": name, "index": i, "seed": args.seed, "class": result.classes[i],
                     "key": f"{int(result.keys[i]):016x}", "attempt": int(result.attempts[i]),
                     "latent": [float(v) for v in result.latents[i]]} for i, name in enumerate(names)],
    }
    files = {name: _png(sprite) for name, sprite in zip(names, result.sprites)}
    files["sheet.png"] = _png(sheet.image)
    files["manifest.json"] = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    return files, result


# --- the output folder of sample -----------------------------------------------------------------


def _folder_contents(folder):
    """({name: path} of the files an earlier ``procgen sample`` wrote into ``folder``, [names of all else]).

    The earlier output is manifest.json (if its "format" is MANIFEST_FORMAT), the sprite files it
    names and sheet.png; without such a manifest, everything in the folder is someone else's.
    """
    own = _manifest_files(folder / "manifest.json")
    own = set() if own is None else {"manifest.json", "sheet.png", *own}
    entries = sorted(folder.iterdir())
    earlier = {p.name: p for p in entries if p.name in own and p.is_file()}
    return earlier, [p.name for p in entries if p.name not in earlier]


def _manifest_files(path):
    """The sprite file names a procgen sample manifest at ``path`` lists, or None if it is not one."""
    try:
        manifest = json.loads(path.read_bytes()) if path.is_file() else None
    except (OSError, ValueError):  # unreadable, or not JSON: not ours
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return None
    names = [row.get("file") for row in manifest.get("sprites", []) if isinstance(row, dict)]
    return [name for name in names if isinstance(name, str) and name not in ("", ".", "..")
            and Path(name).name == name]  # a plain name: never a path out of the folder


def _publish(out, files, stale):
    """Put ``files`` ({name: bytes}) into the folder ``out`` and remove ``stale`` names from it, all together.

    See the module docstring: written whole into a temporary folder beside ``out``, then one rename
    for a new ``out``, or one rename per file into an existing one.
    """
    target = out.resolve()
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        _write_folder(tmp, files, out)
        if not target.exists():
            tmp.rename(target)  # the whole run appears in one step
            return
        (target / "manifest.json").unlink(missing_ok=True)  # until the new one arrives, no run is claimed complete
        for name in [*files][:-1]:  # files ends with manifest.json
            os.replace(tmp / name, target / name)
        for name in stale:
            (target / name).unlink(missing_ok=True)
        os.replace(tmp / "manifest.json", target / "manifest.json")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_folder(folder, files, out):
    """Create ``folder`` (with the user's umask, as open() makes the files) holding ``files``, each fsync'ed.

    An OSError (a full disk, a read-only parent) becomes a ProcgenError naming --out ``out``.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
        for name, data in files.items():
            with open(folder / name, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as err:
        raise ProcgenError(f"cannot write the files for --out {str(out)!r}: {err.strerror or err}; "
                           "the folder was left as it was") from err


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


# --- info ----------------------------------------------------------------------------------------


def add_info(subparsers):
    p = subparsers.add_parser("info", help="what a model makes: classes and their aliases, sprite size, style, "
                                           "licence, thresholds, training settings")
    p.add_argument("model", metavar="MODEL", help="plants, plants64, clothing or a checkpoint .npz")
    p.add_argument("--json", action="store_true", help="print the facts as one JSON object, for programs")
    p.set_defaults(run=run_info)
    return p


def run_info(args):
    from procgen.info import describe, format_info

    facts = describe(args.model)
    print(json.dumps(facts, indent=1) if args.json else format_info(facts))


# --- train ---------------------------------------------------------------------------------------


def add_train(subparsers):
    from procgen.datasets import DATASETS, SIZES

    p = subparsers.add_parser("train",
                              help="train a sprite model (a class-conditioned palette VAE) and its novelty index")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=DATASETS, help="a built-in training set")
    source.add_argument("--images", type=Path, metavar="DIR", help="a folder of PNG/JPEG sprites; subfolders = classes")
    p.add_argument("--out", required=True, type=Path, metavar="MODEL", help="checkpoint to write (.npz)")
    p.add_argument("--n", type=positive_int, default=12000, help="training images (default 12000)")
    p.add_argument("--size", type=int, choices=SIZES, default=32, help="sprite side in pixels (default 32)")
    p.add_argument("--epochs", type=positive_int, default=60,
                   help="default 60; a few hundred images want more, e.g. 400 at --batch-size 32")
    p.add_argument("--batch-size", type=positive_int, default=128, help="default 128")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--latent", type=positive_int, default=16, help="latent dimensions (default 16)")
    p.add_argument("--encoder", type=_int_list, default=(256,), help="encoder hidden widths (default 256)")
    p.add_argument("--decoder", type=_int_list, default=(128, 64),
                   help="decoder hidden widths (default 128,64: the last sets the decoding speed)")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight (default 1)")
    p.add_argument("--warmup-epochs", type=int, default=5, help="epochs of KL warm-up (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seeds the data, the initial weights and the batches")
    _threshold_arguments(p, "recorded in the model as its default")
    p.add_argument("--latent-scale", type=_latent_scale, default=1.0, metavar="S",
                   help="spread of the sampled latents around each class's centre, in (0, 2], recorded as the "
                        "model's default: below 1 trades variety for sprites nearer their class's look (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--force", action="store_true", help="overwrite MODEL and its novelty index")
    p.set_defaults(run=run_train)
    return p


def run_train(args):
    from procgen.train import run

    if args.out.suffix != ".npz":
        raise ProcgenError(f"--out must name a .npz file, got {str(args.out)!r}")
    summary = run(dataset=args.dataset, images=args.images, out=args.out, n=args.n, size=args.size, force=args.force,
                  progress=not args.quiet, latent=args.latent, encoder=args.encoder, decoder=args.decoder,
                  epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, beta=args.beta,
                  warmup_epochs=args.warmup_epochs, seed=args.seed,
                  thresholds={"uniqueness": args.uniqueness, "novelty": args.novelty},
                  latent_scale=args.latent_scale)
    parts = "  ".join(f"{k} {v:.2f}" for k, v in summary["parts"].items())
    print(f"wrote {' and '.join(summary['files'])}: {summary['images']} images, {len(summary['classes'])} classes, "
          f"final loss {summary['loss']:.2f} nats/image ({parts}), {summary['seconds']:.0f} s")


# --- dispatch ------------------------------------------------------------------------------------

COMMANDS = (add_sample, add_at, add_info, add_train, *cli_export.COMMANDS)


def version():
    """procgen's version: that of the installed distribution, else ``procgen.__version__`` (a source checkout)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from procgen import __version__

        return __version__


def build_parser():
    parser = argparse.ArgumentParser(prog="procgen", description="Seeded, unique game sprites from a trained VAE.",
                                     epilog=FIRST_STEPS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"procgen {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    parsers = {}
    for add in COMMANDS:
        sub = add(subparsers)
        parsers[sub.prog.split()[-1]] = sub
    return parser, parsers


def main(argv=None):
    """Run ``procgen`` with ``argv`` (default sys.argv[1:]); returns the exit status."""
    parser, parsers = build_parser()
    args = parser.parse_args(argv)  # bad arguments: usage and exit 2, by argparse
    if args.command is None:  # plain ``procgen``: a first look, not a mistake
        parser.print_help()
        return 0
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
