"""The tutorial's VAE pictures, written as PNGs through tinyae.plots."""

from pathlib import Path

import numpy as np

from tinyae import plots
from tinyae.pca import PCA
from tinyae.vae.generation import ClassGaussians

FIGURES = ("manifold", "latent_scatter", "reconstructions", "samples_per_class")


def vae_figures(vae, x, labels, class_names, out_dir, force=False, rng=None, per_class=10):
    """Write four PNGs into out_dir and return {name: path}:

    manifold.png           the 20 x 20 grid of images decoded at Gaussian quantiles of z[0], z[1]
                           (other latent dimensions held at 0 when d > 2)
    latent_scatter.png     the posterior means mu(x) coloured by class, with a legend
                           (their first two principal components when d > 2)
    reconstructions.png    the first image of each class above its reconstruction decode(mu(x))
    samples_per_class.png  per_class images per class from that class's Gaussian in latent space
                           (vae.class_gaussians if fitted, else fitted here on (x, labels), not stored)

    x: (N, C, H, W) images of the model's dtype, labels: (N,) ints in [0, K), class_names: K names.
    rng: a Generator for the scatter's draw order and the samples; default_rng(0) if None.
    Existing files are refused (FileExistsError, before anything is written) unless force.
    """
    out_dir = Path(out_dir)
    paths = {name: out_dir / f"{name}.png" for name in FIGURES}
    taken = [str(p) for p in paths.values() if p.exists()]
    if taken and not force:
        raise FileExistsError(f"vae_figures: {taken} already exist; pass force=True to overwrite them")
    rng = rng if rng is not None else np.random.default_rng(0)
    labels = np.asarray(labels)
    names = list(class_names)
    mu = vae.encode(x)[0].astype(np.float64)

    grid = plots.manifold(vae.decode, n=20, latent_dim=vae.latent_dim, title="decoded latent grid")
    plots.save_png(grid, paths["manifold"], force=force)

    points = mu if vae.latent_dim == 2 else PCA(2).fit(mu).transform(mu)
    order = rng.permutation(len(points))  # random draw order, so no class is painted over by a later one
    title = "posterior means" if vae.latent_dim == 2 else f"posterior means, first 2 PCs of {vae.latent_dim}-d"
    scatter = plots.latent_scatter(points[order], labels[order], names, title=title, alpha=0.5)
    plots.save_png(scatter, paths["latent_scatter"], force=force)

    firsts = np.array([np.flatnonzero(labels == k)[0] for k in range(len(names)) if np.any(labels == k)])
    rows = [("original", x[firsts]), ("reconstruction", vae.reconstruct(x[firsts]))]
    plots.save_png(plots.row_comparison(rows), paths["reconstructions"], force=force)

    gaussians = vae.class_gaussians if vae.class_gaussians is not None else ClassGaussians.fit(mu, labels, len(names))
    rows = [(names[k], vae.decode(gaussians.sample(k, per_class, rng))) for k in range(len(names))]
    plots.save_png(plots.row_comparison(rows), paths["samples_per_class"], force=force)
    return paths
