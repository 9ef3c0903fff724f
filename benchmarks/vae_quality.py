"""VAE quality on Fashion-MNIST: tinyae against PyTorch in one run, and the 2-D latent pictures.

Part "quality" (default): the dense VAE 784-400-(20 mu, 20 logvar), decoder 20-400-784, ReLU hidden
layers, Bernoulli likelihood on grayscale targets pixel / 255 in [0, 1] (BCE from logits, summed over
pixels, mean over the batch, in both), logvar clamped to [-10, 10] in both, Adam lr 1e-3, batch 128,
float32. The PyTorch model starts from the very same initial weights (copied from tinyae's He/Glorot
draw), then each library trains with its own shuffling and its own eps ~ N(0, I).

Both trained models are scored on the 10,000 test images by one evaluator (tinyae.vae.negative_elbo,
with the PyTorch weights copied back into a tinyae VAE), averaged over --eval-draws draws of z, and the
PyTorch model is also scored by PyTorch itself as a check on that evaluator. The importance-weighted
log-likelihood (K = --iw-k) on the first --iw-images test images gives the tighter number.

Part "figures": the tutorial's VAE with a 2-D latent (--arch conv needs tinyae.kernels; dense is
784-512-2), trained for --epochs, then tinyae.vae.vae_figures on 5,000 test images into --out.

    python benchmarks/vae_quality.py                       # 10 epochs, tinyae and (if importable) PyTorch
    python benchmarks/vae_quality.py --part figures --arch conv --epochs 3 --out runs/vae2d

Recorded run (Intel Xeon, 2 logical cores shared with other jobs at load 10-14, so the times say
little; Python 3.11.7, numpy 2.4.6, torch 2.13.0+cpu on 2 threads; seed 0; test set, nats per image):

                 -ELBO    recon     KL    -L_100 (1,000 images)   train time
    tinyae      245.04   228.10  16.94   241.62                    785 s
    PyTorch     245.90   227.68  18.21   242.30                   2510 s
    ratio tinyae / PyTorch -ELBO 0.9965; PyTorch scored by itself: 245.88 (shared evaluator: 245.90)

Figures part, same machine: dense 784-512-2, 10 epochs on 60,000: -ELBO 266.11 (recon 259.89 + KL 6.21),
-L_50 264.04, 1929 s; tutorial conv, 3 epochs on 30,000: -ELBO 279.70 (273.34 + 6.37), -L_50 276.76, 920 s.
"""

import argparse
import os
import platform
import time

import numpy as np

from tinyae import __version__ as tinyae_version
from tinyae.datasets.fashion_mnist import CLASS_NAMES, load_fashion_mnist
from tinyae.optim import Adam
from tinyae.train import fit
from tinyae.vae import build_vae, importance_weighted_log_likelihood, negative_elbo, tutorial_conv_vae, vae_figures

LOGVAR_BOUNDS = (-10.0, 10.0)


def machine():
    """CPU model name, logical cores, and the Python / numpy versions."""
    cpu = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical cores; Python {platform.python_version()}, numpy {np.__version__}"


def score(vae, x, draws, iw_k, iw_images, seed):
    """Negative ELBO terms averaged over `draws` draws of z, and -L_K on the first iw_images images."""
    runs = [negative_elbo(vae, x, x, np.random.default_rng(seed + i)) for i in range(draws)]
    out = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    rng = np.random.default_rng(seed + 100)
    out["neg_iw"] = -float(importance_weighted_log_likelihood(vae, x[:iw_images], x[:iw_images], iw_k, rng).mean())
    return out


def train_tinyae(vae, x_train, epochs, seed):
    start = time.perf_counter()
    history = fit(vae, Adam(1e-3), x_train, epochs=epochs, batch_size=128, rng=np.random.default_rng(seed),
                  progress=False)
    return time.perf_counter() - start, history.loss


