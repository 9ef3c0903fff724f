"""Training speed: images per second for one full step (forward, backward, Adam update), tinyae vs PyTorch.

Models (batch 128 of 28x28 images, float32 by default):
  a  the tutorial's conv denoising autoencoder: Conv(1->64)+ReLU, MaxPool2, Conv(64->32)+ReLU, MaxPool2,
     Conv(32->16)+ReLU, MaxPool2 'same' (7 -> 4) | Conv(16->16)+ReLU, Up2, Conv(16->32)+ReLU, Up2,
     Conv(32->64, valid)+ReLU, Up2, Conv(64->1); all 3x3; MSE between output and clean images
  b  the conv VAE: Conv(1->32)+ReLU, Conv(32->64, stride 2)+ReLU, 2 x [Conv(64->64)+ReLU], Flatten,
     Dense(12544->32)+ReLU, Dense(32->4) = (mu, logvar) of a 2-D latent | Dense(2->12544)+ReLU, Reshape,
     ConvTranspose(64->32, stride 2, output_padding 1)+ReLU, Conv(32->1); negative ELBO (Bernoulli)
  c  dense autoencoder 784-512-2-512-784, ReLU hidden layers, sigmoid output, MSE

PyTorch, where importable, builds the same models in the same process with the same thread count,
and the two are timed in alternating rounds so that load from other processes hits both alike.
Each framework writes its ReLUs in its own fastest way: tinyae's layers take activation="relu" and
apply it as they write their output; PyTorch's models use nn.ReLU(inplace=True).
Also measured: Numba's first-call compile time with an empty cache and with a warm one.

    python benchmarks/train_speed.py                    # all models, 20 timed steps each
    python benchmarks/train_speed.py --quick            # 3 timed steps, no compile timing
    python benchmarks/train_speed.py --models a,b --steps 50 --batch 64 --profile
    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/train_speed.py   # one core each

Threads: PyTorch gets Numba's thread count. tinyae's Dense layers with n_out a multiple of 32 run on
Numba's threads (tinyae/kernels/dense_tiles.py); its other Dense layers, and all of them on one
thread, run NumPy's OpenBLAS on one thread (tinyae/blas.py). ``import tinyae`` also makes glibc keep freed memory for reuse (tinyae/memory.py),
which PyTorch, in the same process, benefits from too; TINYAE_KEEP_MEMORY=0 compares without it.
On a machine shared with other jobs, wall-clock times swing with their load; the CPU-time column
(process CPU seconds per step) is steadier, and exact for one thread.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

from tinyae import losses
from tinyae.layers import (Conv2D, ConvTranspose2D, Dense, Flatten, MaxPool2D, Reshape, Sigmoid,
                           UpSample2D)
from tinyae.network import Sequential
from tinyae.optim import Adam
from tinyae.vae.model import VAE

try:
    import torch
except ImportError:  # the comparison is optional; tinyae's numbers still print
    torch = None


# ---- tinyae models: each returns a step() that runs forward, backward and one Adam update ----------

def tinyae_denoising_ae(x, target, rng):
    net = Sequential([
        Conv2D(1, 64, rng=rng, activation="relu"), MaxPool2D(2),
        Conv2D(64, 32, rng=rng, activation="relu"), MaxPool2D(2),
        Conv2D(32, 16, rng=rng, activation="relu"), MaxPool2D(2, padding="same"),
        Conv2D(16, 16, rng=rng, activation="relu"), UpSample2D(2),
        Conv2D(16, 32, rng=rng, activation="relu"), UpSample2D(2),
        Conv2D(32, 64, padding="valid", rng=rng, activation="relu"), UpSample2D(2),
        Conv2D(64, 1, rng=rng),
    ])
    opt = Adam(1e-3)

    def step():
        _, dy = losses.mse(net.forward(x), target)
        net.backward(dy, input_grad=False)  # like PyTorch, no gradient for the data
        opt.step(net.parameters())
    return step, (net,)


def tinyae_conv_vae(x, rng):
    encoder = Sequential([
        Conv2D(1, 32, rng=rng, activation="relu"), Conv2D(32, 64, stride=2, padding=1, rng=rng, activation="relu"),
        Conv2D(64, 64, rng=rng, activation="relu"), Conv2D(64, 64, rng=rng, activation="relu"),
        Flatten(), Dense(14 * 14 * 64, 32, rng=rng, activation="relu"), Dense(32, 4, "glorot", rng=rng),
    ], name="encoder")
    decoder = Sequential([
        Dense(2, 14 * 14 * 64, rng=rng, activation="relu"), Reshape((64, 14, 14)),
        ConvTranspose2D(64, 32, 3, stride=2, padding=1, output_padding=1, rng=rng, activation="relu"),
        Conv2D(32, 1, init="glorot", rng=rng),
    ], name="decoder")
    vae = VAE(encoder, decoder, (1, 28, 28), 2)
    opt = Adam(1e-3)
    noise = np.random.default_rng(1)

    def step():
        vae.loss_and_grads(x, None, noise)
        opt.step(vae.parameters())
    return step, (encoder, decoder)


def tinyae_dense_ae(x, rng):
    flat = x.reshape(len(x), -1)  # (N, 1, 28, 28) -> (N, 784)
    net = Sequential([Dense(784, 512, rng=rng, activation="relu"), Dense(512, 2, rng=rng),
                      Dense(2, 512, rng=rng, activation="relu"), Dense(512, 784, "glorot", rng=rng), Sigmoid()])
    opt = Adam(1e-3)

    def step():
        _, dy = losses.mse(net.forward(flat), flat)
        net.backward(dy, input_grad=False)  # like PyTorch, no gradient for the data
        opt.step(net.parameters())
    return step, (net,)


# ---- the same models in PyTorch ---------------------------------------------------------------------

def torch_step(model, loss_fn, params):
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model).backward()
        opt.step()
    return step


def torch_denoising_ae(x, target):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True),  # 7 -> 4, like 'same'
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True), nn.Upsample(scale_factor=2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True), nn.Upsample(scale_factor=2),
        nn.Conv2d(32, 64, 3), nn.ReLU(inplace=True), nn.Upsample(scale_factor=2),
        nn.Conv2d(64, 1, 3, padding=1))
    xt, tt = torch.from_numpy(x), torch.from_numpy(target)
    return torch_step(model, lambda m: torch.nn.functional.mse_loss(m(xt), tt), model.parameters())


def torch_conv_vae(x):
    nn = torch.nn
    encoder = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(inplace=True),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True),
        nn.Flatten(), nn.Linear(14 * 14 * 64, 32), nn.ReLU(inplace=True), nn.Linear(32, 4))
    decoder = nn.Sequential(
        nn.Linear(2, 14 * 14 * 64), nn.ReLU(inplace=True), nn.Unflatten(1, (64, 14, 14)),
        nn.ConvTranspose2d(64, 32, 3, 2, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(32, 1, 3, padding=1))
    xt = torch.from_numpy(x)
    gen = torch.Generator().manual_seed(1)

    def negative_elbo(_):
        h = encoder(xt)
        mu, logvar = h[:, :2], h[:, 2:].clamp(-10, 10)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
        logits = decoder(z)
        recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, xt, reduction="sum")
        kl = 0.5 * torch.sum(mu * mu + logvar.exp() - logvar - 1)
        return (recon + kl) / len(xt)
    return torch_step(None, negative_elbo, list(encoder.parameters()) + list(decoder.parameters()))


def torch_dense_ae(x):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(inplace=True), nn.Linear(512, 2),
                          nn.Linear(2, 512), nn.ReLU(inplace=True), nn.Linear(512, 784), nn.Sigmoid())
    flat = torch.from_numpy(x.reshape(len(x), -1))  # (N, 1, 28, 28) -> (N, 784)
    return torch_step(model, lambda m: torch.nn.functional.mse_loss(m(flat), flat), model.parameters())


# ---- measurement --------------------------------------------------------------------------------------

def timed_steps(step, n):
    """(wall-clock seconds, process CPU seconds) of each of n calls."""
    times = []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def compare(steps, n_steps, rounds=5):
    """Median (wall, CPU) seconds per step of each named step(), in alternating rounds after 2 warm-up calls."""
    for step in steps.values():
        step()
        step()
    times = {name: [] for name in steps}
    per_round = max(1, n_steps // rounds)
    for _ in range(rounds):
        for name, step in steps.items():
            times[name] += timed_steps(step, per_round)
    return {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
            for name, t in times.items()}


def layer_profile(net, x, repeats=3):
    """Best-of-repeats (forward ms, backward ms) of each layer of a Sequential, fed its real input."""
    inputs, h = [], x
    for layer in net.layers:
        inputs.append(h)
        h = layer.forward(h)
    rows = []
    for layer, h in zip(net.layers, inputs):
        y = layer.forward(h)
        dy = np.random.default_rng(0).standard_normal(y.shape).astype(y.dtype)
        fwd = min(wall for wall, _ in timed_steps(lambda: layer.forward(h), repeats))
        bwd = min(wall for wall, _ in timed_steps(lambda: layer.backward(dy), repeats))
        rows.append((layer.name, fwd * 1e3, bwd * 1e3))
    return rows


COMPILE_SNIPPET = """
import time
t0 = time.perf_counter()
import numpy as np
from tinyae import kernels as K
x = np.ones((2, 3, 8, 8), np.float32); w = np.ones((4, 3, 3, 3), np.float32); b = np.zeros(4, np.float32)
y = K.conv2d_forward(x, w, b, 1, 1); K.conv2d_backward(y, x, w, 1, 1)
wt = np.ones((3, 4, 3, 3), np.float32)
z = K.conv_transpose2d_forward(x, wt, b, 2, 1, 1); K.conv_transpose2d_backward(z, x, wt, 2, 1, 1)
p, a = K.maxpool2d_forward(x, 2, (0, 0)); K.maxpool2d_backward(p, a, x.shape)
print(time.perf_counter() - t0)
"""


def compile_times():
    """Seconds to import tinyae.kernels and run every kernel once (float32): empty cache, then warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = lambda: float(subprocess.run([sys.executable, "-c", COMPILE_SNIPPET], env=env, check=True,
                                           capture_output=True, text=True).stdout.split()[-1])
        return run(), run()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 timed steps per model, skip the compile timing")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per model and framework")
    ap.add_argument("--models", default="a,b,c", help="comma-separated subset of a,b,c")
    ap.add_argument("--profile", action="store_true", help="also print tinyae's per-layer times")
    args = ap.parse_args(argv)
    n_steps = 3 if args.quick else args.steps
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or set(models) - {"a", "b", "c"}:
        ap.error(f"--models must list some of a,b,c; got {args.models!r}")

    threads = numba.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)  # the same number of cores for both
    print(f"CPU        {cpu_model()}, {os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.2f}")
    print(f"software   Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
          f"PyTorch {torch.__version__ if torch is not None else 'not installed'}")
    print(f"threads    Numba {threads}, PyTorch {torch.get_num_threads() if torch is not None else '-'}, "
          f"OpenBLAS {os.environ.get('OPENBLAS_NUM_THREADS', 'default (all cores)')}")
    print(f"setup      float32, batch {args.batch}, 28x28x1 images, {n_steps} timed steps per model "
          f"(median), forward + backward + Adam")

    rng = np.random.default_rng(0)
    clean = rng.random((args.batch, 1, 28, 28), dtype=np.float32)
    noisy = np.clip(clean + 0.3 * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
    names = {"a": "conv denoising AE", "b": "conv VAE", "c": "dense AE 784-512-2-512-784"}
    print(f"\n{'':<30}{'images per wall-clock second':^37}{'images per CPU second':^37}")
    print(f"{'model':<30}" + f"{'tinyae':>12}{'PyTorch':>12}{'ratio':>10}   " * 2)
    for m in models:
        build = {"a": lambda: tinyae_denoising_ae(noisy, clean, np.random.default_rng(0)),
                 "b": lambda: tinyae_conv_vae(clean, np.random.default_rng(0)),
                 "c": lambda: tinyae_dense_ae(clean, np.random.default_rng(0))}[m]
        step, nets = build()
        steps = {"tinyae": step}
        if torch is not None:
            steps["torch"] = {"a": lambda: torch_denoising_ae(noisy, clean), "b": lambda: torch_conv_vae(clean),
                              "c": lambda: torch_dense_ae(clean)}[m]()
        sec = compare(steps, n_steps)
        row = f"{m} {names[m]:<28}"
        for k in (0, 1):  # wall clock, then CPU time
            ours = args.batch / sec["tinyae"][k]
            theirs = args.batch / sec["torch"][k] if "torch" in sec else float("nan")
            row += f"{ours:>12.0f}{theirs:>12.0f}{ours / theirs:>10.2f}   "
        print(row, flush=True)
        if args.profile:
            x = {"a": noisy, "b": clean, "c": clean.reshape(args.batch, -1)}[m]
            for net in nets:
                for name, fwd, bwd in layer_profile(net, x):
                    print(f"    {name:<40} forward {fwd:7.2f} ms   backward {bwd:7.2f} ms")
                x = rng.standard_normal((args.batch, 2), dtype=np.float32)  # the VAE decoder's input: z
    print(f"Numba threading layer {numba.threading_layer()}; load average at the end {os.getloadavg()[0]:.2f} "
          f"(above {os.cpu_count()} means other processes shared the cores)")

    if not args.quick:
        cold, warm = compile_times()
        print(f"\nfirst call of every kernel (float32, fresh process): {cold:.1f} s with an empty Numba cache, "
              f"{warm:.1f} s with a warm one")


if __name__ == "__main__":
    main()
