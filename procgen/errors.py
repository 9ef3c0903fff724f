"""Exceptions a user can cause. Each message names the thing, what was expected and what was found."""


class ProcgenError(ValueError):
    """Base class of every error procgen raises on purpose: bad arguments, files, palettes, checkpoints."""


class PaletteError(ProcgenError):
    """A palette name, hex colour or GIMP .gpl palette file is unknown, malformed or out of range."""