def train_torch(vae, x_train, epochs, seed, threads):
    """The same model in PyTorch, started from vae's current weights; returns (seconds, losses, weights)."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    d = vae.latent_dim
    dense = [layer for net in (vae.encoder, vae.decoder) for layer in net.layers if "W" in layer.params]
    linears = [torch.nn.Linear(layer.n_in, layer.n_out) for layer in dense]
    with torch.no_grad():
        for lin, layer in zip(linears, dense):
            lin.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))  # ours x W, torch x W^T
            lin.bias.copy_(torch.from_numpy(layer.params["b"]))
    enc1, enc2, dec1, dec2 = linears
    params = [p for lin in linears for p in lin.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x_all = torch.from_numpy(x_train.reshape(len(x_train), -1))  # (N, 1, 28, 28) -> (N, 784)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def loss_fn(xb):
        h = enc2(torch.relu(enc1(xb)))
        mu, logvar = h[:, :d], torch.clamp(h[:, d:], *LOGVAR_BOUNDS)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = dec2(torch.relu(dec1(z)))
        recon = bce(logits, xb, reduction="sum") / len(xb)
        kl = 0.5 * torch.sum(mu * mu + torch.exp(logvar) - logvar - 1) / len(xb)
        return recon, kl

    losses, start = [], time.perf_counter()
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(x_all)).split(128):
            recon, kl = loss_fn(x_all[idx])
            opt.zero_grad()
            (recon + kl).backward()
            opt.step()
            total += (recon + kl).item() * len(idx)
        losses.append(total / len(x_all))
    seconds = time.perf_counter() - start
    weights = [(lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy()) for lin in linears]
    return seconds, losses, weights, loss_fn


def torch_self_score(loss_fn, x, draws):
    """PyTorch's own negative ELBO on x, nats per image: the check on tinyae's evaluator."""
    import torch

    xt = torch.from_numpy(x.reshape(len(x), -1))  # (N, 1, 28, 28) -> (N, 784)
    with torch.no_grad():
        return float(np.mean([sum(float(t) for t in loss_fn(xt)) for _ in range(draws)]))


def part_quality(args, x_train, x_test):
    vae = build_vae((1, 28, 28), 20, encoder=(400,), rng=np.random.default_rng(args.seed))
    twin = build_vae((1, 28, 28), 20, encoder=(400,), rng=np.random.default_rng(args.seed))  # same init
    print(f"setup: {machine()}; tinyae {tinyae_version}; float32; Fashion-MNIST 60,000 train / 10,000 test, "
          f"grayscale BCE; dense 784-400-20 VAE, Adam 1e-3, batch 128, {args.epochs} epochs; seed {args.seed}")
    seconds, losses = train_tinyae(vae, x_train, args.epochs, args.seed)
    print(f"tinyae : {seconds:7.1f} s, train loss per epoch {[round(l, 2) for l in losses]}", flush=True)
    ours = score(vae, x_test, args.eval_draws, args.iw_k, args.iw_images, args.seed)
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch: not importable, comparison skipped (pip install torch==2.13.0 for the CPU build)")
    if torch is not None:
        seconds_t, losses_t, weights, loss_fn = train_torch(twin, x_train, args.epochs, args.seed, args.threads)
        print(f"PyTorch {torch.__version__}: {seconds_t:7.1f} s on {torch.get_num_threads()} threads, "
              f"train loss per epoch {[round(l, 2) for l in losses_t]}", flush=True)
        for (layer, (w, b)) in zip([l for n in (twin.encoder, twin.decoder) for l in n.layers if "W" in l.params],
                                   weights):
            layer.params["W"][...], layer.params["b"][...] = w, b
        theirs = score(twin, x_test, args.eval_draws, args.iw_k, args.iw_images, args.seed)
        theirs_self = torch_self_score(loss_fn, x_test, args.eval_draws)
    print(f"\ntest set, nats per image (mean of {args.eval_draws} draws of z; -log p(x) bound by "
          f"IWAE K={args.iw_k} on {args.iw_images} images)")
    print(f"{'':10s}{'-ELBO':>10s}{'recon':>10s}{'KL':>8s}{'-L_K':>10s}")
    rows = [("tinyae", ours)] + ([("PyTorch", theirs)] if torch is not None else [])
    for name, s in rows:
        print(f"{name:10s}{s['neg_elbo']:10.2f}{s['recon']:10.2f}{s['kl']:8.2f}{s['neg_iw']:10.2f}")
    if torch is not None:
        print(f"PyTorch scored by PyTorch: -ELBO {theirs_self:.2f} (check on the shared evaluator)")
        print(f"ratio tinyae / PyTorch -ELBO: {ours['neg_elbo'] / theirs['neg_elbo']:.4f} "
              f"(target within 1%: {abs(ours['neg_elbo'] / theirs['neg_elbo'] - 1) <= 0.01})")


def part_figures(args, x_train, x_test, y_test):
    rng = np.random.default_rng(args.seed)
    vae = tutorial_conv_vae(2, rng=rng) if args.arch == "conv" else build_vae((1, 28, 28), 2, (512,), rng=rng)
    print(f"setup: {machine()}; tutorial {args.arch} VAE, 2-D latent, Adam 1e-3, batch 128, "
          f"{args.epochs} epochs on {len(x_train)} images; seed {args.seed}")
    seconds, losses = train_tinyae(vae, x_train, args.epochs, args.seed)
    print(f"trained in {seconds:.1f} s, train loss per epoch {[round(l, 2) for l in losses]}")
    s = score(vae, x_test[:2000], 1, 50, 500, args.seed)
    print(f"test (2,000 images): -ELBO {s['neg_elbo']:.2f} = recon {s['recon']:.2f} + KL {s['kl']:.2f}; "
          f"-L_50 {s['neg_iw']:.2f} (500 images)")
    paths = vae_figures(vae, x_test[:5000], y_test[:5000], CLASS_NAMES, args.out, force=args.force, rng=rng)
    print("\n".join(str(p) for p in paths.values()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("quality", "figures"), default="quality")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="PyTorch intra-op threads")
    parser.add_argument("--eval-draws", type=int, default=5)
    parser.add_argument("--iw-k", type=int, default=100)
    parser.add_argument("--iw-images", type=int, default=1000)
    parser.add_argument("--arch", choices=("conv", "dense"), default="conv", help="figures: which 2-D VAE")
    parser.add_argument("--train-images", type=int, default=60000, help="figures: first N training images")
    parser.add_argument("--out", default="runs/vae_figures", help="figures: folder for the PNGs")
    parser.add_argument("--force", action="store_true", help="figures: overwrite existing PNGs")
    args = parser.parse_args()
    x_train, _ = load_fashion_mnist("train", progress=False)
    x_test, y_test = load_fashion_mnist("test", progress=False)
    if args.part == "quality":
        part_quality(args, x_train, x_test)
    else:
        part_figures(args, x_train[:args.train_images], x_test, y_test)


if __name__ == "__main__":
    main()
