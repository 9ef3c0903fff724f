"""``tinyae``: one console script, one subcommand per job.

    tinyae pca-check --dataset fashion-mnist --k 2            linear autoencoder vs PCA (tinyae.lab)
    tinyae train --model sparse --epochs 5 --out ae.npz        train an autoencoder on Fashion-MNIST
    tinyae info ae.npz                                         what a checkpoint holds

Each subcommand is a ``Command``: ``add_arguments(parser)`` declares its options and ``run(args)``
does the work and returns the exit status. Another module adds one with ``register_command``; the
modules in ``tinyae.models.PROVIDER_MODULES`` (e.g. tinyae.vae) are imported before the arguments
are parsed, so a provider can register commands, and model kinds for ``train --model``.

Exit status: 0 success; 1 an error a user can fix (the message on stderr) or a failed lab check;
2 bad arguments (argparse prints the usage).
"""

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from tinyae.argtypes import nonnegative_float, positive_int
from tinyae import models
from tinyae.errors import TinyAEError


@dataclass
class Command:
    name: str
    help: str
    add_arguments: object  # (argparse.ArgumentParser) -> None
    run: object            # (argparse.Namespace) -> int


COMMANDS = {}


def register_command(name, help, add_arguments, run):
    """Add (or replace) the subcommand ``tinyae <name>``."""
    COMMANDS[name] = Command(name, help, add_arguments, run)


# ---------------------------------------------------------------- tinyae train


def add_train_arguments(p):
    kinds = sorted(models.KINDS)
    p.add_argument("--dataset", choices=("fashion-mnist",), default="fashion-mnist")
    p.add_argument("--model", choices=kinds, default="ae",
                   help="; ".join(f"{k}: {models.KINDS[k][1]}" for k in kinds))
    p.add_argument("--arch", choices=("dense", "conv"), default="dense")
    p.add_argument("--code", type=positive_int, default=32, help="code size (default 32)")
    p.add_argument("--hidden", type=positive_int, nargs="*", default=[256], help="dense hidden widths (default 256)")
    p.add_argument("--loss", choices=("bce_with_logits", "mse"), default="bce_with_logits")
    p.add_argument("--sparsity", choices=("kl", "l1"), default="kl")
    p.add_argument("--rho", type=nonnegative_float, default=0.05, help="sparse, kl: target mean activation")
    p.add_argument("--beta", type=nonnegative_float, default=1.0, help="sparse: penalty weight")
    p.add_argument("--lam", type=nonnegative_float, default=0.1, help="contractive: penalty weight")
    p.add_argument("--noise", choices=("gaussian", "salt_and_pepper", "masking"), default="masking")
    p.add_argument("--noise-level", type=nonnegative_float, default=0.3, help="denoising: sigma, p or nu")
    p.add_argument("--epochs", type=positive_int, default=10)
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--optimizer", choices=("adam", "rmsprop", "sgd"), default="adam")
    p.add_argument("--lr", type=nonnegative_float, default=1e-3)
    p.add_argument("--n", type=positive_int, default=None, help="use the first N training images (default all)")
    p.add_argument("--val-fraction", type=nonnegative_float, default=0.1)
    p.add_argument("--patience", type=positive_int, default=None, help="early stopping after this many epochs without progress")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="checkpoint path (.npz), rewritten after every epoch")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out / --png")
    p.add_argument("--png", default=None, help="write test images beside their reconstructions")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def run_train(args):
    from tinyae.datasets.fashion_mnist import load_fashion_mnist
    from tinyae.optim import OPTIMIZERS
    from tinyae.train import evaluate, fit

    x, _ = load_fashion_mnist("train")
    if args.n is not None:
        if not 1 <= args.n <= len(x):
            raise ValueError(f"--n must be in [1, {len(x)}], got {args.n}")
        x = x[:args.n]
    x_test, _ = load_fashion_mnist("test")
    rng = np.random.default_rng(args.seed)
    build, _ = models.KINDS[args.model]
    options = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
    model = build(tuple(x.shape[1:]), rng, options)
    print(f"{args.model} ({type(model).__name__}): "
          f"{sum(p.size for _, p, _ in model.parameters()):,} parameters, {len(x)} training images", file=sys.stderr)
    history = fit(model, OPTIMIZERS[args.optimizer](lr=args.lr), x, epochs=args.epochs, batch_size=args.batch_size,
                  rng=rng, val_fraction=args.val_fraction, patience=args.patience, checkpoint_path=args.out,
                  progress=not args.quiet, force=args.force)
    test_loss, test_parts = evaluate(model, x_test, batch_size=args.batch_size, rng=rng)
    status = "interrupted" if history.interrupted else "stopped early" if history.stopped_early else "done"
    print(f"{status} after {history.epochs} epochs in {history.seconds:.1f} s; loss {history.loss[-1]:.5g}"
          + (f", val_loss {history.val_loss[-1]:.5g} (best epoch {history.best_epoch})" if history.val_loss else "")
          + f", test loss {test_loss:.5g} " + _parts(test_parts))
    print(f"checkpoint: {args.out}")
    if args.png:
        from tinyae.plots import row_comparison, save_png
        shown = x_test[:10]
        save_png(row_comparison([("test", shown), ("reconstruction", model.reconstruct(shown))]), args.png,
                 force=args.force)
        print(f"wrote {args.png}")
    return 0


