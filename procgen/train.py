"""Training a sprite model: a SpriteSet -> a class-conditioned palette VAE -> novelty index -> checkpoint.

    procgen train --dataset plants --size 32 --out plants.npz    (procgen/models/README.md has the exact settings)

Model (``tinyae.vae.ConditionalVAE``): images enter as one-hot categories (N, K, S, S), K = palette
entries + transparent. The encoder reads [image, onehot(class)] through dense layers and gives mu and
logvar; the decoder reads [z, onehot(class)], Dense + ReLU per width, and a Dense giving K logits per
pixel. The likelihood is categorical (softmax cross-entropy from the logits), so a decoded pixel is
one palette entry or transparent: at most P colours by construction, and no blur. The class is an
input, and after training one Gaussian per class is fitted to the encoded means, so a species asked
for is drawn with its label and from its own region of the latent space. Dense, because ``procgen.decoder`` runs dense
layers in a fixed order, fast enough for games and the same in every language.

Written files:
    OUT                   a tinyae checkpoint (``tinyae.models.load`` reads it); spec["training"]["procgen"]
                          holds kind, class names, palettes, default style, clean-up, licence, thresholds
    OUT stem.novelty.npz  the novelty index: block features (``distance.features``) of every training image
                          as the canonical sprite the sampler would make of it, as a tinyae checkpoint of one
                          uint8 array "features" (M, F)
"""

import json
import time
from pathlib import Path

import numpy as np

from procgen import paint
from procgen.datasets import hex_colours, load_dataset
from procgen.distance import features
from procgen.errors import ProcgenError


def novelty_path(model_path):
    """Where the novelty index of the checkpoint ``model_path`` lives: beside it, ``<stem>.novelty.npz``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".novelty.npz")


def train(data, *, latent=16, encoder=(256,), decoder=(128, 128), epochs=40, batch_size=128, lr=1e-3, beta=1.0,
          warmup_epochs=5, seed=0, progress=True):
    """Fit a class-conditioned palette VAE to a SpriteSet; returns (vae, history, settings).

    settings is what went in (and what ``procgen train`` records in the checkpoint).
    """
    from tinyae.optim import Adam
    from tinyae.train import fit
    from tinyae.vae import build_conditional_vae
    from tinyae.vae.likelihood import one_hot

    rng = np.random.default_rng(seed)
    n_categories = data.palettes.shape[1] + 1
    x = one_hot(data.categories, n_categories)  # (N, S, S) -> (N, K, S, S) float32
    steps_per_epoch = -(-len(x) // batch_size)
    vae = build_conditional_vae(x.shape[1:], latent, len(data.class_names), encoder=encoder, decoder=decoder,
                                likelihood="categorical", beta=beta, warmup_steps=warmup_epochs * steps_per_epoch,
                                rng=rng)
    history = fit(vae, Adam(lr), x, epochs=epochs, batch_size=batch_size, rng=rng, progress=progress,
                  labels=data.labels)
    vae.fit_class_gaussians(x, data.labels, len(data.class_names))
    settings = {"size": int(data.categories.shape[1]), "latent": latent, "encoder": list(encoder),
                "decoder": list(decoder), "epochs": epochs, "batch_size": batch_size, "lr": lr, "beta": beta,
                "warmup_epochs": warmup_epochs, "seed": seed}
    return vae, history, settings


def canonical_sprites(data):
    """The training images as the canonical sprites the sampler makes: (N, S, S, 4) uint8."""
    return paint.paint(data.categories[:, None], data.labels, data.palettes)  # (N, S, S) -> (N, 1, S, S)


def save_model(vae, out, data, *, thresholds, settings, history, force=False):
    """Write the checkpoint and its novelty index (see the module docstring); refuses to overwrite unless force.

    The index is written first and the checkpoint last, each atomically: a checkpoint on disk always
    has its index beside it.
    """
    from tinyae import checkpoint, models

    out = Path(out)
    index_path = novelty_path(out)
    for path in (out, index_path):
        if path.exists() and not force:
            raise ProcgenError(f"{path} already exists; pass --force (force=True) to overwrite it")
    feats = features(canonical_sprites(data))
    meta = {"kind": data.kind, "class_names": list(data.class_names), "dataset": data.source, "settings": settings,
            "thresholds": thresholds, "alpha_threshold": 0.5, "n_training_images": int(len(feats)),
            "palettes": hex_colours(data.palettes), "style": data.style,
            "cleanup": {"min_size": 3, "keep": data.keep},
            "licence": data.licence, "credit": data.credit}
    training = {"history": history.as_dict(), "procgen": meta}
    checkpoint.save(index_path, {"features": feats},
                    {"format": "procgen-novelty-index", "model": out.name, "block": 4,
                     "n_features": int(feats.shape[1])}, force=True)
    models.save(vae, out, force=True, training=json.loads(json.dumps(training, default=float)))
    return out, index_path


def run(dataset=None, images=None, out=None, n=12000, size=32, force=False, progress=True, thresholds=None,
        latent_scale=1.0, **options):
    """The whole job behind ``procgen train``: returns a summary dict (files, seconds, final losses).

    thresholds (uniqueness, novelty) and latent_scale are recorded as the sampler's defaults.
    """
    from procgen.sampler import DEFAULT_NOVELTY, DEFAULT_UNIQUENESS

    seed = options.get("seed", 0)
    start = time.perf_counter()
    out = Path(out)
    for path in (out, novelty_path(out)):
        if path.exists() and not force:
            raise ProcgenError(f"{path} already exists; pass --force to overwrite it")
    data = load_dataset(dataset, n, np.random.default_rng([seed, 1]), size, images)
    vae, history, settings = train(data, progress=progress, **options)
    defaults = {"uniqueness": DEFAULT_UNIQUENESS, "novelty": DEFAULT_NOVELTY}
    thresholds = {k: v if (thresholds or {}).get(k) is None else float(thresholds[k]) for k, v in defaults.items()}
    thresholds["latent_scale"] = float(latent_scale)
    settings["n"] = int(len(data.labels))
    files = save_model(vae, out, data, thresholds=thresholds, settings=settings, history=history, force=force)
    return {"files": [str(f) for f in files], "seconds": time.perf_counter() - start, "images": int(len(data.labels)),
            "loss": history.loss[-1], "parts": history.parts[-1], "classes": list(data.class_names)}
