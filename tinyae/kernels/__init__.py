"""The loops that NumPy cannot run fast, as Numba kernels, each beside a naive NumPy twin that the
tests hold it to, forward and backward.

    conv       convolution and transposed convolution (register tiles over flat shifted planes):
               the maths and the strategy; conv_layout the copies the tiles read, conv_tiles the
               tiles, conv_naive the NumPy twins
    pool       max pooling
    upsample   nearest-neighbour upsampling
    relu       ReLU in one pass each way
    dense      a Dense layer with few inputs (and its ReLU) in one pass each way
    dense_tiles  a Dense layer's products on register tiles, for n_out a multiple of 32
    adam       Adam's update of a parameter and its moments in one pass
    _numba     what they share: 512-bit vectors, thread control, argument checks, stack arrays
"""

from tinyae.kernels.adam import adam_update, adam_update_naive
from tinyae.kernels.conv import conv2d_backward, conv2d_forward, conv_transpose2d_backward, conv_transpose2d_forward
from tinyae.kernels.conv_naive import (conv2d_backward_naive, conv2d_forward_naive, conv_transpose2d_backward_naive,
                                       conv_transpose2d_forward_naive)
from tinyae.kernels.dense import (THIN_INPUTS, dense_backward_naive, dense_forward_naive, dense_thin_backward,
                                  dense_thin_forward)
from tinyae.kernels.dense_tiles import TILE_OUTPUTS, dense_tiled_backward, dense_tiled_forward
from tinyae.kernels.dense_tiles import tiles_pay as dense_tiles_pay
from tinyae.kernels.pool import (maxpool2d_backward, maxpool2d_backward_naive, maxpool2d_forward,
                                 maxpool2d_forward_naive)
from tinyae.kernels.relu import relu_backward, relu_backward_naive, relu_forward, relu_forward_naive
from tinyae.kernels.upsample import (upsample2d_backward, upsample2d_backward_naive, upsample2d_forward,
                                     upsample2d_forward_naive)

__all__ = ["conv2d_forward", "conv2d_backward", "conv_transpose2d_forward", "conv_transpose2d_backward",
           "maxpool2d_forward", "maxpool2d_backward", "upsample2d_forward", "upsample2d_backward",
           "relu_forward", "relu_backward", "adam_update", "dense_thin_forward", "dense_thin_backward", "THIN_INPUTS",
           "dense_tiled_forward", "dense_tiled_backward", "dense_tiles_pay", "TILE_OUTPUTS",
           "conv2d_forward_naive", "conv2d_backward_naive", "conv_transpose2d_forward_naive",
           "conv_transpose2d_backward_naive", "maxpool2d_forward_naive", "maxpool2d_backward_naive",
           "upsample2d_forward_naive", "upsample2d_backward_naive", "relu_forward_naive", "relu_backward_naive",
           "adam_update_naive", "dense_forward_naive", "dense_backward_naive"]
