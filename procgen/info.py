"""``procgen info MODEL``: what a sprite model is, read from its checkpoint without building it.

``describe(model)`` reads the spec (``tinyae.checkpoint.load``) and the procgen metadata that
``procgen train`` records in ``spec["training"]["procgen"]``; ``format_info`` lays it out for a person.
A checkpoint written before a field existed has None there ("(not recorded)" in the text), and a
field of an unexpected type is shown as it is, so an old or foreign checkpoint never stops the report.
"""

import json

from procgen.classes import aliases

NOT_RECORDED = "(not recorded)"
_LABEL = 18  # width of the label column


def describe(model):
    """The facts of a shipped model ("plants", "plants64", "clothing") or a checkpoint path, as a JSON-able dict.

    Keys: model, path, kind, architecture, sprite_size [C, H, W], latent_dim, likelihood, classes
    ([{"name", "aliases"}]), style, palettes, licence, credit, thresholds, alpha_threshold, dataset,
    n_training_images, settings; each None when the checkpoint does not record it.
    """
    from tinyae import checkpoint

    from procgen.sampler import _model_path

    path = _model_path(model)
    spec = checkpoint.load(path)[1]
    training = spec.get("training")
    meta = training.get("procgen") if isinstance(training, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    names = meta.get("class_names")
    return {
        "model": str(model), "path": str(path), "kind": meta.get("kind"), "architecture": spec.get("model"),
        "sprite_size": spec.get("image_shape"), "latent_dim": spec.get("latent_dim"),
        "likelihood": spec.get("likelihood"), "classes": _classes(names),
        **{key: meta.get(key) for key in ("style", "palettes", "licence", "credit", "thresholds", "alpha_threshold",
                                          "dataset", "n_training_images", "settings")},
    }


def _classes(names):
    """[{"name", "aliases"}] of a list of class names (``procgen.classes.aliases``), or None."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    table = aliases(names)
    return [{"name": name, "aliases": [a for a, owner in table.items() if owner == name]} for name in names]


def format_info(d):
    """The dict of ``describe`` as aligned text, one fact a line; per-class lists get a line per class."""
    lines = [d["path"] if d["model"] == d["path"] else f"{d['model']}  ({d['path']})"]

    def row(label, value):
        lines.append(f"  {label:<{_LABEL}}{value}".rstrip())

    row("kind", _text(d["kind"]))
    size = d["sprite_size"]
    row("sprite size", f"{tuple(size)}  (C, H, W)" if isinstance(size, list) else _text(size))
    likelihood = d["likelihood"]
    row("likelihood", _pairs(likelihood).removeprefix("kind ") if isinstance(likelihood, dict) else _text(likelihood))
    row("model", f"{_text(d['architecture'])}, latent {_text(d['latent_dim'])}")
    classes = d["classes"]
    row("classes", NOT_RECORDED if classes is None else f"{len(classes)}; --class takes a name in any case or an alias")
    for entry in classes or ():  # "trouser" is "Trouser" in any case: only the other aliases are news
        row(f"  {entry['name']}", ", ".join(a for a in entry["aliases"] if a != entry["name"].casefold()))
    style = d["style"]
    if isinstance(style, dict):
        row("default style", _pairs({k: v for k, v in style.items() if k != "class_palettes"}) or "none")
        _per_class(row, "  class palettes", style.get("class_palettes"), classes, missing="none")
    else:
        row("default style", _text(style))
    _per_class(row, "palettes", d["palettes"], classes)
    row("licence", _text(d["licence"]))
    row("credit", _text(d["credit"]))
    thresholds = d["thresholds"]
    row("thresholds", _pairs(thresholds) if isinstance(thresholds, dict) else _text(thresholds))
    row("alpha threshold", _text(d["alpha_threshold"]))
    row("dataset", _text(d["dataset"]))
    row("training images", _text(d["n_training_images"]))
    settings = d["settings"]
    row("settings", _pairs(settings) if isinstance(settings, dict) else _text(settings))
    return "\n".join(lines)


def _per_class(row, label, table, classes, missing=NOT_RECORDED):
    """A row per class of a per-class list of colours, named by class where the names are known,
    indented two spaces more than ``label``."""
    if not (isinstance(table, list) and all(isinstance(colours, list) for colours in table)):
        row(label, _text(table, missing))
        return
    row(label, f"{len(table)} lists of colours")
    names = [entry["name"] for entry in classes] if classes and len(classes) == len(table) else range(len(table))
    indent = " " * (len(label) - len(label.lstrip()) + 2)
    for name, colours in zip(names, table):
        row(f"{indent}{name}", " ".join(map(str, colours)))


def _pairs(mapping):
    """A recorded dict as "key value, key value": None there means "none" (recorded as absent)."""
    return ", ".join(f"{k} {_text(v, missing='none')}" for k, v in mapping.items())


def _text(value, missing=NOT_RECORDED):
    """A metadata value as short text: a str as it is, ``missing`` for None, anything else as JSON."""
    if value is None:
        return missing
    return value if isinstance(value, str) else json.dumps(value)
