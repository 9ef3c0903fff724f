"""Sequential: a chain of layers, its backward pass the chain rule run in reverse.

    forward:  h_0 = x,  h_{i+1} = layer_i(h_i)
    backward: g_L = dL/dh_L,  g_i = layer_i.backward(g_{i+1})  (each layer fills its own grads)
"""

import numpy as np

from tinyae.errors import ShapeError
from tinyae.layers import layer_from_config


class Sequential:
    def __init__(self, layers, name="Sequential"):
        self.layers = list(layers)
        self.name = name
        for i, layer in enumerate(self.layers):
            layer.name = f"{name}[{i}] {type(layer).__name__}"

    def forward(self, x, training=True):
        """Run every layer in order. Rejects non-finite input here, once, rather than in every layer."""
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and not np.isfinite(x).all():
            bad = int(np.size(x) - np.isfinite(x).sum())
            raise ShapeError(f"{self.name}: expected finite input, got {bad} NaN/inf values in shape {x.shape}")
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    __call__ = forward

    def backward(self, dy, input_grad=True):
        """Chain rule from the last layer to the first; returns dL/dx.

        input_grad=False: the caller has no use for dL/dx (x is data), so the first layer may skip
        computing it and return None; every layer still fills its grads.
        """
        for layer in reversed(self.layers[1:]):
            dy = layer.backward(dy)
        return self.layers[0].backward(dy, input_grad=input_grad)

    def parameters(self):
        """Every (name, param, grad) triple, named "<layer index>.<key>", e.g. "0.W"."""
        return [(f"{i}.{k}", layer.params[k], layer.grads[k])
                for i, layer in enumerate(self.layers) for k in layer.params]

    def zero_grads(self):
        for _, _, g in self.parameters():
            g[...] = 0

    def state_dict(self):
        """Copies of every parameter, by name."""
        return {name: p.copy() for name, p, _ in self.parameters()}

    def load_state_dict(self, state):
        """Copy arrays into the parameters; names, shapes and dtypes must match exactly."""
        own = {name: p for name, p, _ in self.parameters()}
        missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or extra:
            raise ShapeError(f"{self.name}.load_state_dict: missing {missing}, unexpected {extra}")
        for name, p in own.items():
            if state[name].shape != p.shape:
                raise ShapeError(f"{self.name}.load_state_dict: {name} expected shape {p.shape}, "
                                 f"got {state[name].shape}")
            p[...] = state[name]

    def output_shape(self, in_shape):
        for layer in self.layers:
            in_shape = layer.output_shape(in_shape)
        return in_shape

    def n_params(self):
        return sum(p.size for _, p, _ in self.parameters())

    def summary(self, in_shape):
        """A table like Keras' model.summary(): layer, per-sample output shape, parameter count."""
        rows = [("Layer", "Output shape", "Params"), ("Input", str(tuple(in_shape)), "0")]
        shape = tuple(in_shape)
        for i, layer in enumerate(self.layers):
            shape = layer.output_shape(shape)
            n = sum(p.size for p in layer.params.values())
            activation = getattr(layer, "activation", None)  # Dense, Conv2D, ConvTranspose2D
            label = f"{i} {type(layer).__name__}" + (f" + {activation}" if activation else "")
            rows.append((label, str(tuple(shape)), f"{n:,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        line = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
        rule = "-" * len(line(rows[0]))
        body = [line(rows[0]), rule] + [line(r) for r in rows[1:]] + [rule, f"Total params: {self.n_params():,}"]
        return "\n".join(body)

    def config(self):
        """JSON-able architecture: layer types and their constructor arguments."""
        return {"name": self.name, "layers": [{"type": type(l).__name__, **l.config()} for l in self.layers]}

    @classmethod
    def from_config(cls, cfg, rng=None, dtype=None):
        return cls([layer_from_config(c, rng=rng, dtype=dtype) for c in cfg["layers"]], name=cfg.get("name", "Sequential"))


class EncoderDecoder:
    """What every model made of an ``encoder`` and a ``decoder`` Sequential shares: its parameter list."""

    def parameters(self):
        """Every (name, param, grad): "encoder.<i>.<key>" then "decoder.<i>.<key>"."""
        return ([(f"encoder.{n}", p, g) for n, p, g in self.encoder.parameters()]
                + [(f"decoder.{n}", p, g) for n, p, g in self.decoder.parameters()])

    def zero_grads(self):
        self.encoder.zero_grads()
        self.decoder.zero_grads()
