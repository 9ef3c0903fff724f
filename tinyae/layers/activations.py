"""Element-wise activations, each with its derivative written under it.

All work on any shape and keep the input dtype.
"""

import numpy as np

from tinyae import kernels
from tinyae.layers.base import Layer


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x), computed without overflow.

    For x >= 0, e^-x <= 1 is safe; for x < 0 we use the equal form e^x / (1 + e^x), so exp
    only ever sees -|x| and never overflows.
    """
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)


def softplus(x):
    """softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for large |x|.

    The naive form overflows for x > ~88 in float32; the rewritten form never exponentiates a
    positive number. Its derivative is sigmoid(x).
    """
    return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


def log_softmax(a, axis):
    """log softmax(a)_k = a_k - logsumexp(a) = (a_k - m) - log sum_j e^(a_j - m),  m = max_j a_j.

    Subtracting the max makes the largest exponent e^0 = 1: nothing overflows and the sum is >= 1,
    so its log is finite even for logits of +-1e4 (the naive e^a is inf past a ~ 88 in float32).
    """
    shifted = a - np.max(a, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(a, axis):
    """softmax(a)_k = e^(a_k - m) / sum_j e^(a_j - m),  m = max_j a_j: equal to e^a / sum e^a, never inf / inf."""
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


class _Elementwise(Layer):
    """Shared plumbing: accept any float array, check dy against the cached output shape."""

    def check_any(self, x):
        self.check_input(x, (None,) * (x.ndim - 1) if isinstance(x, np.ndarray) and x.ndim >= 1 else ())


class Identity(_Elementwise):
    """y = x;  dL/dx = dy."""

    def forward(self, x, training=True):
        self.check_any(x)
        self.shape = x.shape
        return x

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.shape)
        return dy


class ReLU(_Elementwise):
    """y = max(x, 0);  dL/dx = dy * [x > 0]."""

    def forward(self, x, training=True):
        self.check_any(x)
        self.y = kernels.relu_forward(x)
        return self.y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.y.shape)
        return kernels.relu_backward(dy, self.y)  # y > 0 exactly where x > 0


class LeakyReLU(_Elementwise):
    """y = x if x > 0 else alpha x;  dL/dx = dy * (1 if x > 0 else alpha)."""

    def __init__(self, alpha=0.2):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x, training=True):
        self.check_any(x)
        self.slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.slope.shape)
        return dy * self.slope

    def config(self):
        return {"alpha": self.alpha}


class Sigmoid(_Elementwise):
    """y = sigma(x);  dL/dx = dy * y (1 - y)."""

    def forward(self, x, training=True):
        self.check_any(x)
        self.y = sigmoid(x)
        return self.y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.y.shape)
        return dy * self.y * (1 - self.y)


class Tanh(_Elementwise):
    """y = tanh(x);  dL/dx = dy * (1 - y^2)."""

    def forward(self, x, training=True):
        self.check_any(x)
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.y.shape)
        return dy * (1 - self.y * self.y)


class Softplus(_Elementwise):
    """y = log(1 + e^x);  dL/dx = dy * sigma(x)."""

    def forward(self, x, training=True):
        self.check_any(x)
        self.x = x
        return softplus(x)

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.x.shape)
        return dy * sigmoid(self.x)
