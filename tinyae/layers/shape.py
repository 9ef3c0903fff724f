"""Layers that only move numbers around: Flatten, Reshape, UpSample2D (nearest)."""

import numpy as np

from tinyae import kernels
from tinyae.layers.base import Layer


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...); backward reshapes dy back."""

    def forward(self, x, training=True):
        self.check_input(x, (None,) * (x.ndim - 1) if isinstance(x, np.ndarray) else ())
        self.in_shape = x.shape
        return x.reshape(x.shape[0], -1)  # (N, ...) -> (N, prod(...))

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, (self.in_shape[0], int(np.prod(self.in_shape[1:]))))
        return dy.reshape(self.in_shape)  # (N, prod(...)) -> (N, ...)

    def output_shape(self, in_shape):
        return (int(np.prod(in_shape)),)


class Reshape(Layer):
    """(N, prod(shape)) -> (N, *shape), e.g. a decoder's Dense output to (N, C, H, W)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x, training=True):
        self.check_input(x, (None,) * (x.ndim - 1) if isinstance(x, np.ndarray) else ())
        if int(np.prod(x.shape[1:])) != int(np.prod(self.shape)):
            self.check_input(x, (int(np.prod(self.shape)),))  # raises with the expected size
        self.in_shape = x.shape
        return x.reshape((x.shape[0],) + self.shape)  # (N, D) -> (N, *shape)

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, (self.in_shape[0],) + self.shape)
        return dy.reshape(self.in_shape)  # (N, *shape) -> (N, D)

    def output_shape(self, in_shape):
        return self.shape

    def config(self):
        return {"shape": list(self.shape)}


class UpSample2D(Layer):
    """Nearest-neighbour upsampling by an integer factor f: y[n, c, i, j] = x[n, c, i // f, j // f].

    Each input pixel feeds an f x f block of outputs, so its gradient is the sum of that block.
    """

    def __init__(self, factor=2):
        super().__init__()
        self.factor = int(factor)

    def forward(self, x, training=True):
        self.check_input(x, (None, None, None))
        self.in_shape = x.shape
        return kernels.upsample2d_forward(x, self.factor)

    def backward(self, dy, input_grad=True):
        n, c, h, w = self.in_shape
        f = self.factor
        self.check_grad(dy, (n, c, h * f, w * f))
        return kernels.upsample2d_backward(dy, f)

    def output_shape(self, in_shape):
        c, h, w = in_shape
        return (c, h * self.factor, w * self.factor)

    def config(self):
        return {"factor": self.factor}
