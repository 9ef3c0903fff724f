"""Variational autoencoders: the model, its evaluation in nats, generation and figures.

    gaussian.py    the posterior: logvar clamp, reparameterization z = mu + sigma * eps and its backward
    likelihood.py  p(x | z): Bernoulli (BCE from logits), Gaussian with fixed variance, Categorical (palette)
    model.py       VAE: negative ELBO with hand-written backward, KL warm-up, generation, checkpoints
    conditional.py ConditionalVAE: encoder and decoder also read a one-hot class label
    evaluation.py  negative ELBO split into recon + KL; the importance-weighted log-likelihood
    generation.py  lerp / slerp paths, per-class latent Gaussians
    builders.py    the tutorial's dense and conv VAEs; build_vae from layer-size lists; build_conditional_vae
    figures.py     manifold, latent scatter, reconstructions, samples per class as PNGs
"""

from tinyae.vae.builders import build_conditional_vae, build_vae, tutorial_conv_vae, tutorial_dense_vae
from tinyae.vae.conditional import ConditionalVAE
from tinyae.vae.figures import vae_figures
from tinyae.vae.evaluation import importance_weighted_log_likelihood, log_mean_exp, negative_elbo
from tinyae.vae.generation import ClassGaussians, lerp, slerp
from tinyae.vae.likelihood import Bernoulli, Categorical, Gaussian, mode, one_hot
from tinyae.vae.model import VAE

__all__ = ["VAE", "ConditionalVAE", "build_vae", "build_conditional_vae", "tutorial_dense_vae", "tutorial_conv_vae",
           "negative_elbo", "importance_weighted_log_likelihood", "log_mean_exp", "ClassGaussians", "lerp", "slerp",
           "Bernoulli", "Gaussian", "Categorical", "one_hot", "mode", "vae_figures"]
