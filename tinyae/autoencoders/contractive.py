"""ContractiveAutoencoder: a reconstruction loss plus lam * ||J_f(x)||_F^2, the squared Frobenius norm
of the encoder's Jacobian, which makes the code insensitive to small moves of the input.

The encoder is one sigmoid layer, h = sigma(x W + b) (optionally after a Flatten, which only
renumbers the input), so the penalty and its gradient have the closed form of
``tinyae.penalties.contractive``:
    ||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W[i, j]^2
Its gradient reaches W twice: through h (added to the code's upstream gradient, so the Sigmoid and
Dense backward passes carry it to W, b and x) and directly (added to W's grad after backward).
"""

from tinyae.autoencoders.base import Autoencoder
from tinyae.layers import Dense, Flatten, Sigmoid
from tinyae.models import register
from tinyae.penalties import contractive


@register
class ContractiveAutoencoder(Autoencoder):
    """lam: the penalty's weight. The encoder must be [Flatten,] Dense, Sigmoid."""

    def __init__(self, encoder, decoder, loss="mse", reduction="mean", in_shape=None, lam=0.1):
        super().__init__(encoder, decoder, loss, reduction, in_shape)
        kinds = [type(layer) for layer in encoder.layers]
        if kinds not in ([Dense, Sigmoid], [Flatten, Dense, Sigmoid]):
            raise ValueError("ContractiveAutoencoder: the closed-form penalty needs the encoder [Flatten,] Dense, "
                             f"Sigmoid; got {[k.__name__ for k in kinds]}")
        if encoder.layers[-2].activation is not None:
            raise ValueError("ContractiveAutoencoder: the encoder's Dense must have no activation of its own (the "
                             f"Sigmoid after it makes the code); got activation={encoder.layers[-2].activation!r}")
        if lam < 0:
            raise ValueError(f"ContractiveAutoencoder: lam must be >= 0, got {lam}")
        self.lam = float(lam)
        self.dense_index = len(kinds) - 2

    def penalty(self, z):
        W = self.encoder.layers[self.dense_index].params["W"]
        value, dz, dW_direct = contractive(z, W)
        return {"contractive": self.lam * value}, self.lam * dz, {f"{self.dense_index}.W": self.lam * dW_direct}

    def settings(self):
        return {**super().settings(), "lam": self.lam}
