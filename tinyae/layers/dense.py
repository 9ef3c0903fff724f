"""Fully connected layer: y = act(z), z = x W + b, act the identity or (activation="relu") max(z, 0).

Shapes: x (N, n_in), W (n_in, n_out), b (n_out,), y (N, n_out).
Backward, for upstream gradient dy = dL/dy of shape (N, n_out):
    dL/dz = dy * [y > 0]    with the ReLU (y > 0 exactly where z > 0), else dy
    dL/dW = x^T dL/dz       (n_in, n_out)
    dL/db = sum_n dL/dz[n]  (n_out,)
    dL/dx = dL/dz W^T       (N, n_in)
Where the products run:
  * at most kernels.THIN_INPUTS inputs (a decoder's first layer, reading a small latent):
    tinyae.kernels.dense, all of the above in one pass over y each way;
  * n_out a multiple of kernels.TILE_OUTPUTS (32), on more than one thread
    (kernels.dense_tiles_pay): tinyae.kernels.dense_tiles, register tiles over Numba's threads
    (the conv VAE's Dense(12544 -> 32): 4.2 -> 2.5 ms a training step, forward and backward);
  * otherwise NumPy's BLAS, on one thread (tinyae/blas.py).
"""

import numpy as np

from tinyae import blas, kernels
from tinyae.init import init_weights
from tinyae.layers.base import Layer, check_activation, zeros_like_params


class Dense(Layer):
    def __init__(self, n_in, n_out, init="he", rng=None, dtype=np.float32, activation=None):
        super().__init__()
        self.n_in, self.n_out, self.init = int(n_in), int(n_out), init
        self.activation = check_activation(activation, "Dense")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {
            "W": init_weights(init, (self.n_in, self.n_out), self.n_in, self.n_out, rng, dtype),
            "b": np.zeros(self.n_out, dtype=dtype),
        }
        self.grads = zeros_like_params(self.params)

    def forward(self, x, training=True):
        self.check_input(x, (self.n_in,))
        self.x = x
        relu = self.activation == "relu"
        if self.n_in <= kernels.THIN_INPUTS:
            y = kernels.dense_thin_forward(x, self.params["W"], self.params["b"], relu)
        elif self._tiled():
            y = kernels.dense_tiled_forward(x, self.params["W"], self.params["b"], relu)
        else:
            with blas.one_thread():
                y = x @ self.params["W"] + self.params["b"]
            y = kernels.relu_forward(y) if relu else y
        self.y = y if relu else None  # the ReLU's mask, y > 0, for backward
        return y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, (self.x.shape[0], self.n_out))
        if self.n_in <= kernels.THIN_INPUTS:
            dx, self.grads["W"][...], self.grads["b"][...] = kernels.dense_thin_backward(
                dy, self.x, self.params["W"], self.y, input_grad)
            return dx
        if self._tiled():
            dx, self.grads["W"][...], self.grads["b"][...] = kernels.dense_tiled_backward(
                dy, self.x, self.params["W"], self.y, input_grad)
            return dx
        dz = dy if self.y is None else kernels.relu_backward(dy, self.y)
        with blas.one_thread():
            self.grads["W"][...] = self.x.T @ dz
            self.grads["b"][...] = dz.sum(axis=0)
            return dz @ self.params["W"].T if input_grad else None

    def _tiled(self):
        return kernels.dense_tiles_pay(self.n_in, self.n_out)

    def output_shape(self, in_shape):
        return (self.n_out,)

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init, "activation": self.activation}
