"""Autoencoder: an encoder and a decoder, trained to give back their input.

    z     = f(x)        the encoder, a Sequential; its output is the code
    a     = g(z)        the decoder, a Sequential; its output a (logits) has x's shape
    x_hat = a           for loss "mse"
    x_hat = sigma(a)    for loss "bce_with_logits", which takes the logits a themselves (never
                        log of a clipped probability, whose gradient would be wrong)
    L     = reconstruction(a, target) + sum of penalties       (subclasses add penalties)

Backward, the chain rule by hand:
    da = dL/da                                   from the loss
    dz = g.backward(da) + d penalties / dz       the decoder's gradient w.r.t. its input, plus the code's own terms
    f.backward(dz)                               fills the encoder's grads; a penalty may add direct terms to them

Subclasses change two hooks: ``corrupt`` (what the encoder sees: DenoisingAutoencoder) and
``penalty`` (terms on the code: SparseAutoencoder, ContractiveAutoencoder). The class follows
the trainable-model protocol of ``tinyae.train``.
"""

import numpy as np

from tinyae.checkpoint import check_arrays_match
from tinyae.errors import CheckpointError
from tinyae.layers import sigmoid
from tinyae.losses import bce_with_logits, mse
from tinyae.models import register
from tinyae.network import EncoderDecoder, Sequential

RECONSTRUCTION_LOSSES = {"mse": mse, "bce_with_logits": bce_with_logits}


@register
class Autoencoder(EncoderDecoder):
    """encoder, decoder: Sequentials. loss: "mse" or "bce_with_logits" (targets in [0, 1]).
    reduction: "mean" (over every element, as in Keras) or "batch" (sum over each example's
    elements, mean over the batch); see ``tinyae.losses``. in_shape: the per-example input shape,
    kept for summaries and the CLI (optional).
    """

    def __init__(self, encoder, decoder, loss="mse", reduction="mean", in_shape=None):
        if loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"{type(self).__name__}: loss must be one of {sorted(RECONSTRUCTION_LOSSES)}, got {loss!r}")
        if reduction not in ("mean", "batch"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean' or 'batch', got {reduction!r}")
        self.encoder, self.decoder = encoder, decoder
        self.loss, self.reduction = loss, reduction
        self.in_shape = None if in_shape is None else tuple(int(s) for s in in_shape)

    def encode(self, x):
        """The code z = f(x), in inference mode."""
        return self.encoder.forward(x, training=False)

    def decode(self, z):
        """x_hat from a code: the decoder's output, through a sigmoid when the loss is on logits."""
        a = self.decoder.forward(z, training=False)
        return sigmoid(a) if self.loss == "bce_with_logits" else a

    def reconstruct(self, x):
        """x_hat = decode(encode(x)), from the clean input."""
        return self.decode(self.encode(x))

    @property
    def dtype(self):
        return self.parameters()[0][1].dtype

    def corrupt(self, x, rng):
        """What the encoder sees during training and evaluation; the plain autoencoder sees x."""
        return x

    def penalty(self, z):
        """Terms on the code: (parts {name: weighted value}, d parts / dz or None, {encoder param name: direct grad})."""
        return {}, None, {}

    def _forward(self, x, target, rng, training):
        target = x if target is None else target
        z = self.encoder.forward(self.corrupt(x, rng), training)
        a = self.decoder.forward(z, training)
        rec, da = RECONSTRUCTION_LOSSES[self.loss](a, target, self.reduction)
        parts, dz_penalty, dparams = self.penalty(z)
        parts = {"reconstruction": rec, **parts}
        return sum(parts.values()), parts, da, dz_penalty, dparams

    def loss_and_grads(self, x, target=None, rng=None):
        """Forward (training=True) and backward; fills every grad; returns (loss, parts), loss == sum(parts)."""
        loss, parts, da, dz_penalty, dparams = self._forward(x, target, rng, training=True)
        dz = self.decoder.backward(da)
        if dz_penalty is not None:
            dz = dz + dz_penalty
        self.encoder.backward(dz, input_grad=False)
        grads = {name: g for name, _, g in self.encoder.parameters()}
        for name, g in dparams.items():
            grads[name] += g
        return loss, parts

    def evaluate(self, x, target=None, rng=None):
        """The same (loss, parts) as loss_and_grads, with training=False and no backward pass."""
        loss, parts, *_ = self._forward(x, target, rng, training=False)
        return loss, parts

    def settings(self):
        """Constructor keyword arguments besides encoder and decoder (JSON-able), for checkpoints."""
        return {"loss": self.loss, "reduction": self.reduction,
                "in_shape": None if self.in_shape is None else list(self.in_shape)}

    def to_checkpoint(self):
        """(arrays, spec): every parameter by name, and the architecture and settings that rebuild the model."""
        arrays = {name: p for name, p, _ in self.parameters()}
        spec = {"model": type(self).__name__, "dtype": np.dtype(self.dtype).name,
                "encoder": self.encoder.config(), "decoder": self.decoder.config(), "settings": self.settings()}
        return arrays, spec

    @classmethod
    def from_checkpoint(cls, arrays, spec):
        """Rebuild from ``to_checkpoint``'s output; CheckpointError if the arrays do not fit the spec's architecture."""
        dtype = np.dtype(spec["dtype"])
        if dtype not in (np.float32, np.float64):
            raise CheckpointError(f"{cls.__name__}: dtype must be float32 or float64, got {dtype}")
        encoder = Sequential.from_config(spec["encoder"], dtype=dtype)
        decoder = Sequential.from_config(spec["decoder"], dtype=dtype)
        model = cls(encoder, decoder, **spec["settings"])
        own = model.parameters()
        check_arrays_match({name: (p.shape, p.dtype) for name, p, _ in own}, arrays)
        for name, p, _ in own:
            p[...] = arrays[name]
        return model
