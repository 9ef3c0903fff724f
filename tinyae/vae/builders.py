"""Ready-made VAEs: the tutorial's dense and convolutional models, and a general builder from size lists.

Every encoder ends in a linear Dense producing 2d numbers (mu, then logvar); every decoder ends in
linear logits. Hidden layers use ReLU with He initialization; the two output layers use Glorot,
since no ReLU follows them.
"""

import numpy as np

from tinyae.layers import Conv2D, ConvTranspose2D, Dense, Flatten, ReLU, Reshape
from tinyae.models import register_kind
from tinyae.network import Sequential
from tinyae.vae.conditional import ConditionalVAE
from tinyae.vae.likelihood import Bernoulli, Categorical, Gaussian
from tinyae.vae.model import VAE


def _likelihood(likelihood, sigma, image_shape):
    """The likelihood named; a Categorical has one category per image channel, K = C."""
    if likelihood == "bernoulli":
        return Bernoulli()
    if likelihood == "gaussian":
        return Gaussian(sigma)
    if likelihood == "categorical":
        return Categorical(image_shape[0])
    raise ValueError(f"VAE builder: likelihood must be 'bernoulli', 'gaussian' or 'categorical', got {likelihood!r}")


def _check_shape(image_shape):
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"VAE builder: expected image_shape (C, H, W) of positive sizes, got {image_shape!r}")
    return shape


def _dense_stack(width, hidden, out, rng, dtype):
    """Dense + ReLU per hidden width, then a linear Dense(.., out): (N, width) -> (N, out)."""
    layers = []
    for h in hidden:
        layers += [Dense(width, h, "he", rng, dtype), ReLU()]
        width = h
    return layers + [Dense(width, out, "glorot", rng, dtype)]


def dense_encoder(image_shape, hidden, latent_dim, rng, dtype, extra_inputs=0):
    """Flatten, then Dense + ReLU per hidden width, then Dense(.., 2d): (N, C, H, W) -> (N, 2d).

    extra_inputs > 0: no Flatten; the encoder reads rows (N, CHW + extra_inputs), e.g. [flatten(x), onehot(y)].
    """
    width = int(np.prod(image_shape))
    first = [] if extra_inputs else [Flatten()]
    return Sequential(first + _dense_stack(width + extra_inputs, hidden, 2 * latent_dim, rng, dtype), name="encoder")


def dense_decoder(image_shape, hidden, latent_dim, rng, dtype, extra_inputs=0):
    """Dense + ReLU per hidden width, Dense(.., C*H*W) logits, Reshape: (N, d + extra_inputs) -> (N, C, H, W)."""
    layers = _dense_stack(latent_dim + extra_inputs, hidden, int(np.prod(image_shape)), rng, dtype)
    return Sequential(layers + [Reshape(image_shape)], name="decoder")


def conv_encoder(image_shape, channels, latent_dim, rng, dtype):
    """A 3x3 stride-2 Conv + ReLU per entry of channels (halving H and W), Flatten, Dense(.., 2d)."""
    c, h, w = image_shape
    layers = []
    for c_out in channels:
        layers += [Conv2D(c, c_out, 3, stride=2, padding=1, rng=rng, dtype=dtype), ReLU()]
        c, h, w = c_out, (h - 1) // 2 + 1, (w - 1) // 2 + 1
    layers += [Flatten(), Dense(c * h * w, 2 * latent_dim, "glorot", rng, dtype)]
    return Sequential(layers, name="encoder")


