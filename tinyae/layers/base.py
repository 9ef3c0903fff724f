"""The Layer interface every layer follows, and the input checks they share.

A layer is a differentiable function y = f(x; params). ``forward`` computes y and caches what the
backward pass needs; ``backward(dy)`` receives dL/dy and returns dL/dx, and writes dL/dparam into
``grads`` under the same keys and shapes as ``params``. Backward never changes a parameter: the
optimizer does that, through ``Sequential.parameters()``.

``backward(dy, input_grad=False)`` says nobody needs dL/dx (x is the network's input): Dense,
Conv2D and ConvTranspose2D then skip that product, as costly as the forward, and return None;
the other layers return dL/dx anyway.
"""

import numpy as np

from tinyae.errors import ShapeError

FLOAT_DTYPES = (np.float32, np.float64)


class Layer:
    """Base class: no parameters, identity shape, JSON-able config."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.name = type(self).__name__

    def forward(self, x, training=True):
        raise NotImplementedError

    def backward(self, dy, input_grad=True):
        raise NotImplementedError

    def __call__(self, x, training=True):
        return self.forward(x, training)

    def output_shape(self, in_shape):
        """Per-sample output shape (no batch axis) for a per-sample input shape."""
        return tuple(in_shape)

    def config(self):
        """Keyword arguments that rebuild this layer (weights are stored separately)."""
        return {}

    @property
    def dtype(self):
        """The parameters' dtype, or None for a layer without parameters."""
        for p in self.params.values():
            return p.dtype
        return None

    def check_input(self, x, expected):
        """Raise ShapeError unless x is a float array of the expected per-sample shape.

        ``expected`` is a tuple of per-sample sizes; None in it means "any size".
        """
        if not isinstance(x, np.ndarray):
            raise ShapeError(f"{self.name}: expected a numpy array, got {type(x).__name__}")
        want = "(N, " + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        if x.ndim != len(expected) + 1 or any(e is not None and e != s for e, s in zip(expected, x.shape[1:])):
            raise ShapeError(f"{self.name}: expected input of shape {want}, got {x.shape}")
        if x.dtype not in FLOAT_DTYPES:
            raise ShapeError(f"{self.name}: expected float32 or float64 input, got {x.dtype}")
        if self.dtype is not None and x.dtype != self.dtype:
            raise ShapeError(
                f"{self.name}: expected {self.dtype} input to match its parameters, got {x.dtype}"
                " (convert with x.astype(...) or build the layer with dtype=...)"
            )

    def check_grad(self, dy, y_shape):
        """Raise ShapeError unless the upstream gradient has the forward output's shape."""
        if not isinstance(dy, np.ndarray) or dy.shape != tuple(y_shape):
            got = dy.shape if isinstance(dy, np.ndarray) else type(dy).__name__
            raise ShapeError(f"{self.name}.backward: expected dy of shape {tuple(y_shape)}, got {got}")


def check_activation(activation, layer):
    """The ``activation`` argument of Dense, Conv2D and ConvTranspose2D: None, or "relu" for
    y = max(z, 0) applied as the layer writes its output z (Keras's argument). The ReLU layer does
    the same in a pass of its own over y, and its backward in another."""
    if activation not in (None, "relu"):
        raise ValueError(f"{layer}: activation must be None or 'relu', got {activation!r}")
    return activation


def zeros_like_params(params):
    """Gradient buffers: same keys, shapes and dtypes as the parameters, filled with zeros."""
    return {k: np.zeros_like(v) for k, v in params.items()}
