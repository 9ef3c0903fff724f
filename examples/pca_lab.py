"""The linear autoencoder against PCA: the same subspace, the same error, and the components only with decay.

Runs the lab of tinyae.lab (the same as ``tinyae pca-check``) on Fashion-MNIST images as 784-vectors:
a linear autoencoder z = x W_enc + b_enc, x_hat = z W_dec + b_dec with k code units, trained to a tight
optimum by full-batch L-BFGS on tinyae's hand-written gradients, twice from the same start:
    without weight decay   its decoder spans the top-k PCA subspace and reaches PCA's error, but its
                           rows are a mixed basis of that subspace (Baldi & Hornik 1989);
    with weight decay lam  W_enc = W_dec^T and the left singular vectors of W_dec^T are the PCA
                           components themselves (Kunin et al. 2019), at a known extra error.
The table (in summary.txt) holds the subspace angles, the errors against their predictions and the
per-component cosines; the verdict PASS means all of it came out as the theory says.

Beside the lab, the everyday way to train: the same linear autoencoder (no decay) with minibatch Adam
and tinyae.train.fit, MSE per element, whose train and validation error per epoch approach PCA's.

Writes into --out: components.png (rows: PCA components; the decayed decoder's singular vectors;
the undecayed decoder's rows), loss_curves.png (minibatch MSE per epoch against PCA's), summary.txt
(with the lab's table) and summary.json.

    python examples/pca_lab.py --out runs/pca_lab                   # Fashion-MNIST, k = 8: a few minutes
    python examples/pca_lab.py --quick --out /tmp/pca               # seconds: synthetic data, D = 20, k = 2
"""

import _common  # first: it sets the thread settings before NumPy and Numba start their threads

import numpy as np

from tinyae import plots
from tinyae.autoencoders import Autoencoder, linear_pair
from tinyae.lab import components_figure, format_report, pca_check, synthetic_data, synthetic_spectrum
from tinyae.optim import Adam
from tinyae.pca import PCA
from tinyae.train import fit

OUTPUTS = ("components.png", "loss_curves.png", _common.SUMMARY, _common.METRICS)


def parse_args(argv):
    parser = _common.make_parser(__doc__, "pca_lab")
    _common.add_fashion_mnist_option(parser)
    parser.add_argument("--k", type=_common.positive_int, help="code units = PCA components (default 8; quick: 2)")
    parser.add_argument("--n", type=_common.positive_int,
                        help="training examples (default 10,000 Fashion-MNIST images; quick: 500 synthetic)")
    parser.add_argument("--val-size", type=_common.positive_int, help="validation examples (default 2,000; quick: 200)")
    parser.add_argument("--max-iter", type=_common.positive_int, default=5000, help="L-BFGS iterations (default 5000)")
    parser.add_argument("--epochs", type=_common.positive_int, help="minibatch run's epochs (default 20)")
    parser.add_argument("--batch-size", type=_common.positive_int, default=128, help="default 128")
    parser.add_argument("--lr", type=_common.positive_float, help="Adam step size (default 1e-3; quick: 1e-2)")
    args = parser.parse_args(argv)
    defaults = {"k": 2 if args.quick else 8, "n": 500 if args.quick else 10000,
                "val_size": 200 if args.quick else 2000, "epochs": 20,
                "lr": 1e-2 if args.quick else 1e-3}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if not args.quick and args.n + args.val_size > 60000:
        parser.error(f"--n + --val-size must be at most 60000, got {args.n + args.val_size}")
    return args


def load_data(args, rng):
    """(x_train, x_val, image_shape, name): Fashion-MNIST vectors, or with --quick a synthetic set of known spectrum."""
    if args.quick:
        x = synthetic_data(args.n + args.val_size, synthetic_spectrum(20), rng)
        return x[:args.n], x[args.n:], (1, 20), "synthetic (D = 20, eigenvalues 10 * 0.8^i)"
    images, _ = _common.load_fashion(args, "train", dtype=np.float64)
    x = images.reshape(len(images), -1)  # (N, 1, 28, 28) -> (N, 784)
    return x[:args.n], x[args.n:args.n + args.val_size], (28, 28), "fashion-mnist"


