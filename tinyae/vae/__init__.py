"""Variational autoencoders: the model, its evaluation in nats, generation and figures.

    gaussian.py    the posterior: logvar clamp, reparameterization z = mu + sigma * eps and its backward
    likelihood.py  p(x | z): Bernoulli (BCE from logits) or Gaussian with fixed variance
    model.py       VAE: negative ELBO with hand-written backward, KL warm-up, generation, checkpoints
    evaluation.py  negative ELBO split into recon + KL; the importance-weighted log-likelihood
    generation.py  lerp / slerp paths, per-class latent Gaussians
    builders.py    the tutorial's dense and conv VAEs; build_vae from layer-size lists
    figures.py     manifold, latent scatter, reconstructions, samples per class as PNGs
"""

from tinyae.vae.builders import build_vae, tutorial_conv_vae, tutorial_dense_vae
from tinyae.vae.figures import vae_figures
from tinyae.vae.evaluation import importance_weighted_log_likelihood, log_mean_exp, negative_elbo
from tinyae.vae.generation import ClassGaussians, lerp, slerp
from tinyae.vae.likelihood import Bernoulli, Gaussian
from tinyae.vae.model import VAE

__all__ = ["VAE", "build_vae", "tutorial_dense_vae", "tutorial_conv_vae", "negative_elbo",
           "importance_weighted_log_likelihood", "log_mean_exp", "ClassGaussians", "lerp", "slerp",
           "Bernoulli", "Gaussian", "vae_figures"]