def _parts(parts):
    return "(" + ", ".join(f"{k} {v:.5g}" for k, v in parts.items()) + ")"


# ---------------------------------------------------------------- tinyae info


def add_info_arguments(p):
    p.add_argument("checkpoint", help="a .npz written by tinyae.models.save")


def run_info(args):
    from tinyae import checkpoint
    from tinyae.network import Sequential

    arrays, spec = checkpoint.load(args.checkpoint)
    model = models.load(args.checkpoint)  # checks that the arrays fit the architecture
    print(f"{args.checkpoint}: {spec.get('model')} written by tinyae {spec.get('tinyae_version', '?')}")
    print(f"{len(arrays)} arrays, {sum(a.size for a in arrays.values()):,} parameters, dtype {spec.get('dtype', '?')}")
    for key, value in spec.get("settings", {}).items():
        print(f"  {key}: {value}")
    in_shape = getattr(model, "in_shape", None)
    for part in ("encoder", "decoder"):
        net = getattr(model, part, None)
        if isinstance(net, Sequential) and in_shape is not None:
            print(f"\n{part}:\n{net.summary(in_shape)}")
            in_shape = net.output_shape(in_shape)
    training = spec.get("training")
    if training:
        h = training.get("history", {})
        opt = dict(training.get("optimizer") or {})
        opt_text = f"{opt.pop('name', '?')}(" + ", ".join(f"{k}={v}" for k, v in opt.items()) + ")"
        print(f"\ntraining: {training.get('epochs')} epochs planned, batch {training.get('batch_size')}, "
              f"optimizer {opt_text}")
        if h.get("loss"):
            print(f"  epochs done {len(h['loss'])}, last loss {h['loss'][-1]:.5g}"
                  + (f", best val_loss {min(h['val_loss']):.5g} at epoch {h['best_epoch']}" if h.get("val_loss") else "")
                  + (", interrupted" if h.get("interrupted") else "") + (", stopped early" if h.get("stopped_early") else ""))
    return 0


# ---------------------------------------------------------------- dispatch


def _register_builtins():
    from tinyae.lab import command as pca_command
    register_command("pca-check", "linear autoencoder vs PCA: subspace, error, and components with weight decay",
                     pca_command.add_arguments, pca_command.run)
    register_command("train", "train an autoencoder on Fashion-MNIST and save a checkpoint",
                     add_train_arguments, run_train)
    register_command("info", "describe a checkpoint: model, architecture, training history", add_info_arguments,
                     run_info)


def build_parser():
    parser = argparse.ArgumentParser(prog="tinyae", description="Autoencoders from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(func=cmd.run)
    return parser


def main(argv=None):
    """Parse argv (sys.argv[1:] by default), run the subcommand, return its exit status."""
    _register_builtins()
    models.import_providers()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("tinyae: error: choose a command: " + ", ".join(COMMANDS), file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (TinyAEError, ValueError, FileExistsError, FileNotFoundError) as err:
        print(f"tinyae {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
