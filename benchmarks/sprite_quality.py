"""Sprite quality of a model, measured on what the CLI writes by default: shapes, colours, class, coverage.

    python benchmarks/sprite_quality.py [--model plants] [--n 256] [--real 2000] [--fake 2000]

Every figure is on sprites of ``SpriteSampler.sample`` with the model's default style (the output of
``procgen sample --model M``, before --scale), except where "raw" says the canonical sprite:

    islands        8-connected opaque pieces of <= 2 px per sprite               (procgen.quality.islands)
    pieces         sprites with more than one 8-connected piece of >= 3 px       (procgen.quality.pieces)
    colours        distinct colours per sprite, median and maximum               (procgen.quality.colour_counts)
    class fidelity a classifier trained on training images (procgen.quality.SpriteClassifier), its accuracy
                   on sprites asked for as each class, over its accuracy on held-out real images
    precision /    improved precision and recall (Kynkaanniemi et al. 2019, k = 3) in
    recall         procgen.quality.sprite_features, generated (prior, no class asked) against held-out real

Real images are raw canonical sprites of fresh draws: new L-system plants (another seed than training's)
or Fashion-MNIST's test split, quantized as the model's training set was.
"""

import argparse
import os
import platform
import time

import numpy as np

from procgen.datasets import load_dataset
from procgen.quality import SpriteClassifier, colour_counts, islands, pieces, precision_recall, sprite_features
from procgen.sampler import SpriteSampler, _model_path
from procgen.train import canonical_sprites


def held_out(spec, n, seed):
    """n real sprites the model never saw, and their labels, as raw canonical sprites."""
    meta = spec["training"]["procgen"]
    if meta["dataset"] not in ("plants", "fashion-mnist"):
        raise SystemExit(f"held-out images of {meta['dataset']!r} are not known to this benchmark")
    data = load_dataset(meta["dataset"], n, np.random.default_rng([seed, 99]), meta["settings"]["size"],
                        split="test")
    return canonical_sprites(data), data.labels


def per_class(sampler, n, seed, raw):
    """n sprites asked for as each class: (sprites (K * n, ...), labels (K * n,))."""
    sprites = [sampler.sample(n, seed, cls=c, raw=raw).sprites for c in range(len(sampler.class_names))]
    return np.concatenate(sprites), np.repeat(np.arange(len(sampler.class_names)), n)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="plants")
    parser.add_argument("--n", type=int, default=256, help="sprites for the shape and colour figures")
    parser.add_argument("--real", type=int, default=2000, help="held-out real images")
    parser.add_argument("--fake", type=int, default=2000, help="generated sprites for precision and recall")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from tinyae import checkpoint

    start = time.perf_counter()
    sampler = SpriteSampler.load(args.model)
    spec = checkpoint.load(_model_path(args.model))[1]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; model {args.model}, "
          f"sprites {sampler.decoder.image_shape[1:]}, {len(sampler.class_names)} classes, seed {args.seed}")

    styled = sampler.sample(args.n, args.seed)
    raw = sampler.sample(args.n, args.seed, raw=True).sprites
    print(f"\n{args.n} sprites of `procgen sample --model {args.model} -n {args.n} --seed {args.seed}`:")
    for name, sprites in (("default style", styled.sprites), ("raw", raw)):
        isl, pcs, col = islands(sprites), pieces(sprites), colour_counts(sprites)
        print(f"  {name:<13}  islands of <= 2 px per sprite {isl.mean():.3f}   sprites in > 1 piece "
              f"{(pcs > 1).mean():.1%}   colours per sprite median {np.median(col):.0f}, max {col.max()}")
    print(f"  clean-up and redraws: {styled.stats.as_dict()}")

    real, real_labels = held_out(spec, args.real, args.seed)
    train = load_dataset(*_training_source(spec), np.random.default_rng([args.seed, 5]),
                         spec["training"]["procgen"]["settings"]["size"])
    classifier = SpriteClassifier().fit(sprite_features(canonical_sprites(train)), train.labels)
    real_accuracy = float((classifier.predict(sprite_features(real)) == real_labels).mean())
    fake, fake_labels = per_class(sampler, max(args.real // len(sampler.class_names), 1), args.seed, raw=True)
    predicted = classifier.predict(sprite_features(fake))
    fake_accuracy = float((predicted == fake_labels).mean())
    print(f"\nclass fidelity: classifier trained on {len(train.labels)} training images; accuracy on "
          f"{len(real_labels)} held-out real {real_accuracy:.3f}, on {len(fake_labels)} sprites asked by class "
          f"{fake_accuracy:.3f}: ratio {fake_accuracy / real_accuracy:.3f}")
    for c, name in enumerate(sampler.class_names):
        mine = fake_labels == c
        print(f"    {name:<14} {(predicted[mine] == c).mean():.3f}")

    prior = sampler.sample(args.fake, args.seed + 1, raw=True).sprites
    precision, recall = precision_recall(sprite_features(real), sprite_features(prior), k=3)
    print(f"\nprecision {precision:.3f}, recall {recall:.3f} (k = 3; {len(real)} held-out real, {len(prior)} "
          f"generated from the prior, procgen.quality.sprite_features)")
    print(f"\n{time.perf_counter() - start:.0f} s; load average {os.getloadavg()[0]:.2f}")


def _training_source(spec):
    """(dataset, n) to redraw a training set like the model's, for the classifier."""
    meta = spec["training"]["procgen"]
    return meta["dataset"], min(int(meta["settings"].get("n", 12000)), 6000)


if __name__ == "__main__":
    main()
