"""The autoencoder family: plain, sparse, contractive and denoising, on any encoder/decoder pair.

    from tinyae.autoencoders import Autoencoder, dense_pair
    encoder, decoder = dense_pair((1, 28, 28), code=32, rng=np.random.default_rng(0))
    ae = Autoencoder(encoder, decoder, loss="bce_with_logits")
    loss, parts = ae.loss_and_grads(x, rng=rng)     # then optimizer.step(ae.parameters()), or tinyae.train.fit

Importing this package registers the classes (for ``tinyae.models.load``) and the kinds that
``tinyae train --model`` builds.
"""

from tinyae.autoencoders.architectures import conv_pair, dense_pair, linear_pair
from tinyae.autoencoders.base import Autoencoder
from tinyae.autoencoders.contractive import ContractiveAutoencoder
from tinyae.autoencoders.denoising import DenoisingAutoencoder
from tinyae.autoencoders.sparse import SparseAutoencoder
from tinyae.autoencoders.kinds import register_kinds

register_kinds()

__all__ = ["Autoencoder", "SparseAutoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder",
           "dense_pair", "conv_pair", "linear_pair"]
