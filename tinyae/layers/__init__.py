"""Layers: each a forward, a hand-written backward, and the gradient formulas in its docstring."""

from tinyae.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, sigmoid, softplus
from tinyae.layers.base import Layer
from tinyae.layers.conv import Conv2D, ConvTranspose2D
from tinyae.layers.dense import Dense
from tinyae.layers.pool import MaxPool2D
from tinyae.layers.shape import Flatten, Reshape, UpSample2D

LAYER_TYPES = {cls.__name__: cls for cls in (
    Dense, Conv2D, ConvTranspose2D, MaxPool2D, UpSample2D, Flatten, Reshape,
    Identity, ReLU, LeakyReLU, Sigmoid, Tanh, Softplus,
)}


def layer_from_config(cfg, rng=None, dtype=None):
    """Rebuild a layer from {"type": name, **config}; weights are loaded separately."""
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    if kind not in LAYER_TYPES:
        raise ValueError(f"layer_from_config: unknown layer type {kind!r}; known: {sorted(LAYER_TYPES)}")
    cls = LAYER_TYPES[kind]
    if "init" in cfg:  # layers with parameters take an rng and a dtype
        if rng is not None:
            cfg["rng"] = rng
        if dtype is not None:
            cfg["dtype"] = dtype
    return cls(**cfg)


__all__ = ["Layer", "layer_from_config", "LAYER_TYPES", "sigmoid", "softplus"] + list(LAYER_TYPES)
