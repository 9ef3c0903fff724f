"""The model kinds ``tinyae train --model KIND`` builds, each from (in_shape, rng, options).

options (from the CLI; a builder reads what it needs):
    arch "dense" | "conv", code (int), hidden (widths of the dense layers), loss,
    sparsity "kl" | "l1", rho, beta (sparse), lam (contractive), noise, noise_level (denoising)
"""

import numpy as np

from tinyae.autoencoders.architectures import conv_pair, dense_pair
from tinyae.autoencoders.base import Autoencoder
from tinyae.autoencoders.contractive import ContractiveAutoencoder
from tinyae.autoencoders.denoising import DenoisingAutoencoder
from tinyae.autoencoders.sparse import SparseAutoencoder
from tinyae.models import register_kind


def _pair(in_shape, rng, options, code_activation="identity"):
    dtype = np.dtype(options.get("dtype", "float32"))
    if options.get("arch", "dense") == "conv":
        return conv_pair(in_shape, options["code"], code_activation=code_activation, rng=rng, dtype=dtype)
    return dense_pair(in_shape, options["code"], tuple(options.get("hidden", (256,))), code_activation, rng, dtype)


def _common(in_shape, options):
    return {"loss": options.get("loss", "bce_with_logits"), "in_shape": in_shape}


def build_plain(in_shape, rng, options):
    return Autoencoder(*_pair(in_shape, rng, options), **_common(in_shape, options))


def build_sparse(in_shape, rng, options):
    sparsity = options.get("sparsity", "kl")
    pair = _pair(in_shape, rng, options, "sigmoid" if sparsity == "kl" else "relu")
    return SparseAutoencoder(*pair, **_common(in_shape, options), sparsity=sparsity,
                             rho=options.get("rho", 0.05), beta=options.get("beta", 1.0))


def build_contractive(in_shape, rng, options):
    # The closed-form penalty holds for one sigmoid layer, so the encoder has no hidden layers.
    dtype = np.dtype(options.get("dtype", "float32"))
    pair = dense_pair(in_shape, options["code"], (), "sigmoid", rng, dtype)
    return ContractiveAutoencoder(*pair, **_common(in_shape, options), lam=options.get("lam", 0.1))


def build_denoising(in_shape, rng, options):
    return DenoisingAutoencoder(*_pair(in_shape, rng, options), **_common(in_shape, options),
                                corruption=options.get("noise", "masking"), level=options.get("noise_level", 0.3))


def register_kinds():
    register_kind("ae", build_plain, "plain autoencoder (--arch dense|conv)")
    register_kind("sparse", build_sparse, "sparse autoencoder: KL (sigmoid code) or L1 (--sparsity, --rho, --beta)")
    register_kind("contractive", build_contractive, "contractive autoencoder, one sigmoid encoder layer (--lam)")
    register_kind("denoising", build_denoising, "denoising autoencoder (--noise, --noise-level)")
