"""``tinyae pca-check``: the equivalence lab from the command line.

    tinyae pca-check --dataset fashion-mnist --k 10 --png lab.png
    tinyae pca-check --dataset synthetic --k 2 --uncentered --optimizer adam

Exit status 0 when the lab's claim holds (see ``pca_check.LabResult.passed``), 1 when it does not.
"""

import sys
import time

import numpy as np

from tinyae.cli import nonnegative_float, positive_int
from tinyae.lab import criteria
from tinyae.lab.data import fashion_mnist_vectors, synthetic_data, synthetic_spectrum
from tinyae.lab.pca_check import pca_check
from tinyae.lab.report import components_figure, format_report


def add_arguments(p):
    p.add_argument("--dataset", choices=("fashion-mnist", "synthetic"), default="synthetic",
                   help="fashion-mnist: the first N training images; synthetic: a known spectrum (default)")
    p.add_argument("--k", type=positive_int, default=2, help="code size = number of PCA components (default 2)")
    p.add_argument("--n", type=positive_int, default=None, help="examples (default 10000 for fashion-mnist, 2000 synthetic)")
    p.add_argument("--d", type=positive_int, default=20, help="synthetic only: dimensions, spectrum 10 * 0.8^i (default 20)")
    p.add_argument("--weight-decay", type=nonnegative_float, default=None, metavar="L",
                   help="lam of the decayed run, 0 < lam < e_k (default e_k / 2)")
    centering = p.add_mutually_exclusive_group()
    centering.add_argument("--centered", dest="centered", action="store_true", default=True,
                           help="subtract the data mean first (default)")
    centering.add_argument("--uncentered", dest="centered", action="store_false",
                           help="train on raw data; the biases learn the mean")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    p.add_argument("--max-iter", type=positive_int, default=5000, help="L-BFGS iteration limit (default 5000)")
    p.add_argument("--adam-steps", type=positive_int, default=20000, help="full-batch Adam steps (default 20000)")
    p.add_argument("--adam-lr", type=nonnegative_float, default=1e-2, help="Adam's initial step size (default 0.01)")
    p.add_argument("--rows", choices=("moments", "data"), default="moments",
                   help="evaluate the loss on 2r moment-matched rows (same loss, faster; default) or on the data")
    p.add_argument("--angle-tol", type=nonnegative_float, default=criteria.ANGLE_TOL,
                   help=f"pass mark of criterion (1) in radians (default {criteria.ANGLE_TOL:g})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--png", default=None, help="write PCA components beside the autoencoder's as a PNG")
    p.add_argument("--force", action="store_true", help="overwrite an existing --png")


def run(args):
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    if args.dataset == "fashion-mnist":
        x = fashion_mnist_vectors(10000 if args.n is None else args.n)
        image_shape = (28, 28)
    else:
        x = synthetic_data(2000 if args.n is None else args.n, synthetic_spectrum(args.d), rng)
        image_shape = (1, args.d)
    result = pca_check(x, args.k, rng=rng, weight_decay=args.weight_decay, centered=args.centered,
                       optimizer=args.optimizer, rows=args.rows, max_iter=args.max_iter, adam_steps=args.adam_steps,
                       adam_lr=args.adam_lr, angle_tol=args.angle_tol, dataset=args.dataset)
    print(format_report(result))
    print(f"total time {time.perf_counter() - start:.1f} s (loading, PCA, both runs, measurements)")
    if args.png:
        from tinyae.plots import save_png
        save_png(components_figure(result, image_shape, scale=3 if args.dataset == "fashion-mnist" else 12),
                 args.png, force=args.force)
        print(f"wrote {args.png}", file=sys.stderr)
    return 0 if result.passed() else 1
