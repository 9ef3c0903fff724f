"""What a sparsity penalty and a contractive penalty do to the code, measured on Fashion-MNIST.

Three autoencoders of one architecture, trained the same way from the same initial weights:

    encoder  x (784) -> Dense(784, K) -> Sigmoid -> h (K)        (K = 64 code units in (0, 1))
    decoder  h -> Dense(K, 784) -> logits;  sigmoid output, BCE from logits averaged over pixels

    plain        L = BCE
    sparse       L = BCE + beta * sum_j KL(rho || rho_hat_j),  rho_hat_j = mean activation of unit j
    contractive  L = BCE + lam * ||J_f(x)||_F^2,                J_f = dh/dx, the encoder's Jacobian

Measured on held-out test images:
  * sparsity: the histogram of every code activation h[n, j] (plain vs sparse), and each unit's mean
    activation rho_hat_j against the target rho;
  * sensitivity: the Frobenius norm of the encoder's Jacobian per image, in closed form for one sigmoid
    layer,  ||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W[i, j]^2  (plain vs contractive), checked against
    a measurement: the code's RMS change under a small random push of the input, ||h(x + d) - h(x)|| / ||d||
    times sqrt(784) (for isotropic d that ratio estimates ||J||_F / sqrt(784));
  * the price: each model's test reconstruction error.

Writes into --out: activations.png (histograms, plain | sparse), mean_activation.png (rho_hat per unit,
sorted, with the target), sensitivity.png (histograms of ||J||_F, plain | contractive), loss_curves.png
(reconstruction BCE per epoch, train and validation, all three models), summary.txt and summary.json.

    python examples/sparse_contractive.py --out runs/sparse_contractive     # full: a few minutes on 2 cores
    python examples/sparse_contractive.py --quick --out /tmp/sc             # seconds
"""

import _common  # first: it sets the thread settings before NumPy and Numba start their threads

import numpy as np

from tinyae import plots
from tinyae.autoencoders import Autoencoder, ContractiveAutoencoder, SparseAutoencoder, dense_pair
from tinyae.optim import Adam
from tinyae.train import fit

OUTPUTS = ("activations.png", "mean_activation.png", "sensitivity.png", "loss_curves.png", _common.SUMMARY,
           _common.METRICS)
IN_SHAPE = (1, 28, 28)


def parse_args(argv):
    parser = _common.make_parser(__doc__, "sparse_contractive")
    _common.add_fashion_mnist_option(parser)
    parser.add_argument("--code", type=_common.positive_int, default=64, help="code units K (default 64)")
    parser.add_argument("--rho", type=float, default=0.05, help="target mean activation (default 0.05)")
    parser.add_argument("--beta", type=float, default=0.03, help="weight of the KL sparsity (default 0.03)")
    parser.add_argument("--lam", type=float, default=0.01, help="weight of the contractive penalty (default 0.01)")
    parser.add_argument("--epochs", type=_common.positive_int, help="default 30 (quick: 2)")
    parser.add_argument("--train-size", type=_common.positive_int, help="default 55,000 (quick: 2,000)")
    parser.add_argument("--val-size", type=_common.positive_int, help="default 5,000 (quick: 500)")
    parser.add_argument("--batch-size", type=_common.positive_int, default=128, help="default 128")
    parser.add_argument("--lr", type=_common.positive_float, default=1e-3, help="Adam step size (default 1e-3)")
    args = parser.parse_args(argv)
    if not 0.0 < args.rho < 1.0:
        parser.error(f"--rho must be in (0, 1), got {args.rho}")
    if args.beta < 0 or args.lam < 0:
        parser.error(f"--beta and --lam must be >= 0, got {args.beta} and {args.lam}")
    defaults = {"epochs": 2 if args.quick else 30, "train_size": 2000 if args.quick else 55000,
                "val_size": 500 if args.quick else 5000}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.train_size + args.val_size > 60000:
        parser.error(f"--train-size + --val-size must be at most 60000, got {args.train_size + args.val_size}")
    return args


def build(kind, args, seed):
    """One of the three models; the same seed gives all three the same initial weights."""
    pair = dense_pair(IN_SHAPE, args.code, hidden=(), code_activation="sigmoid", rng=np.random.default_rng(seed))
    common = {"loss": "bce_with_logits", "in_shape": IN_SHAPE}
    if kind == "plain":
        return Autoencoder(*pair, **common)
    if kind == "sparse":
        return SparseAutoencoder(*pair, **common, sparsity="kl", rho=args.rho, beta=args.beta)
    return ContractiveAutoencoder(*pair, **common, lam=args.lam)


def jacobian_norm(model, x):
    """||J_f(x)||_F per image, closed form for h = sigma(x W + b): sqrt(sum_j (h_j (1 - h_j))^2 sum_i W_ij^2)."""
    h = model.encode(x).astype(np.float64)                     # (N, K)
    W = model.encoder.layers[1].params["W"].astype(np.float64)  # (D, K), after the Flatten
    return np.sqrt(((h * (1 - h)) ** 2) @ np.sum(W * W, axis=0))  # (N,)


