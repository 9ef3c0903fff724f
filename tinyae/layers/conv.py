"""2-D convolution and transposed convolution layers (NCHW, PyTorch weight layouts).

Conv2D, W (F, C, kh, kw), b (F,), stride s, symmetric zero padding p:
    y[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * xpad[n, c, s*i + u, s*j + v]
    Ho = floor((H + 2p - kh) / s) + 1
Its backward is three correlations, computed by ``tinyae.kernels``:
    dW[f, c, u, v] = sum_{n, i, j} dy[n, f, i, j] * xpad[n, c, s*i + u, s*j + v]
    db[f]          = sum_{n, i, j} dy[n, f, i, j]
    dxpad[n, c, s*i + u, s*j + v] += dy[n, f, i, j] * W[f, c, u, v]

ConvTranspose2D, W (C_in, C_out, kh, kw), is the adjoint of Conv2D's map x -> y: its forward is
Conv2D's dx formula and its backward is Conv2D's forward. Output size
    Ho = (H - 1) * s - 2p + kh + output_padding

Both take activation="relu" (Keras's argument): the kernel writes max(y, 0) in place of y, which
spares the ReLU layer's pass over y, and backward first turns dy into dy * [y > 0], the gradient
with respect to the conv's own output (y > 0 exactly where it was > 0), in the same pass that sums
the bias gradient.
"""

import numpy as np

from tinyae import kernels
from tinyae.init import init_weights
from tinyae.layers.base import Layer, check_activation, zeros_like_params


def resolve_padding(padding, kernel_size, layer):
    """'same' -> k // 2 (odd k only, so the padding is symmetric), 'valid' -> 0, int -> itself."""
    if padding == "same":
        if kernel_size % 2 == 0:
            raise ValueError(f"{layer}: padding='same' needs an odd kernel_size, got {kernel_size}")
        return kernel_size // 2
    if padding == "valid":
        return 0
    if isinstance(padding, (int, np.integer)) and padding >= 0:
        return int(padding)
    raise ValueError(f"{layer}: padding must be 'same', 'valid' or an int >= 0, got {padding!r}")


class Conv2D(Layer):
    def __init__(self, c_in, c_out, kernel_size=3, stride=1, padding="same", init="he", rng=None,
                 dtype=np.float32, activation=None):
        super().__init__()
        self.activation = check_activation(activation, "Conv2D")
        self.c_in, self.c_out, self.k, self.stride = int(c_in), int(c_out), int(kernel_size), int(stride)
        self.padding = padding
        self.pad = resolve_padding(padding, self.k, "Conv2D")
        self.init = init
        rng = rng if rng is not None else np.random.default_rng(0)
        fan_in, fan_out = self.c_in * self.k * self.k, self.c_out * self.k * self.k
        self.params = {
            "W": init_weights(init, (self.c_out, self.c_in, self.k, self.k), fan_in, fan_out, rng, dtype),
            "b": np.zeros(self.c_out, dtype=dtype),
        }
        self.grads = zeros_like_params(self.params)

    def forward(self, x, training=True):
        self.check_input(x, (self.c_in, None, None))
        if x.shape[2] + 2 * self.pad < self.k or x.shape[3] + 2 * self.pad < self.k:
            raise ValueError(f"{self.name}: input {x.shape[2:]} is smaller than the {self.k}x{self.k} kernel")
        self.x = x
        relu = self.activation == "relu"
        y = kernels.conv2d_forward(x, self.params["W"], self.params["b"], self.stride, self.pad, relu)
        self.y_shape, self.y = y.shape, (y if relu else None)  # y > 0 is the ReLU's mask in backward
        return y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.y_shape)
        dx, dw, db = kernels.conv2d_backward(dy, self.x, self.params["W"], self.stride, self.pad, input_grad,
                                             y=self.y)
        self.grads["W"][...] = dw
        self.grads["b"][...] = db
        return dx

    def output_shape(self, in_shape):
        _, h, w = in_shape
        size = lambda n: (n + 2 * self.pad - self.k) // self.stride + 1
        return (self.c_out, size(h), size(w))

    def config(self):
        return {"c_in": self.c_in, "c_out": self.c_out, "kernel_size": self.k, "stride": self.stride,
                "padding": self.padding, "init": self.init, "activation": self.activation}


class ConvTranspose2D(Layer):
    def __init__(self, c_in, c_out, kernel_size=3, stride=1, padding=0, output_padding=0, init="he",
                 rng=None, dtype=np.float32, activation=None):
        super().__init__()
        self.activation = check_activation(activation, "ConvTranspose2D")
        self.c_in, self.c_out, self.k, self.stride = int(c_in), int(c_out), int(kernel_size), int(stride)
        self.padding = padding
        self.pad = resolve_padding(padding, self.k, "ConvTranspose2D")
        self.output_padding = int(output_padding)
        if not 0 <= self.output_padding < self.stride:
            raise ValueError(f"ConvTranspose2D: output_padding must be in [0, stride={self.stride}), "
                             f"got {self.output_padding}")
        self.init = init
        rng = rng if rng is not None else np.random.default_rng(0)
        # Each output pixel receives about c_in * k * k / s^2 contributions; He uses that fan-in.
        fan_in = max(1, self.c_in * self.k * self.k // (self.stride * self.stride))
        fan_out = self.c_out * self.k * self.k
        self.params = {
            "W": init_weights(init, (self.c_in, self.c_out, self.k, self.k), fan_in, fan_out, rng, dtype),
            "b": np.zeros(self.c_out, dtype=dtype),
        }
        self.grads = zeros_like_params(self.params)

    def forward(self, x, training=True):
        self.check_input(x, (self.c_in, None, None))
        self.x = x
        relu = self.activation == "relu"
        y = kernels.conv_transpose2d_forward(x, self.params["W"], self.params["b"], self.stride, self.pad,
                                             self.output_padding, relu)
        self.y_shape, self.y = y.shape, (y if relu else None)  # y > 0 is the ReLU's mask in backward
        return y

    def backward(self, dy, input_grad=True):
        self.check_grad(dy, self.y_shape)
        dx, dw, db = kernels.conv_transpose2d_backward(dy, self.x, self.params["W"], self.stride, self.pad,
                                                       self.output_padding, input_grad, self.y)
        self.grads["W"][...] = dw
        self.grads["b"][...] = db
        return dx

    def output_shape(self, in_shape):
        _, h, w = in_shape
        size = lambda n: (n - 1) * self.stride - 2 * self.pad + self.k + self.output_padding
        return (self.c_out, size(h), size(w))

    def config(self):
        return {"c_in": self.c_in, "c_out": self.c_out, "kernel_size": self.k, "stride": self.stride,
                "padding": self.padding, "output_padding": self.output_padding, "init": self.init,
                "activation": self.activation}
