"""The tutorial's variational autoencoders with a 2-D latent on Fashion-MNIST, and their pictures.

Reproduces both of the tutorial's VAEs (tinyae.vae.tutorial_dense_vae and tutorial_conv_vae):

    dense  encoder 784 -> 512 ReLU -> (mu, logvar) in 2-D;   decoder 2 -> 512 ReLU -> 784 logits
    conv   encoder Conv 32, Conv 64 stride 2, Conv 64, Conv 64 (3x3, ReLU), Dense 32 ReLU -> (mu, logvar)
           decoder Dense 14*14*64 ReLU, ConvTranspose 32 stride 2 ReLU, Conv 1 -> (1, 28, 28) logits

trained on the negative ELBO with a Bernoulli likelihood (BCE from logits summed over the pixels,
mean over the batch; pixel / 255 as the target) plus the closed-form KL, logvar clamped to [-10, 10],
Adam lr 1e-3, batch 128, float32. Then tinyae.vae.vae_figures draws, for each model:

    manifold.png           the 20 x 20 grid decoded at Gaussian quantiles of (z[0], z[1])
    latent_scatter.png     posterior means of 5,000 test images coloured by class
    reconstructions.png    one test image per class above its reconstruction
    samples_per_class.png  10 images per class, from a Gaussian fitted to that class's codes

Reported: the test negative ELBO = recon + KL in nats per image (10,000 test images, one z each).

Writes into --out, for each model: <model>/{the four PNGs above, loss_curves.png, summary.txt, summary.json}.

    python examples/vae.py --model dense --out runs/vae             # full: about 5 min on 2 cores
    python examples/vae.py --model conv --out runs/vae_conv         # full: about 15 min on 2 cores
    python examples/vae.py --quick --model both --out /tmp/vae      # seconds
"""

import time

import _common  # first: it sets the thread settings before NumPy and Numba start their threads

import numpy as np

from tinyae.datasets import CLASS_NAMES
from tinyae.optim import Adam
from tinyae.train import fit
from tinyae.vae import negative_elbo, tutorial_conv_vae, tutorial_dense_vae, vae_figures
from tinyae.vae.figures import FIGURES

BUILDERS = {"dense": tutorial_dense_vae, "conv": tutorial_conv_vae}
# Full-mode defaults per model, chosen so each run takes at most ~15 minutes on 2 shared cores.
FULL = {"dense": {"epochs": 50, "train_size": 58000}, "conv": {"epochs": 6, "train_size": 58000}}
QUICK = {"dense": {"epochs": 2, "train_size": 1000}, "conv": {"epochs": 1, "train_size": 128}}


def parse_args(argv):
    parser = _common.make_parser(__doc__, "vae")
    _common.add_fashion_mnist_option(parser)
    parser.add_argument("--model", choices=("dense", "conv", "both"), default="both", help="default both")
    parser.add_argument("--epochs", type=_common.positive_int, help="default: dense 50, conv 6 (quick: 2, 1)")
    parser.add_argument("--train-size", type=_common.positive_int,
                        help="training images (default 58,000; quick: dense 1,000, conv 128)")
    parser.add_argument("--val-size", type=_common.positive_int,
                        help="held-out training images for the validation curve (default 2,000; quick: 100)")
    parser.add_argument("--figure-images", type=_common.positive_int,
                        help="test images in the scatter and class Gaussians (default 5,000; quick: 300)")
    parser.add_argument("--batch-size", type=_common.positive_int, default=128, help="default 128")
    parser.add_argument("--lr", type=_common.positive_float, default=1e-3, help="Adam step size (default 1e-3)")
    args = parser.parse_args(argv)
    if args.val_size is None:
        args.val_size = 100 if args.quick else 2000
    if args.figure_images is None:
        args.figure_images = 300 if args.quick else 5000
    args.models = ["dense", "conv"] if args.model == "both" else [args.model]
    for m in args.models:
        size = args.train_size or (QUICK if args.quick else FULL)[m]["train_size"]
        if size + args.val_size > 60000:
            parser.error(f"--train-size + --val-size must be at most 60000, got {size + args.val_size}")
    return args


def outputs(models):
    """Every file a run writes, relative to --out: one folder per model, so runs of each model can share --out."""
    names = [f"{name}.png" for name in (*FIGURES, "loss_curves")] + [_common.SUMMARY, _common.METRICS]
    return [f"{m}/{name}" for m in models for name in names]


def train_one(name, args, x_all, x_test, y_test, out, s):
    """Train one tutorial VAE, score it on the test set, draw its figures into out/name."""
    defaults = (QUICK if args.quick else FULL)[name]
    epochs, train_size = args.epochs or defaults["epochs"], args.train_size or defaults["train_size"]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x_all))
    x_train, x_val = x_all[order[:train_size]], x_all[order[train_size:train_size + args.val_size]]
    vae = BUILDERS[name](2, rng=rng)
    s.note(f"{name} VAE: {vae.encoder.n_params() + vae.decoder.n_params():,} parameters; Adam lr {args.lr:g}, "
           f"batch {args.batch_size}, {epochs} epochs on {len(x_train)} training images "
           f"({len(x_val)} held out for validation)")
    history = fit(vae, Adam(args.lr), x_train, epochs=epochs, batch_size=args.batch_size, rng=rng, x_val=x_val)
    s.add("train_seconds", round(history.seconds, 1), unit="s")
    s.add("train_images_per_second", round(epochs * len(x_train) / history.seconds, 1))
    s.add("train_loss_per_epoch", [round(v, 2) for v in history.loss], unit="nats per image")
    s.add("val_loss_per_epoch", [round(v, 2) for v in history.val_loss], unit="nats per image")
    start = time.perf_counter()
    score = negative_elbo(vae, x_test, x_test, np.random.default_rng(args.seed + 1))
    s.note(f"{name}: test set, {len(x_test)} images, one z each ({time.perf_counter() - start:.1f} s):")
    for key in ("neg_elbo", "recon", "kl"):
        s.add(f"test_{key}", round(score[key], 2), unit="nats per image")
    n = args.figure_images
    vae_figures(vae, x_test[:n], y_test[:n], CLASS_NAMES, out / name, force=args.force,
                rng=np.random.default_rng(args.seed + 2))
    chart = _common.loss_curves({name: history}, f"{name} VAE, 2-D latent: negative ELBO per epoch",
                                  ylabel="nats per image")
    _common.save(chart, out / name / "loss_curves.png", args.force)


def main(argv=None):
    args = parse_args(argv)
    out = _common.prepare_out(args.out, outputs(args.models), args.force)
    x_all, _ = _common.load_fashion(args, "train")
    x_test, y_test = _common.load_fashion(args, "test", limit=300 if args.quick else None)
    values = {}
    for name in args.models:
        s = _common.Summary(f"The tutorial's {name} VAE with a 2-D latent, Fashion-MNIST (examples/vae.py)")
        s.note(f"machine: {_common.machine()}")
        s.note(f"setup: float32, Bernoulli likelihood (BCE from logits, summed over pixels), KL in closed form, "
               f"beta 1, logvar clamped to [-10, 10], seed {args.seed}{', --quick' if args.quick else ''}")
        train_one(name, args, x_all, x_test, y_test, out, s)
        _common.compact_pngs([out / n for n in outputs([name]) if n.endswith(".png")])
        s.write(out / name, args.force)
        values[name] = s.values
    return values


if __name__ == "__main__":
    main()
