"""VAE: encoder -> (mu, logvar) -> z = mu + sigma * eps -> decoder -> logits, trained on the negative ELBO.

For one image x (Kingma & Welling 2014), with prior p(z) = N(0, I) and posterior q(z | x) = N(mu, sigma^2):

    log p(x) >= ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))

Training minimizes, averaged over the batch, with one z per image:

    L = recon + beta_t * kl,   recon = -log p(x | z),   z = mu + exp(logvar / 2) * eps,
    kl = 0.5 * sum_j (mu_j^2 + exp(logvar_j) - logvar_j - 1)          (closed form)

beta = 1 is the ELBO itself; beta != 1 is the beta-VAE (Higgins et al. 2017). With warm-up
(Bowman et al. 2016) beta_t = beta * min(1, t / warmup_steps) after t training steps, so the decoder
learns to use z before the KL term pulls every posterior onto the prior.

Backward, line for line as ``loss_and_grads_given_eps`` runs it (N images, d latent dimensions):

    dlogits = d recon / d logits                             the likelihood's gradient
    dz      = decoder.backward(dlogits)[:, :d]               (N, d); a ConditionalVAE's decoder reads [z, onehot(y)]
                                                             and the label's columns, data, get no gradient
    dmu     = dz                            + beta * mu / N
    dlogvar = dz * eps * 0.5 * exp(logvar/2) + beta * 0.5 * (exp(logvar) - 1) / N
    draw    = dlogvar * [low <= raw <= high]                 the logvar clamp
    encoder.backward(concat(dmu, draw))                      (N, 2d)

Subclasses change only what the two networks read, through ``_encoder_input`` and ``_decoder_input``
(ConditionalVAE appends a one-hot class label to both), so this backward is written once.
"""

import numpy as np

from tinyae.checkpoint import check_arrays_match
from tinyae.errors import CheckpointError, ShapeError
from tinyae.losses import kl_diag_gaussian
from tinyae.models import register
from tinyae.network import EncoderDecoder, Sequential
from tinyae.vae.evaluation import negative_elbo
from tinyae.vae.gaussian import clamp_logvar, reparameterize, reparameterize_backward
from tinyae.vae.generation import ClassGaussians, lerp, slerp
from tinyae.vae.likelihood import Bernoulli, likelihood_from_config

SPEC_KEYS = ("image_shape", "latent_dim", "encoder", "decoder", "likelihood", "beta", "warmup_steps", "steps",
             "logvar_bounds", "dtype")


