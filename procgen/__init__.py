"""procgen: seeded, unique game sprites sampled from a trained VAE decoder.

    from procgen import SpriteSampler
    plants = SpriteSampler.load("plants")
    sprite = plants.sprite_at(world=42, x=10, y=-3)        # (32, 32, 4) uint8, the same every time
    batch = plants.sample(64, seed=7, cls="fern").sprites   # (64, 32, 32, 4) uint8, no two alike
"""

__version__ = "0.1.0"

# Names resolved on first use, so that importing one submodule (procgen.seeding) stays light.
_EXPORTS = {
    "SpriteSampler": "procgen.sampler",
    "SampleResult": "procgen.sampler",
    "RedrawStats": "procgen.uniqueness",
    "ProcgenError": "procgen.errors",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'procgen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
