"""Fully connected layer: y = x W + b.

Shapes: x (N, n_in), W (n_in, n_out), b (n_out,), y (N, n_out).
Backward, for upstream gradient dy = dL/dy of shape (N, n_out):
    dL/dW = x^T dy          (n_in, n_out)
    dL/db = sum_n dy[n]     (n_out,)
    dL/dx = dy W^T          (N, n_in)
"""

import numpy as np

from tinyae import blas
from tinyae.init import init_weights
from tinyae.layers.base import Layer, zeros_like_params


class Dense(Layer):
    def __init__(self, n_in, n_out, init="he", rng=None, dtype=np.float32):
        super().__init__()
        self.n_in, self.n_out, self.init = int(n_in), int(n_out), init
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {
            "W": init_weights(init, (self.n_in, self.n_out), self.n_in, self.n_out, rng, dtype),
            "b": np.zeros(self.n_out, dtype=dtype),
        }
        self.grads = zeros_like_params(self.params)

    def forward(self, x, training=True):
        self.check_input(x, (self.n_in,))
        self.x = x
        with blas.one_thread():
            return x @ self.params["W"] + self.params["b"]

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, (self.x.shape[0], self.n_out))
        with blas.one_thread():
            self.grads["W"][...] = self.x.T @ dy
            self.grads["b"][...] = dy.sum(axis=0)
            return dy @ self.params["W"].T if input_grad else None

    def output_shape(self, in_shape):
        return (self.n_out,)

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init}