def conv_decoder(image_shape, channels, latent_dim, rng, dtype):
    """Dense to (channels[0], H/2^k, W/2^k), then a stride-2 ConvTranspose + ReLU per entry, Conv to C logits."""
    c_img, h, w = image_shape
    k = len(channels)
    if h % 2 ** k or w % 2 ** k:
        raise ValueError(f"conv decoder: {k} stride-2 upsamplings need H and W divisible by {2 ** k}, "
                         f"got image_shape {image_shape}")
    start = (channels[0], h // 2 ** k, w // 2 ** k)
    layers = [Dense(latent_dim, int(np.prod(start)), "he", rng, dtype), ReLU(), Reshape(start)]
    c = channels[0]
    for c_out in channels:
        layers += [ConvTranspose2D(c, c_out, 3, stride=2, padding=1, output_padding=1, rng=rng, dtype=dtype),
                   ReLU()]
        c = c_out
    layers.append(Conv2D(c, c_img, 3, padding="same", init="glorot", rng=rng, dtype=dtype))
    return Sequential(layers, name="decoder")


BUILDERS = {"dense": (dense_encoder, dense_decoder), "conv": (conv_encoder, conv_decoder)}


def build_vae(image_shape, latent_dim, encoder=(512,), decoder=None, encoder_kind="dense", decoder_kind="dense",
              likelihood="bernoulli", sigma=0.1, beta=1.0, warmup_steps=0, rng=None, dtype=np.float32):
    """A VAE from layer-size lists, e.g. build_vae((4, 32, 32), 16, encoder=(32, 64), encoder_kind="conv",
    decoder=(256,)) for sprites: a conv encoder and a small, fast dense decoder.

    encoder, decoder: hidden widths for "dense", channel counts of stride-2 convolutions for "conv";
    decoder=None mirrors the encoder (reversed).  sigma is used only by the Gaussian likelihood.
    """
    image_shape = _check_shape(image_shape)
    if encoder_kind not in BUILDERS or decoder_kind not in BUILDERS:
        raise ValueError(f"build_vae: encoder_kind and decoder_kind must be 'dense' or 'conv', "
                         f"got {encoder_kind!r}, {decoder_kind!r}")
    if int(latent_dim) < 1:
        raise ValueError(f"build_vae: latent_dim must be >= 1, got {latent_dim!r}")
    encoder = [int(s) for s in encoder]
    decoder = encoder[::-1] if decoder is None else [int(s) for s in decoder]
    if decoder_kind == "conv" and not decoder:
        raise ValueError("build_vae: a conv decoder needs at least one channel count")
    rng = rng if rng is not None else np.random.default_rng(0)
    return VAE(BUILDERS[encoder_kind][0](image_shape, encoder, latent_dim, rng, dtype),
               BUILDERS[decoder_kind][1](image_shape, decoder, latent_dim, rng, dtype),
               image_shape, latent_dim, _likelihood(likelihood, sigma, image_shape), beta, warmup_steps)


def build_conditional_vae(image_shape, latent_dim, n_classes, encoder=(128,), decoder=(128, 128),
                          likelihood="categorical", sigma=0.1, beta=1.0, warmup_steps=0, rng=None, dtype=np.float32):
    """A ConditionalVAE with dense networks, e.g. build_conditional_vae((8, 32, 32), 16, 5) for sprites of
    8 palette categories in 5 classes:

    encoder: [flatten(x), onehot(y)] -> Dense + ReLU per width -> Dense(2d)     (N, CHW + n_classes) -> (N, 2d)
    decoder: [z, onehot(y)] -> Dense + ReLU per width -> Dense(CHW), Reshape     (N, d + n_classes) -> (N, C, H, W)
    likelihood: "categorical" (K = C categories), "bernoulli" or "gaussian" (sigma).
    """
    image_shape = _check_shape(image_shape)
    if int(latent_dim) < 1:
        raise ValueError(f"build_conditional_vae: latent_dim must be >= 1, got {latent_dim!r}")
    if int(n_classes) != n_classes or n_classes < 1:
        raise ValueError(f"build_conditional_vae: n_classes must be an integer >= 1, got {n_classes!r}")
    n_classes = int(n_classes)
    rng = rng if rng is not None else np.random.default_rng(0)
    encoder, decoder = [int(s) for s in encoder], [int(s) for s in decoder]
    return ConditionalVAE(dense_encoder(image_shape, encoder, latent_dim, rng, dtype, extra_inputs=n_classes),
                          dense_decoder(image_shape, decoder, latent_dim, rng, dtype, extra_inputs=n_classes),
                          image_shape, latent_dim, n_classes, _likelihood(likelihood, sigma, image_shape), beta,
                          warmup_steps)


def tutorial_dense_vae(latent_dim=2, rng=None, dtype=np.float32, **options):
    """The tutorial's dense VAE for 28x28 images: 784-512-(mu, logvar), decoder d-512-784."""
    return build_vae((1, 28, 28), latent_dim, (512,), (512,), rng=rng, dtype=dtype, **options)


def tutorial_conv_vae(latent_dim=2, rng=None, dtype=np.float32, likelihood="bernoulli", sigma=0.1, beta=1.0,
                      warmup_steps=0):
    """The tutorial's convolutional VAE for (1, 28, 28) images:

    encoder: Conv32, Conv64 stride 2, Conv64, Conv64 (3x3, ReLU), Flatten, Dense32 + ReLU, Dense(2d)
             (1, 28, 28) -> (32, 28, 28) -> (64, 14, 14) -> (64, 14, 14) -> (64, 14, 14) -> 12544 -> 32 -> 2d
    decoder: Dense(14*14*64) + ReLU, Reshape, ConvTranspose32 stride 2 (padding 1, output_padding 1) + ReLU,
             Conv1 (logits)
             d -> 12544 -> (64, 14, 14) -> (32, 28, 28) -> (1, 28, 28)
    Each ReLU is the layer's activation="relu", applied as the layer writes its output (as in Keras).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    conv = lambda c_in, c_out, stride=1: Conv2D(c_in, c_out, 3, stride, 1, rng=rng, dtype=dtype, activation="relu")
    encoder = Sequential([conv(1, 32), conv(32, 64, 2), conv(64, 64), conv(64, 64),
                          Flatten(), Dense(14 * 14 * 64, 32, "he", rng, dtype, activation="relu"),
                          Dense(32, 2 * latent_dim, "glorot", rng, dtype)], name="encoder")
    decoder = Sequential([Dense(latent_dim, 14 * 14 * 64, "he", rng, dtype, activation="relu"), Reshape((64, 14, 14)),
                          ConvTranspose2D(64, 32, 3, stride=2, padding=1, output_padding=1, rng=rng, dtype=dtype,
                                          activation="relu"),
                          Conv2D(32, 1, 3, padding="same", init="glorot", rng=rng, dtype=dtype)],
                         name="decoder")
    return VAE(encoder, decoder, (1, 28, 28), latent_dim, _likelihood(likelihood, sigma, (1, 28, 28)), beta,
               warmup_steps)


def _cli_options(options):
    """The CLI's model options (see tinyae.autoencoders.kinds) as VAE settings.

    code: latent size; loss "bce_with_logits" picks the Bernoulli likelihood, "mse" the Gaussian; beta.
    """
    loss = options.get("loss", "bce_with_logits")
    if loss not in ("bce_with_logits", "mse"):
        raise ValueError(f"vae: loss must be 'bce_with_logits' (Bernoulli) or 'mse' (Gaussian), got {loss!r}")
    return {"latent_dim": int(options.get("code", 2)), "beta": float(options.get("beta", 1.0)),
            "likelihood": "bernoulli" if loss == "bce_with_logits" else "gaussian",
            "dtype": np.dtype(options.get("dtype", "float32"))}


def build_kind(in_shape, rng, options):
    """``tinyae train --model vae``: --arch dense (hidden widths --hidden, 512 by default) or conv (the tutorial's)."""
    settings = _cli_options(options)
    if options.get("arch", "dense") == "conv":
        if tuple(in_shape) != (1, 28, 28):
            raise ValueError(f"vae --arch conv: the tutorial's conv VAE takes (1, 28, 28) images, "
                             f"got {tuple(in_shape)}")
        return tutorial_conv_vae(rng=rng, **settings)
    return build_vae(in_shape, encoder=tuple(options.get("hidden", (512,))), rng=rng, **settings)


register_kind("vae", build_kind, "variational autoencoder (--arch dense|conv, --code latent size, --beta)")
