"""Training a sprite model: a dataset -> a VAE with a small dense decoder -> class Gaussians -> novelty index.

    procgen train --dataset plants --out plants.npz           (procgen/models/README.md has the exact settings)

Datasets, all (N, C, 32, 32) float32 in [0, 1] with integer labels and class names:
    plants          ``procgen.plants.make_plant_dataset(n, rng)``: RGBA, one class per species
    fashion-mnist   n images of the Fashion-MNIST training split, the same number from each class, drawn by
                    rng, padded from 28 x 28 to 32 x 32 with 2 empty pixels per side. One gray channel, which
                    ``sprites.postprocess`` also reads as alpha: light clothes on an empty background
    images DIR      every PNG/JPEG in DIR as RGBA resized to 32 x 32 (nearest, to keep pixel art crisp); the
                    files of a subfolder form a class named after it, files directly in DIR the class "sprite"

Model: dense encoder (Flatten, Dense + ReLU per hidden width, Dense to mu and logvar) and dense decoder
(Dense + ReLU per width, Dense to logits), Bernoulli likelihood, KL warm-up; trained by ``tinyae.train.fit``
with Adam. Dense, because ``procgen.decoder`` runs dense layers in a fixed order fast enough for games.

Written files:
    OUT                   a tinyae VAE checkpoint (``tinyae.models.load`` reads it) with the class Gaussians;
                          spec["training"]["procgen"] holds kind, class names, thresholds and these settings
    OUT stem.novelty.npz  the novelty index: block features (``distance.features``) of every training image,
                          as a tinyae checkpoint of one uint8 array "features" (M, F)
"""

import json
import time
from pathlib import Path

import numpy as np

from procgen.errors import ProcgenError
from procgen.distance import features

SIZE = 32
DATASETS = ("plants", "fashion-mnist")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def novelty_path(model_path):
    """Where the novelty index of the checkpoint ``model_path`` lives: beside it, ``<stem>.novelty.npz``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".novelty.npz")


# --- datasets ------------------------------------------------------------------------------------


ALPHA_THRESHOLDS = {"plants": 0.5, "clothing": 0.2, "sprites": 0.5}  # by kind: where a pixel turns opaque
# clothing: Fashion-MNIST's gray is also its alpha, and many clothes are darker than 0.5 gray


def load_dataset(dataset, n, rng, images=None):
    """(x (N, C, 32, 32) float32, labels (N,) int64, class names, kind) for a dataset name or images folder."""
    if images is not None:
        return _folder_dataset(Path(images), n, rng)
    if dataset == "plants":
        from procgen.plants import SPECIES, make_plant_dataset

        x, labels = make_plant_dataset(n, rng, size=SIZE)
        return x, labels, list(SPECIES), "plants"
    if dataset == "fashion-mnist":
        from tinyae.datasets import CLASS_NAMES, load_fashion_mnist

        x, labels = load_fashion_mnist("train", progress=False)
        pick = _balanced(labels, n, len(CLASS_NAMES), rng)
        pad = (SIZE - 28) // 2
        x = np.pad(x[pick], ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, 1, 28, 28) -> (N, 1, 32, 32)
        return x, labels[pick], list(CLASS_NAMES), "clothing"
    raise ProcgenError(f"dataset must be one of {', '.join(DATASETS)} (or give an images folder), got {dataset!r}")


def _balanced(labels, n, n_classes, rng):
    """n indices, n // K (or one more) from each of the K classes, drawn without replacement, sorted."""
    per = [n // n_classes + (k < n % n_classes) for k in range(n_classes)]
    picks = []
    for k, count in enumerate(per):
        pool = np.flatnonzero(labels == k)
        if count > len(pool):
            raise ProcgenError(f"n = {n} asks {count} images of class {k}, the dataset has {len(pool)}")
        picks.append(rng.choice(pool, size=count, replace=False))
    return np.sort(np.concatenate(picks))


def _folder_dataset(root, n, rng):
    """Every image under root (see the module docstring); any other file is refused, naming it."""
    from tinyae.datasets import load_image_folder
    from tinyae.errors import DataError

    if not root.is_dir():
        raise ProcgenError(f"images folder {str(root)!r} does not exist or is not a folder")
    strays = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                    if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts)
                    and p.suffix.lower() not in IMAGE_SUFFIXES)
    if strays:
        raise ProcgenError(f"images folder {str(root)!r} must hold only PNG/JPEG images; found {len(strays)} other "
                           f"files: {', '.join(strays[:5])}")
    try:
        x, names = load_image_folder(root, size=(SIZE, SIZE), mode="RGBA", recursive=True, resample="nearest")
    except DataError as err:
        raise ProcgenError(f"images folder {str(root)!r}: {err}") from err
    groups = [name.split("/")[0] if "/" in name else "sprite" for name in names]
    class_names = sorted(set(groups))
    labels = np.array([class_names.index(g) for g in groups], dtype=np.int64)
    if n is not None and n < len(x):
        keep = np.sort(rng.choice(len(x), size=n, replace=False))
        x, labels = x[keep], labels[keep]
    return x, labels, class_names, "sprites"


