"""ConditionalVAE: a VAE told the class y of every image (Sohn et al. 2015, "conditional VAE").

Both networks read the class as a one-hot vector e_y (n_classes numbers) beside their usual input:

    encoder: [flatten(x), e_y]  (N, CHW + n_classes) -> (mu, logvar)         q(z | x, y)
    decoder: [z, e_y]           (N, d + n_classes)   -> logits (N, C, H, W)   p(x | z, y)

The loss is the VAE's negative ELBO with every distribution conditioned on y, and the prior stays
p(z | y) = N(0, I). So z is free to carry what the class does not say, and decoding any z with the label
y draws an image of class y: a species asked for comes out as that species.

Backward, line for line as ``VAE.loss_and_grads_given_eps`` runs it (the same code: only what each
network reads differs, in ``_encoder_input`` / ``_decoder_input``). The labels are data, not parameters:

    dlogits   = d recon / d logits                        the likelihood's gradient
    d[z, e_y] = decoder.backward(dlogits)                 (N, d + n_classes)
    dz        = d[z, e_y][:, :d]                          (N, d): the label columns' gradient is dropped
    dmu       = dz                             + beta * mu / N
    dlogvar   = dz * eps * 0.5 * exp(logvar/2) + beta * 0.5 * (exp(logvar) - 1) / N
    draw      = dlogvar * [low <= raw <= high]            the logvar clamp
    encoder.backward(concat(dmu, draw))                   (N, 2d); the gradient w.r.t. [flatten(x), e_y] is not needed

The decoder is a plain Sequential whose first layer reads [z, e_y], so a fast decoder that runs its Dense
layers needs only that input vector: the code, then the one-hot class.
"""

import numpy as np

from tinyae.errors import ShapeError
from tinyae.models import register
from tinyae.vae.generation import ClassGaussians
from tinyae.vae.likelihood import one_hot
from tinyae.vae.model import VAE


@register
class ConditionalVAE(VAE):
    """A VAE over images (C, H, W) and integer labels (N,) in 0..n_classes-1.

    encoder: a Sequential mapping (N, CHW + n_classes) -> (N, 2d), reading [flatten(x), onehot(y)].
    decoder: a Sequential mapping (N, d + n_classes) -> (N, C, H, W) logits, reading [z, onehot(y)].
    Every VAE method that touches a network takes the labels of its rows; the rest is the VAE's.
    """

    EXTRA_SPEC_KEYS = ("n_classes",)

    def __init__(self, encoder, decoder, image_shape, latent_dim, n_classes, likelihood=None, beta=1.0,
                 warmup_steps=0, logvar_bounds=(-10.0, 10.0)):
        if int(n_classes) != n_classes or n_classes < 1:
            raise ValueError(f"ConditionalVAE: n_classes must be an integer >= 1, got {n_classes!r}")
        self.n_classes = int(n_classes)  # before VAE.__init__, whose shape checks read the input shapes
        super().__init__(encoder, decoder, image_shape, latent_dim, likelihood, beta, warmup_steps, logvar_bounds)
        for what, net, shape in (("encoder", encoder, self.encoder_input_shape),
                                 ("decoder", decoder, self.decoder_input_shape)):
            width = getattr(net.layers[0], "n_in", shape[0])  # Dense.output_shape does not look at its input
            if width != shape[0]:
                raise ShapeError(f"ConditionalVAE: the {what}'s first layer must read {shape[0]} numbers "
                                 f"(n_classes={self.n_classes}), it reads {width}")

    @property
    def encoder_input_shape(self):
        return (int(np.prod(self.image_shape)) + self.n_classes,)

    @property
    def decoder_input_shape(self):
        return (self.latent_dim + self.n_classes,)

    def check_labels(self, labels, n):
        """Raise unless labels is an integer array of shape (n,) with values in 0..n_classes-1."""
        if not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iu" or labels.shape != (n,):
            found = (f"{labels.dtype} array of shape {labels.shape}" if isinstance(labels, np.ndarray)
                     else type(labels).__name__)
            raise ShapeError(f"ConditionalVAE: expected labels as an integer array of shape ({n},), one per row, "
                             f"got {found}")
        if n and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ValueError(f"ConditionalVAE: expected labels in 0..{self.n_classes - 1}, "
                             f"got values in [{labels.min()}, {labels.max()}]")

    def _encoder_input(self, x, labels):
        """[flatten(x), onehot(y)]: (N, C, H, W), (N,) -> (N, CHW + n_classes)."""
        self.check_labels(labels, x.shape[0])
        flat = x.reshape(x.shape[0], -1)  # (N, C, H, W) -> (N, CHW)
        return np.concatenate([flat, one_hot(labels, self.n_classes, x.dtype)], axis=1)

    def _decoder_input(self, z, labels):
        """[z, onehot(y)]: (N, d), (N,) -> (N, d + n_classes)."""
        self.check_labels(labels, z.shape[0])
        return np.concatenate([z, one_hot(labels, self.n_classes, z.dtype)], axis=1)

    # The VAE's methods, with the labels moved to where they are required.

    def encode(self, x, labels, batch_size=1000):
        """(mu, logvar) of q(z | x, y), each (N, d)."""
        return super().encode(x, batch_size, labels=labels)

    def decode(self, z, labels, batch_size=1000):
        """Images likelihood.mean(decoder([z, onehot(y)])), (n, d), (n,) -> (n, C, H, W)."""
        return super().decode(z, batch_size, labels=labels)

    def reconstruct(self, x, labels, rng=None):
        """decode(mu(x, y), y); with rng, decode a sampled z ~ q(z | x, y) instead."""
        return super().reconstruct(x, rng, labels=labels)

    def sample_class(self, cls, n, rng):
        """n images of class cls with that label, z from the class's fitted Gaussian if there is one, else N(0, I)."""
        if self.class_gaussians is None:
            return self.sample(n, rng, np.full(n, cls))
        return self.decode(self.class_gaussians.sample(cls, n, rng), np.full(n, cls))

    def fit_class_gaussians(self, x, labels, n_classes=None):
        """One Gaussian per class over the encoded means mu(x, y) (see ClassGaussians); kept and checkpointed.

        Why a conditioned model wants them too: nothing stops the encoder from also writing the class into
        z (it is cheapest early in the KL warm-up), and a decoder that learned to read it there draws the
        class of z's region whatever the label says. Drawing z from the class's own region keeps both in
        agreement.
        """
        self.class_gaussians = ClassGaussians.fit(self.encode(x, labels)[0].astype(np.float64), labels, n_classes)
        return self.class_gaussians
