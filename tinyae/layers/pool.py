"""Max pooling over non-overlapping size x size windows.

    y[n, c, i, j] = max_{u, v < size} x[n, c, size*i + u, size*j + v]
Only the winning input of each window receives gradient:
    dx[n, c, argmax window position] += dy[n, c, i, j]

padding='same' (as in Keras, the tutorial's 7x7 -> 4x4) pads the bottom and right edges just
enough that every input pixel lies in a window: Ho = ceil(H / size). Padded cells never win.
padding='valid' drops the leftover rows/columns: Ho = floor(H / size).
"""

from tinyae import kernels
from tinyae.layers.base import Layer


class MaxPool2D(Layer):
    def __init__(self, size=2, padding="valid"):
        super().__init__()
        if padding not in ("valid", "same"):
            raise ValueError(f"MaxPool2D: padding must be 'valid' or 'same', got {padding!r}")
        self.size, self.padding = int(size), padding

    def _pads(self, h, w):
        """Bottom and right padding that make H and W multiples of size ('same') or 0 ('valid')."""
        if self.padding == "valid":
            return 0, 0
        return -h % self.size, -w % self.size

    def forward(self, x, training=True):
        self.check_input(x, (None, None, None))
        self.x_shape = x.shape
        y, self.argmax = kernels.maxpool2d_forward(x, self.size, self._pads(*x.shape[2:]))
        self.y_shape = y.shape
        return y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.y_shape)
        return kernels.maxpool2d_backward(dy, self.argmax, self.x_shape)

    def output_shape(self, in_shape):
        c, h, w = in_shape
        ph, pw = self._pads(h, w)
        return (c, (h + ph) // self.size, (w + pw) // self.size)

    def config(self):
        return {"size": self.size, "padding": self.padding}
