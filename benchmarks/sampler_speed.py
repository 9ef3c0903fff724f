"""Sampler speed: sprites per second in batches, and the latency of one keyed ``sprite_at`` call.

    python benchmarks/sampler_speed.py [--model plants] [--n 20000] [--calls 500] [--repeats 3]

Measured in one run, after a warm-up that loads the cached Numba kernels:
    decode + post-process   SpriteSampler.render: DenseDecoder.decode_bytes, a palette model's clean-up and
                            colours, then the model's default style (outline) by sprites.postprocess (no PNG);
                            beside tinyae's VAE.decode (BLAS matmuls + softmax or sigmoid) on the same codes
    sample(1000)            the whole batch path: keys, latents, decode, post-process, uniqueness, novelty.
                            Uniqueness among all pairs gets harder as a batch grows (n^2 pairs), so this
                            is timed on the 1000 sprites of one ``procgen sample -n 1000``
    sprite_at, cold         one cell at a time at scattered coordinates, the cell cache emptied before each
                            call, so every call decodes its cell's whole closure (the cells it depends on:
                            1, 3, 7 or 13 with radius 1, by the cell's phase; see procgen.uniqueness)
    sprite_at, scanning     a fresh sampler walking a region row by row: the cache holds the cells already
                            decided, as when a game streams in the tiles around a player
Throughputs are the best of ``repeats``; latencies are medians (and 90th percentiles) over ``calls`` calls.
The machine is shared, so the load average is printed with the results.
"""

import argparse
import os
import platform
import time

import numba
import numpy as np

from procgen.sampler import SpriteSampler, _model_path


def best_rate(work, n, repeats):
    """Best items per second of ``work()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return n / min(times)


def latencies(calls):
    """Seconds of each call of the list of zero-argument functions."""
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return np.array(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="plants")
    parser.add_argument("--n", type=int, default=20000, help="sprites per batch")
    parser.add_argument("--calls", type=int, default=500, help="sprite_at calls per latency measurement")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from tinyae import models

    sampler = SpriteSampler.load(args.model)
    vae = models.load(_model_path(args.model))
    d, shape = sampler.decoder.latent_dim, sampler.decoder.image_shape
    widths = [d] + [W.shape[1] for W, _, _ in sampler.decoder.hidden] + [sampler.decoder.last[0].shape[1]]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numba threads "
          f"{numba.get_num_threads()}, numpy {np.__version__}, numba {numba.__version__}")
    print(f"model: {args.model}, dense decoder {' -> '.join(map(str, widths))} (float32), sprites {shape}, "
          f"novelty index {len(sampler.index) if sampler.index else 0} images, thresholds {sampler.thresholds}")

    z = sampler.latents(np.arange(args.n, dtype=np.uint64))
    sampler.render(z[:64])  # warm-up: load the cached kernels
    sampler.sprite_at(0, 0, 0)
    load_before = os.getloadavg()[0]

    fixed = best_rate(lambda: sampler.render(z), args.n, args.repeats)
    decode_only = best_rate(lambda: sampler.decoder.decode_bytes(z), args.n, args.repeats)
    if sampler.conditional:  # the same codes: the latent, and the class its one-hot part names
        blas = best_rate(lambda: vae.decode(z[:, :sampler.latent_dim], sampler.code_classes(z), batch_size=args.n),
                         args.n, args.repeats)
    else:
        blas = best_rate(lambda: vae.decode(z, batch_size=args.n), args.n, args.repeats)
    whole = best_rate(lambda: sampler.sample(1000, 1), 1000, args.repeats)
    print(f"\nbatches of {args.n:,} (best of {args.repeats}):")
    print(f"  decode + post-process (fixed order)  {fixed:>10,.0f} sprites/s")
    print(f"  decode only (fixed order)            {decode_only:>10,.0f} sprites/s")
    print(f"  decode only (tinyae VAE.decode, BLAS) {blas:>9,.0f} sprites/s   not batch-invariant")
    print(f"  sample(1000): + uniqueness, novelty  {whole:>10,.0f} sprites/s")

    rng = np.random.default_rng(0)
    cells = rng.integers(-10**6, 10**6, size=(args.calls, 2))

    closure_sizes = []

    def cold(x, y):
        sampler.cache.clear()
        closure_sizes.append(sampler.region(7, int(x), int(y), 1, 1).stats.sprites)  # what sprite_at runs

    cold_s = latencies([lambda x=x, y=y: cold(x, y) for x, y in cells])
    closure_sizes = np.array(closure_sizes)
    scanning = SpriteSampler.load(args.model)
    side = int(np.ceil(np.sqrt(args.calls)))
    scan_s = latencies([lambda i=i: scanning.sprite_at(7, i % side, i // side) for i in range(args.calls)])
    print(f"\nsprite_at, one call ({args.calls} calls):")
    print(f"  cold (cache emptied each call)  median {np.median(cold_s) * 1e3:.3f} ms   "
          f"p90 {np.percentile(cold_s, 90) * 1e3:.3f} ms   mean {cold_s.mean() * 1e3:.3f} ms")
    for size in np.unique(closure_sizes):  # one closure size per phase of the cell
        picked = cold_s[closure_sizes == size]
        print(f"    cells decided {size:>3}: {len(picked):>4} calls, median {np.median(picked) * 1e3:.3f} ms")
    print(f"  scanning a region row by row    median {np.median(scan_s) * 1e3:.3f} ms   "
          f"p90 {np.percentile(scan_s, 90) * 1e3:.3f} ms")
    print(f"\nload average before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