@register
class VAE(EncoderDecoder):
    """A variational autoencoder over images of shape ``image_shape`` (C, H, W) with a d-dim latent.

    encoder: a Sequential mapping (N, C, H, W) -> (N, 2d); the first d outputs are mu, the last d logvar.
    decoder: a Sequential mapping (N, d) -> (N, C, H, W) logits; images are likelihood.mean(logits).
    likelihood: Bernoulli() (default), Gaussian(sigma) or Categorical(C), see ``tinyae.vae.likelihood``.
    """

    EXTRA_SPEC_KEYS = ()  # constructor arguments a subclass adds, recorded in its checkpoint spec

    def __init__(self, encoder, decoder, image_shape, latent_dim, likelihood=None, beta=1.0, warmup_steps=0,
                 logvar_bounds=(-10.0, 10.0)):
        self.encoder, self.decoder = encoder, decoder
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = int(latent_dim)
        self.likelihood = likelihood if likelihood is not None else Bernoulli()
        if not beta >= 0:
            raise ValueError(f"VAE: beta must be >= 0, got {beta!r}")
        if int(warmup_steps) < 0:
            raise ValueError(f"VAE: warmup_steps must be >= 0, got {warmup_steps!r}")
        low, high = (float(b) for b in logvar_bounds)
        if not low < high:
            raise ValueError(f"VAE: logvar_bounds must be (low, high) with low < high, got {logvar_bounds!r}")
        self.beta, self.warmup_steps, self.steps = float(beta), int(warmup_steps), 0
        self.logvar_bounds = (low, high)
        self.class_gaussians = None
        name = type(self).__name__
        found = encoder.output_shape(self.encoder_input_shape)
        if tuple(found) != (2 * self.latent_dim,):
            raise ShapeError(f"{name}: the encoder must map {self.encoder_input_shape} to ({2 * self.latent_dim},) "
                             f"(mu and logvar for latent_dim={self.latent_dim}), it gives {tuple(found)}")
        found = decoder.output_shape(self.decoder_input_shape)
        if tuple(found) != self.image_shape:
            raise ShapeError(f"{name}: the decoder must map {self.decoder_input_shape} to {self.image_shape}, "
                             f"it gives {tuple(found)}")
        if self.likelihood.name == "categorical" and self.likelihood.n_categories != self.image_shape[0]:
            raise ShapeError(f"{name}: a Categorical likelihood needs one image channel per category, "
                             f"expected {self.likelihood.n_categories} channels, got image_shape {self.image_shape}")

    @property
    def encoder_input_shape(self):
        """The shape of one example the encoder reads: the image (C, H, W)."""
        return self.image_shape

    @property
    def decoder_input_shape(self):
        """The shape of one example the decoder reads: the code (d,)."""
        return (self.latent_dim,)

    def check_labels(self, labels, n):
        """Class labels are for ConditionalVAE; this VAE is unconditional, so labels must be None."""
        if labels is not None:
            raise ValueError(f"{type(self).__name__}: this model is not class-conditional and takes no labels, "
                             f"got labels of shape {np.shape(labels)}; a ConditionalVAE reads them")

    def _encoder_input(self, x, labels):
        """What the encoder reads for images x: x itself."""
        self.check_labels(labels, x.shape[0])
        return x

    def _decoder_input(self, z, labels):
        """What the decoder reads for codes z: z itself."""
        self.check_labels(labels, z.shape[0])
        return z

    @property
    def dtype(self):
        return self.encoder.parameters()[0][1].dtype

    @property
    def kl_weight(self):
        """beta_t = beta * min(1, t / warmup_steps) after t = self.steps training steps."""
        if self.warmup_steps == 0:
            return self.beta
        return self.beta * min(1.0, self.steps / self.warmup_steps)

    def check_images(self, x, what="x"):
        """Raise ShapeError unless x is an (N, *image_shape) array of the model's dtype."""
        if not isinstance(x, np.ndarray) or x.shape[1:] != self.image_shape or x.ndim != len(self.image_shape) + 1:
            found = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise ShapeError(f"VAE: expected {what} of shape (N, {', '.join(map(str, self.image_shape))}), got {found}")
        if x.dtype != self.dtype:
            raise ShapeError(f"VAE: expected {what} of dtype {self.dtype}, got {x.dtype}")

    def check_target(self, x, target):
        """The target defaults to x; it must match x. For the Bernoulli likelihood it lies in [0, 1]; for the
        Categorical, each pixel is a distribution over the categories (axis 1): in [0, 1], summing to 1."""
        target = x if target is None else target
        self.check_images(target, "target")
        if target.shape != x.shape:
            raise ShapeError(f"VAE: expected target of shape {x.shape} (the input's), got {target.shape}")
        kind = self.likelihood.name
        if kind in ("bernoulli", "categorical") and (target.min() < 0 or target.max() > 1):
            raise ShapeError(f"VAE: the {kind.capitalize()} likelihood needs targets in [0, 1], "
                             f"got values in [{target.min()}, {target.max()}]")
        if kind == "categorical":
            off = np.max(np.abs(target.sum(axis=1, dtype=np.float64) - 1))  # (N, K, H, W) -> (N, H, W)
            if off > 1e-4:
                raise ShapeError(f"VAE: the Categorical likelihood needs targets that sum to 1 over the "
                                 f"{self.image_shape[0]} categories (axis 1) at every pixel, e.g. one_hot(indices); "
                                 f"found a pixel whose sum is off by {off:.3g}")
        return target

    def posterior(self, x, training=False, labels=None):
        """(mu, logvar, inside): the encoder's q(z | x), logvar clamped, inside the clamp's mask. (N, d) each."""
        h = self.encoder.forward(self._encoder_input(x, labels), training)
        d = self.latent_dim
        mu, raw = h[:, :d], h[:, d:]  # (N, 2d) -> (N, d), (N, d)
        logvar, inside = clamp_logvar(raw, *self.logvar_bounds)
        return mu, logvar, inside

    def loss_and_grads_given_eps(self, x, target, eps, beta, labels=None):
        """L = recon + beta * kl with the noise eps (N, d) given; fills every grad. See the module docstring."""
        mu, logvar, inside = self.posterior(x, training=True, labels=labels)
        z, sigma = reparameterize(mu, logvar, eps)
        logits = self.decoder_logits(z, labels, training=True)
        recon, dlogits = self.likelihood.loss_and_grad(logits, target)
        kl, dkl_dmu, dkl_dlogvar = kl_diag_gaussian(mu, logvar, reduction="batch")
        loss = recon + beta * kl

        dz = self.decoder.backward(dlogits)[:, :self.latent_dim]  # (N, d + label columns) -> (N, d)
        dmu, dlogvar = reparameterize_backward(dz, sigma, eps)
        dmu = dmu + beta * dkl_dmu
        dlogvar = (dlogvar + beta * dkl_dlogvar) * inside  # zero where the clamp is flat
        dh = np.concatenate([dmu, dlogvar], axis=1)  # the encoder output's gradient: (N, d), (N, d) -> (N, 2d)
        self.encoder.backward(dh, input_grad=False)
        return loss, {"recon": recon, "kl": kl}

    def loss_and_grads(self, x, target, rng, labels=None):
        """One training step's loss (nats per image) and gradients, eps ~ N(0, I) drawn from rng.

        Each call counts as one training step and advances the KL warm-up; parameters are not changed.
        """
        self.check_images(x)
        target = self.check_target(x, target)
        eps = rng.standard_normal((x.shape[0], self.latent_dim)).astype(self.dtype)
        out = self.loss_and_grads_given_eps(x, target, eps, self.kl_weight, labels)
        self.steps += 1
        return out

    def evaluate(self, x, target, rng, batch_size=500, labels=None):
        """(recon + beta * kl, {"recon", "kl"}) in nats per image on held-out data, one z per image.

        Uses the final beta, not the warm-up's current one, so validation losses compare across epochs.
        """
        self.check_images(x)
        target = self.check_target(x, target)
        parts = negative_elbo(self, x, target, rng, batch_size, labels=labels)
        return parts["recon"] + self.beta * parts["kl"], {"recon": parts["recon"], "kl": parts["kl"]}

    def decoder_logits(self, z, labels=None, training=False):
        """The decoder's logits for codes z (and labels, in a ConditionalVAE): (n, d) -> (n, C, H, W)."""
        return self.decoder.forward(self._decoder_input(z, labels), training)

    def encode(self, x, batch_size=1000, labels=None):
        """(mu, logvar) of q(z | x), each (N, d), in batches."""
        self.check_images(x)
        outs = [self.posterior(x[i:i + batch_size], labels=_rows(labels, i, batch_size))[:2]
                for i in range(0, x.shape[0], batch_size)]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def decode(self, z, batch_size=1000, labels=None):
        """Images likelihood.mean(decoder(z)), (n, d) -> (n, C, H, W): Bernoulli probabilities, Gaussian means
        (both sigma(logits), in [0, 1]) or, for the Categorical, the probability of each category at each pixel."""
        z = np.asarray(z, dtype=self.dtype)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"{type(self).__name__}.decode: expected z of shape (n, {self.latent_dim}), got {z.shape}")
        return np.concatenate([self.likelihood.mean(self.decoder_logits(z[i:i + batch_size],
                                                                        _rows(labels, i, batch_size)))
                               for i in range(0, z.shape[0], batch_size)])

    def reconstruct(self, x, rng=None, labels=None):
        """decode(mu(x)), the posterior's mean code; with rng, decode a sampled z ~ q(z | x) instead."""
        mu, logvar = self.encode(x, labels=labels)
        if rng is not None:
            mu = reparameterize(mu, logvar, rng.standard_normal(mu.shape).astype(self.dtype))[0]
        return self.decode(mu, labels=labels)

    def sample(self, n, rng, labels=None):
        """n images decoded from z ~ N(0, I), the prior."""
        return self.decode(rng.standard_normal((n, self.latent_dim)), labels=labels)

    def interpolate(self, a, b, steps=10, spherical=False, label=None):
        """Images along the path between the codes mu(a) and mu(b) of two images (C, H, W) -> (steps, C, H, W).

        label: the class both images are encoded and the path decoded with, in a ConditionalVAE.
        """
        pair, path = (None, None) if label is None else (np.full(2, label), np.full(steps, label))
        mu, _ = self.encode(np.stack([a, b]), labels=pair)
        return self.decode((slerp if spherical else lerp)(mu[0], mu[1], steps), labels=path)

    def fit_class_gaussians(self, x, labels, n_classes=None):
        """Fit one Gaussian per class to the encoded means of x (see ClassGaussians); kept and checkpointed."""
        self.class_gaussians = ClassGaussians.fit(self.encode(x)[0].astype(np.float64), labels, n_classes)
        return self.class_gaussians

    def sample_class(self, cls, n, rng):
        """n images decoded from class cls's fitted Gaussian."""
        if self.class_gaussians is None:
            raise ValueError("VAE.sample_class: no class Gaussians; call fit_class_gaussians(x, labels) first")
        return self.decode(self.class_gaussians.sample(cls, n, rng))

    def to_checkpoint(self):
        """(arrays, spec) for tinyae.checkpoint.save: the weights, the class Gaussians if fitted, the architecture."""
        arrays = {name: p.copy() for name, p, _ in self.parameters()}
        if self.class_gaussians is not None:
            arrays["class_gaussians.mean"] = self.class_gaussians.mean
            arrays["class_gaussians.var"] = self.class_gaussians.var
        spec = {"model": type(self).__name__, "image_shape": list(self.image_shape), "latent_dim": self.latent_dim,
                **{k: getattr(self, k) for k in self.EXTRA_SPEC_KEYS},
                "encoder": self.encoder.config(), "decoder": self.decoder.config(),
                "likelihood": self.likelihood.config(), "beta": self.beta, "warmup_steps": self.warmup_steps,
                "steps": self.steps, "logvar_bounds": list(self.logvar_bounds), "dtype": np.dtype(self.dtype).name}
        return arrays, spec

    @classmethod
    def from_checkpoint(cls, arrays, spec):
        """Rebuild the model that to_checkpoint described; raises CheckpointError if the two do not fit."""
        name, keys = cls.__name__, SPEC_KEYS + cls.EXTRA_SPEC_KEYS
        missing = [k for k in keys if k not in spec]
        if spec.get("model") != name or missing:
            raise CheckpointError(f"{name}.from_checkpoint: expected a spec with model {name!r} and keys {list(keys)}; "
                                  f"got model {spec.get('model')!r}, missing {missing}")
        try:
            dtype = np.dtype(spec["dtype"])
            vae = cls(Sequential.from_config(spec["encoder"], dtype=dtype),
                      Sequential.from_config(spec["decoder"], dtype=dtype),
                      image_shape=spec["image_shape"], latent_dim=spec["latent_dim"],
                      likelihood=likelihood_from_config(spec["likelihood"]), beta=spec["beta"],
                      warmup_steps=spec["warmup_steps"], logvar_bounds=spec["logvar_bounds"],
                      **{k: spec[k] for k in cls.EXTRA_SPEC_KEYS})
        except (TypeError, ValueError, KeyError) as err:
            raise CheckpointError(f"{name}.from_checkpoint: the spec does not describe a valid {name}: {err}") from err
        expected = {name: (p.shape, p.dtype) for name, p, _ in vae.parameters()}
        if "class_gaussians.mean" in arrays or "class_gaussians.var" in arrays:
            found = arrays.get("class_gaussians.mean", arrays.get("class_gaussians.var")).shape
            shape = (found[0] if found else 0, vae.latent_dim)  # (K classes, d)
            expected.update({"class_gaussians.mean": (shape, None), "class_gaussians.var": (shape, None)})
        check_arrays_match(expected, arrays)
        for name, p, _ in vae.parameters():
            p[...] = arrays[name]
        if "class_gaussians.mean" in arrays:
            vae.class_gaussians = ClassGaussians(arrays["class_gaussians.mean"], arrays["class_gaussians.var"])
        vae.steps = int(spec["steps"])
        return vae


def _rows(labels, start, size):
    """labels[start:start + size], or None for an unconditional model."""
    return None if labels is None else labels[start:start + size]