# --- training ------------------------------------------------------------------------------------


def train(x, labels, class_names, kind, *, latent=16, encoder=(256,), decoder=(128, 128), epochs=40,
          batch_size=128, lr=1e-3, beta=1.0, warmup_epochs=5, seed=0, progress=True):
    """Fit a VAE to x and its per-class latent Gaussians; returns (vae, history, settings).

    settings is what went in (and what ``procgen train`` records in the checkpoint).
    """
    from tinyae.optim import Adam
    from tinyae.train import fit
    from tinyae.vae import build_vae

    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-len(x) // batch_size)
    vae = build_vae(x.shape[1:], latent, encoder=encoder, decoder=decoder, beta=beta,
                    warmup_steps=warmup_epochs * steps_per_epoch, rng=rng)
    history = fit(vae, Adam(lr), x, epochs=epochs, batch_size=batch_size, rng=rng, progress=progress)
    vae.fit_class_gaussians(x, labels, len(class_names))
    settings = {"latent": latent, "encoder": list(encoder), "decoder": list(decoder), "epochs": epochs,
                "batch_size": batch_size, "lr": lr, "beta": beta, "warmup_epochs": warmup_epochs, "seed": seed}
    return vae, history, settings


def save_model(vae, out, *, kind, class_names, thresholds, alpha_threshold, settings, history, dataset,
               training_features, force=False):
    """Write the checkpoint and its novelty index (see the module docstring); refuses to overwrite unless force."""
    from tinyae import checkpoint, models

    out = Path(out)
    index_path = novelty_path(out)
    for path in (out, index_path):
        if path.exists() and not force:
            raise ProcgenError(f"{path} already exists; pass --force (force=True) to overwrite it")
    meta = {"kind": kind, "class_names": list(class_names), "dataset": dataset, "settings": settings,
            "thresholds": thresholds, "alpha_threshold": alpha_threshold,
            "n_training_images": int(len(training_features))}
    training = {"history": history.as_dict(), "procgen": meta}
    checkpoint.save(index_path, {"features": training_features},
                    {"format": "procgen-novelty-index", "model": out.name, "block": 4,
                     "n_features": int(training_features.shape[1])}, force=True)
    models.save(vae, out, force=True, training=json.loads(json.dumps(training, default=float)))
    return out, index_path


def training_features(x, alpha_threshold):
    """Block features of the training images as canonical sprites (binary alpha), (N, F) uint8."""
    from procgen.sprites import postprocess

    bytes_ = np.floor(x * 255.0 + 0.5) / np.float32(255.0)  # the decoder's levels, so both sides quantize alike
    return np.concatenate([features(postprocess(bytes_[i:i + 2048].astype(np.float32), alpha_threshold=alpha_threshold))
                           for i in range(0, len(x), 2048)])


def run(dataset=None, images=None, out=None, n=12000, force=False, progress=True, thresholds=None,
        alpha_threshold=None, **options):
    """The whole job behind ``procgen train``: returns a summary dict (files, seconds, final losses)."""
    seed = options.get("seed", 0)
    start = time.perf_counter()
    out = Path(out)
    for path in (out, novelty_path(out)):
        if path.exists() and not force:
            raise ProcgenError(f"{path} already exists; pass --force to overwrite it")
    x, labels, class_names, kind = load_dataset(dataset, n, np.random.default_rng([seed, 1]), images)
    vae, history, settings = train(x, labels, class_names, kind, progress=progress, **options)
    from procgen.sampler import DEFAULT_NOVELTY, DEFAULT_UNIQUENESS

    defaults = {"uniqueness": DEFAULT_UNIQUENESS, "novelty": DEFAULT_NOVELTY}
    thresholds = {k: v if (thresholds or {}).get(k) is None else float(thresholds[k]) for k, v in defaults.items()}
    settings["n"] = int(len(x))
    alpha = ALPHA_THRESHOLDS[kind] if alpha_threshold is None else float(alpha_threshold)
    source = f"images:{Path(images).name}" if images is not None else dataset
    files = save_model(vae, out, kind=kind, class_names=class_names, thresholds=thresholds, alpha_threshold=alpha,
                       settings=settings, history=history, dataset=source,
                       training_features=training_features(x, alpha), force=force)
    return {"files": [str(f) for f in files], "seconds": time.perf_counter() - start, "images": int(len(x)),
            "loss": history.loss[-1], "parts": history.parts[-1], "classes": class_names}