def minibatch_run(args, x_train, x_val, rng):
    """The undecayed linear AE trained the everyday way; returns (history, PCA's train and val MSE per element)."""
    mean = x_train.mean(axis=0)
    xt, xv = (x_train - mean).astype(np.float32), (x_val - mean).astype(np.float32)  # centred, as the lab's run
    model = Autoencoder(*linear_pair(x_train.shape[1], args.k, rng, np.float32), loss="mse", reduction="mean")
    history = fit(model, Adam(args.lr), xt, epochs=args.epochs, batch_size=args.batch_size, rng=rng, x_val=xv)
    pca = PCA(args.k).fit(x_train)
    return history, pca.reconstruction_mse(x_train), pca.reconstruction_mse(x_val)


def main(argv=None):
    args = parse_args(argv)
    out = _common.prepare_out(args.out, OUTPUTS, args.force)
    rng = np.random.default_rng(args.seed)
    x_train, x_val, image_shape, name = load_data(args, rng)
    if not 1 <= args.k < x_train.shape[1]:
        raise SystemExit(f"error: --k must be in [1, {x_train.shape[1]}), got {args.k}")

    s = _common.Summary("Linear autoencoder vs PCA (examples/pca_lab.py, tinyae.lab)")
    s.note(f"machine: {_common.machine()}")
    s.note(f"setup: {name}, N = {len(x_train)}, k = {args.k}, float64, L-BFGS up to {args.max_iter} iterations "
           f"per run, seed {args.seed}{', --quick' if args.quick else ''}")
    result = pca_check(x_train, args.k, rng=rng, max_iter=args.max_iter, dataset=name)
    s.note("")
    s.note(format_report(result))
    s.note("")
    c, w = result.control, result.decayed
    s.add("lab_passed", bool(result.passed()))
    s.add("lbfgs_seconds", round(c.fit.seconds + w.fit.seconds, 1), unit="s")
    s.add("pca_mse", float(c.measured.mse_predicted), "{:.6g}")
    s.add("control_mse", float(c.measured.mse), "{:.6g}")
    s.add("control_max_angle_rad", float(c.measured.angle_decoder), "{:.2e}")
    s.add("control_min_cos", float(np.min(c.measured.cos)), "{:.4f}")
    s.add("decayed_lam", float(w.measured.lam), "{:.6g}")
    s.add("decayed_mse", float(w.measured.mse), "{:.6g}")
    s.add("decayed_max_angle_rad", float(w.measured.angle_decoder), "{:.2e}")
    s.add("decayed_min_cos", float(np.min(w.measured.cos[w.measured.separated])) if w.measured.separated.any()
          else float("nan"), "{:.7f}")

    s.note(f"\nminibatch run: the same linear AE without decay, float32, Adam lr {args.lr:g}, batch {args.batch_size}, "
           f"{args.epochs} epochs, {len(x_val)} validation examples; MSE per element")
    history, pca_train, pca_val = minibatch_run(args, x_train, x_val, rng)
    s.add("minibatch_train_mse", round(history.loss[-1], 6))
    s.add("minibatch_val_mse", round(history.val_loss[-1], 6))
    s.add("pca_train_mse", round(pca_train, 6))
    s.add("pca_val_mse", round(pca_val, 6))

    scale = 12 if args.quick else 3
    _common.save(components_figure(result, image_shape, scale=scale), out / "components.png", args.force)
    series = {"linear AE, train": history.loss, "linear AE, validation": history.val_loss,
              "PCA, train (the optimum)": [pca_train] * args.epochs, "PCA, validation": [pca_val] * args.epochs}
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in series.values()])
    chart = plots.loss_curves(series, title=f"linear autoencoder (k = {args.k}), minibatch Adam: MSE per epoch",
                              ylabel="MSE per element", log=values.max() / values.min() > 20)
    _common.save(chart, out / "loss_curves.png", args.force)
    _common.compact_pngs([out / n for n in OUTPUTS if n.endswith(".png")])
    s.write(out, args.force)
    return s.values


if __name__ == "__main__":
    main()
