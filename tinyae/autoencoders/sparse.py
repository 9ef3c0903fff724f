"""SparseAutoencoder: a reconstruction loss plus a penalty that keeps most code units near zero.

    L = reconstruction + beta * Omega(h)
    Omega = sum_j KL(rho || rho_hat_j),  rho_hat_j = mean_n h[n, j]   ("kl": the code must lie in (0, 1))
    Omega = (1/N) sum_n sum_j |h[n, j]|                                 ("l1": any code)
with dOmega/dh from ``tinyae.penalties`` added to the code's upstream gradient.
"""

from tinyae.autoencoders.base import Autoencoder
from tinyae.layers import Sigmoid
from tinyae.models import register
from tinyae.penalties import kl_sparsity, l1_activity


@register
class SparseAutoencoder(Autoencoder):
    """sparsity: "kl" (target mean activation rho, needs the encoder to end in Sigmoid) or "l1".
    beta: the penalty's weight. Other arguments as for Autoencoder.
    """

    def __init__(self, encoder, decoder, loss="mse", reduction="mean", in_shape=None, sparsity="kl", rho=0.05,
                 beta=1.0):
        super().__init__(encoder, decoder, loss, reduction, in_shape)
        if sparsity not in ("kl", "l1"):
            raise ValueError(f"SparseAutoencoder: sparsity must be 'kl' or 'l1', got {sparsity!r}")
        if sparsity == "kl" and not isinstance(encoder.layers[-1], Sigmoid):
            raise ValueError(f"SparseAutoencoder: KL sparsity needs a code in (0, 1), so the encoder must end in "
                             f"Sigmoid; it ends in {type(encoder.layers[-1]).__name__}")
        if sparsity == "kl" and not 0.0 < rho < 1.0:
            raise ValueError(f"SparseAutoencoder: rho must be in (0, 1), got {rho}")
        if beta < 0:
            raise ValueError(f"SparseAutoencoder: beta must be >= 0, got {beta}")
        self.sparsity, self.rho, self.beta = sparsity, float(rho), float(beta)

    def penalty(self, z):
        value, dz = kl_sparsity(z, self.rho) if self.sparsity == "kl" else l1_activity(z)
        return {"sparsity": self.beta * value}, self.beta * dz, {}

    def settings(self):
        return {**super().settings(), "sparsity": self.sparsity, "rho": self.rho, "beta": self.beta}
