"""Save and load any trainable model, whatever its class, through one registry.

A model class joins by decorating itself with ``@register``; its ``to_checkpoint()`` returns
(arrays, spec) with spec["model"] equal to the class name, and ``from_checkpoint(arrays, spec)``
rebuilds it. ``save`` adds the tinyae version and, when given, the training settings; ``load`` reads
spec["model"] and hands the file's contents to that class. The file format is ``tinyae.checkpoint``'s:
numeric arrays plus a JSON spec, sha256 per array, written atomically, never pickled.

    from tinyae import models
    models.save(ae, "runs/ae.npz")          # refuses to replace an existing file unless force=True
    ae2 = models.load("runs/ae.npz")        # same class, same weights: bit-identical outputs

Kinds (``register_kind``) are the named model builders behind ``tinyae train --model NAME``.
"""

import importlib

from tinyae import __version__, checkpoint
from tinyae.errors import CheckpointError, ShapeError

REGISTRY = {}
KINDS = {}
# Modules that register model classes and kinds when imported; ``load`` and the CLI import them on demand.
PROVIDER_MODULES = ("tinyae.autoencoders", "tinyae.vae")


def register(cls):
    """Class decorator: make ``cls`` loadable under spec["model"] == cls.__name__."""
    REGISTRY[cls.__name__] = cls
    return cls


def register_kind(name, build, help=""):
    """Name a model builder ``build(in_shape, rng, options) -> model`` for ``tinyae train --model name``.

    in_shape is the per-example shape, e.g. (1, 28, 28); options is a dict of the CLI's model options
    (code, loss, beta, rho, lam, noise, noise_level, ...); a builder reads what it needs.
    """
    KINDS[name] = (build, help)


def import_providers():
    """Import every provider module that exists, so its classes and kinds are registered."""
    for module in PROVIDER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:  # the provider exists but something it imports is missing
                raise


def save(model, path, force=False, training=None):
    """Write ``model`` to ``path`` (an .npz checkpoint); ``training`` (a JSON-able dict) goes in spec["training"].

    Raises FileExistsError if ``path`` exists and ``force`` is false, and ValueError for a model
    whose class is not registered (``load`` could not read it back).
    """
    arrays, spec = model.to_checkpoint()
    name = spec.get("model")
    if REGISTRY.get(name) is not type(model):
        raise ValueError(f"models.save: {type(model).__name__} is not registered under spec['model'] = {name!r}; "
                         f"decorate the class with @tinyae.models.register (registered: {sorted(REGISTRY)})")
    spec = {**spec, "tinyae_version": __version__}
    if training is not None:
        spec["training"] = training
    checkpoint.save(path, arrays, spec, force=force)


def load(path):
    """Read a checkpoint written by ``save`` and rebuild its model.

    Raises CheckpointError for a missing, truncated or tampered file (from ``tinyae.checkpoint``), an
    unknown spec["model"], or arrays and spec that do not fit the architecture the spec describes.
    """
    arrays, spec = checkpoint.load(path)
    cls = model_class(spec.get("model"), path)
    try:
        return cls.from_checkpoint(arrays, spec)
    except CheckpointError as err:
        raise CheckpointError(f"checkpoint {path}: {err}") from err
    except (KeyError, TypeError, ValueError, ShapeError) as err:
        raise CheckpointError(f"checkpoint {path}: its spec does not describe a valid {spec.get('model')}: "
                              f"{type(err).__name__}: {err}") from err


def model_class(name, path="checkpoint"):
    """The registered class called ``name``, importing the provider modules if needed."""
    if name not in REGISTRY:
        import_providers()
    if name not in REGISTRY:
        raise CheckpointError(f"{path}: spec['model'] is {name!r}, expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]
