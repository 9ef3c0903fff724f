"""DenoisingAutoencoder (Vincent et al. 2008): encode a corrupted x~, reconstruct the clean x.

    x~ = corrupt(x)          gaussian (sigma), salt_and_pepper (fraction p) or masking (fraction nu)
    L  = reconstruction(g(f(x~)), x)        always against the clean input

Corruption draws from the rng passed to loss_and_grads / evaluate, so a seeded run is repeatable;
evaluate corrupts too, so a validation loss measures the same denoising objective.
``reconstruct(x)`` encodes the clean x, as at inference.
"""

from tinyae import noise
from tinyae.autoencoders.base import Autoencoder
from tinyae.models import register

CORRUPTIONS = {"gaussian": noise.gaussian, "salt_and_pepper": noise.salt_and_pepper, "masking": noise.masking}


@register
class DenoisingAutoencoder(Autoencoder):
    """corruption: "gaussian", "salt_and_pepper" or "masking"; level: its sigma, p or nu."""

    def __init__(self, encoder, decoder, loss="mse", reduction="mean", in_shape=None, corruption="masking",
                 level=0.3):
        super().__init__(encoder, decoder, loss, reduction, in_shape)
        if corruption not in CORRUPTIONS:
            raise ValueError(f"DenoisingAutoencoder: corruption must be one of {sorted(CORRUPTIONS)}, "
                             f"got {corruption!r}")
        self.corruption, self.level = corruption, float(level)

    def corrupt(self, x, rng):
        if rng is None:
            raise ValueError("DenoisingAutoencoder: loss_and_grads and evaluate need an rng for the corruption")
        return CORRUPTIONS[self.corruption](x, rng, self.level)

    def settings(self):
        return {**super().settings(), "corruption": self.corruption, "level": self.level}