def measured_sensitivity(model, x, rng, sigma=1e-3):
    """sqrt(D) * RMS ||h(x + d) - h(x)|| / ||d|| over images, d ~ N(0, sigma^2 I): estimates RMS ||J||_F.

    For small isotropic d, E ||J d||^2 = sigma^2 ||J||_F^2 and ||d||^2 ~ D sigma^2. Computed in float64.
    """
    x64 = x.astype(np.float64)
    d = sigma * rng.standard_normal(x64.shape)
    h0 = _encode64(model, x64)
    h1 = _encode64(model, x64 + d)
    ratio2 = np.sum((h1 - h0) ** 2, axis=1) / np.sum(d.reshape(len(d), -1) ** 2, axis=1)  # (N,)
    return float(np.sqrt(x[0].size * ratio2.mean()))


def _encode64(model, x):
    """The encoder sigma(x W + b) in float64, so a 1e-3 push is not lost in float32 rounding."""
    dense = model.encoder.layers[1]
    a = x.reshape(len(x), -1) @ dense.params["W"].astype(np.float64) + dense.params["b"]
    return 1 / (1 + np.exp(-a))


def main(argv=None):
    args = parse_args(argv)
    out = _common.prepare_out(args.out, OUTPUTS, args.force)
    rng = np.random.default_rng(args.seed)
    x_all, _ = _common.load_fashion(args, "train")
    x_test, _ = _common.load_fashion(args, "test", limit=1000 if args.quick else None)
    x_train, x_val = _common.train_val_split(x_all, rng, args.train_size, args.val_size)

    s = _common.Summary("Sparse and contractive penalties on the code (examples/sparse_contractive.py)")
    s.note(f"machine: {_common.machine()}")
    s.note(f"setup: float32, 784 -> {args.code} sigmoid -> 784 logits, BCE from logits (mean over pixels), "
           f"Adam lr {args.lr:g}, batch {args.batch_size}, {args.epochs} epochs on {len(x_train)} training images "
           f"({len(x_val)} held out); sparse: KL, rho {args.rho}, beta {args.beta}; contractive: lam {args.lam}; "
           f"same initial weights; measured on {len(x_test)} test images; seed {args.seed}"
           f"{', --quick' if args.quick else ''}")
    models, histories = {}, {}
    for kind in ("plain", "sparse", "contractive"):
        models[kind] = build(kind, args, args.seed)
        histories[kind] = fit(models[kind], Adam(args.lr), x_train, epochs=args.epochs, batch_size=args.batch_size,
                              rng=np.random.default_rng(args.seed + 1), x_val=x_val)
        s.add(f"{kind}_train_seconds", round(histories[kind].seconds, 1), unit="s")

    codes, norms = {}, {}
    for kind, model in models.items():
        codes[kind] = model.encode(x_test).astype(np.float64)  # (N, K)
        norms[kind] = jacobian_norm(model, x_test)             # (N,)
        recon = model.reconstruct(x_test).astype(np.float64)
        s.add(f"{kind}_test_mse", round(float(np.mean((recon - x_test) ** 2)), 5))
        s.add(f"{kind}_mean_activation", round(float(codes[kind].mean()), 4))
        s.add(f"{kind}_fraction_below_0.1", round(float(np.mean(codes[kind] < 0.1)), 3))
        s.add(f"{kind}_jacobian_frobenius_mean", round(float(norms[kind].mean()), 3))
        s.add(f"{kind}_jacobian_frobenius_rms", round(float(np.sqrt(np.mean(norms[kind] ** 2))), 3))
        s.add(f"{kind}_jacobian_measured_rms", round(measured_sensitivity(model, x_test, np.random.default_rng(3)), 3))
    s.add("target_rho", args.rho)

    hist = {kind: plots.histogram(codes[kind], bins=50, range=(0, 1), title=f"{kind} AE: every code activation",
                                  xlabel="activation h", size=(420, 260)) for kind in ("plain", "sparse")}
    _common.save(_common.side_by_side([hist["plain"], hist["sparse"]]), out / "activations.png", args.force)

    means = {kind: np.sort(codes[kind].mean(axis=0))[::-1] for kind in ("plain", "sparse")}
    series = {"plain": means["plain"], "sparse": means["sparse"], f"target rho = {args.rho:g}": [args.rho] * args.code}
    chart = plots.loss_curves(series, title="mean activation of each code unit, sorted", xlabel="code unit",
                              ylabel="mean activation")
    _common.save(chart, out / "mean_activation.png", args.force)

    top = float(max(norms["plain"].max(), norms["contractive"].max()))
    hist = {kind: plots.histogram(norms[kind], bins=50, range=(0, top), title=f"{kind} AE: ||J_f(x)||_F per image",
                                  xlabel="Frobenius norm of dh/dx", size=(420, 260)) for kind in ("plain", "contractive")}
    _common.save(_common.side_by_side([hist["plain"], hist["contractive"]]), out / "sensitivity.png", args.force)

    chart = _common.loss_curves(histories, "reconstruction BCE per epoch", part="reconstruction",
                                ylabel="BCE per pixel")
    _common.save(chart, out / "loss_curves.png", args.force)
    _common.compact_pngs([out / n for n in OUTPUTS if n.endswith(".png")])
    s.write(out, args.force)
    return s.values


if __name__ == "__main__":
    main()
