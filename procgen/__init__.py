"""procgen: seeded, unique game sprites sampled from a trained VAE decoder."""

__version__ = "0.1.0"
