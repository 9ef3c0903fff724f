"""``procgen sheet`` and ``procgen godot-addon``: sprite sheets with atlases for game engines, and the Godot addon.

    procgen sheet --model plants|clothing|PATH -n 64 --seed 7 [--class NAME] [style]
                  [--animate FRAMES [--path slerp|lerp] [--play pingpong|loop] [--fps FPS]]
                  [--format texturepacker|godot|tiled|all] [--name NAME] [--godot-dir RES_DIR] --out DIR [--force]
        DIR/NAME.png   the packed sheet (always)
        DIR/NAME.json  TexturePacker JSON (Hash) with "animations"; "frameTags" for --play loop, since an
                       Aseprite tag names a run of frames, which a ping-pong order is not
        DIR/NAME.tres  Godot 4 SpriteFrames, the PNG at res://RES_DIR/NAME.png (default procgen_sprites)
        DIR/NAME.tsx   Tiled tileset with one <animation> per animated sprite
    procgen godot-addon --into PROJECT_DIR [--force]
        PROJECT_DIR/addons/procgen/  the editor plugin (PROJECT_DIR must hold project.godot)

Without --animate a sheet holds sprites 0..n-1 of ``sample(n, seed)``, named <kind>_0000, ...; with
``--animate F`` sprite i becomes an animation of F frames into sprite n + i (procgen.animation).
The model, class and style options are those of ``procgen sample`` (procgen.cli defines them).
A non-empty DIR is refused without --force, and --force replaces only the files of the same name.
"""

from pathlib import Path

from tinyae.argtypes import number_in_range, positive_float, positive_int
from procgen.errors import ProcgenError

FORMAT_CHOICES = ("texturepacker", "godot", "tiled", "all")
frames = number_in_range(int, "a number of frames >= 2 (the two keyed sprites)", low=2)
fps = positive_float


# --- sheet ---------------------------------------------------------------------------------------


def add_sheet(subparsers):
    from procgen import cli  # here, not at the top: procgen.cli imports this module
    from procgen.animation import PATHS, PLAYS

    p = subparsers.add_parser("sheet", help="write a sprite sheet with TexturePacker, Godot and Tiled atlases")
    cli._model_arguments(p)
    p.add_argument("-n", type=positive_int, default=64, help="how many sprites or animations (default 64)")
    p.add_argument("--seed", type=int, default=0, help="batch seed (default 0)")
    cli._style_arguments(p)
    p.add_argument("--animate", type=frames, metavar="FRAMES",
                   help="make each sprite an animation of FRAMES frames morphing into another keyed sprite")
    p.add_argument("--path", choices=PATHS, default="slerp", help="latent path of --animate (default slerp)")
    p.add_argument("--play", choices=PLAYS, default="pingpong", help="play order of --animate (default pingpong)")
    p.add_argument("--fps", type=fps, default=8.0, help="animation frames per second (default 8)")
    p.add_argument("--format", choices=FORMAT_CHOICES, default="all", help="atlas format(s) to write (default all)")
    p.add_argument("--name", default="sheet", help="file stem of the sheet and its atlases (default sheet)")
    p.add_argument("--godot-dir", default="procgen_sprites", metavar="RES_DIR",
                   help="the folder of DIR inside the Godot project, for res:// paths (default procgen_sprites)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into (new or empty)")
    p.set_defaults(run=run_sheet)
    return p


def run_sheet(args):
    from procgen import cli
    from procgen.animation import sheet_animations
    from procgen.export import FORMATS, export_sheet
    from procgen.export.godot import res_path
    from procgen.export.names import check_name

    style = cli._style(args)
    check_name(args.name, "--name")
    res_path(args.godot_dir, args.name)  # a bad --godot-dir fails before the model is read
    out = args.out
    if out.exists() and not out.is_dir():
        raise ProcgenError(f"--out {str(out)!r} must be a folder; found a file")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise ProcgenError(f"--out {str(out)!r} must be empty or new; pass --force to write into it "
                           "(files of the same name are replaced, others left alone)")
    sampler = cli._sampler(args)
    if args.animate:
        sprites, animations = sheet_animations(sampler, args.n, args.seed, args.animate, args.cls,
                                               path=args.path, play=args.play, **style)
    else:
        result = sampler.sample(args.n, args.seed, args.cls, **style)
        sprites, animations = [(f"{sampler.kind}_{i:04d}", s) for i, s in enumerate(result.sprites)], None
    formats = FORMATS if args.format == "all" else (args.format,)
    written = export_sheet(sprites, out, name=args.name, formats=formats, animations=animations, force=args.force,
                           fps=args.fps, godot_res_dir=args.godot_dir)
    what = f"{args.n} animations of {args.animate} frames" if args.animate else f"{args.n} sprites"
    print(f"wrote {', '.join(p.name for p in written.values())} to {out}: {what}")


# --- godot-addon ---------------------------------------------------------------------------------


def add_godot_addon(subparsers):
    p = subparsers.add_parser("godot-addon", help="install the Godot 4 editor plugin into a project")
    p.add_argument("--into", required=True, type=Path, metavar="PROJECT_DIR", help="a folder holding project.godot")
    p.add_argument("--force", action="store_true",
                   help="install without project.godot, or over a different copy of the addon")
    p.set_defaults(run=run_godot_addon)
    return p


def run_godot_addon(args):
    from procgen.export import install_addon

    target = install_addon(args.into, force=args.force)
    print(f"installed the procgen addon in {target}; enable Procgen Sprites under "
          "Project > Project Settings > Plugins")


COMMANDS = (add_sheet, add_godot_addon)
