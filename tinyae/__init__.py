"""tinyae: autoencoders from scratch in NumPy, every backward pass by hand."""

from tinyae.memory import keep_freed_memory

__version__ = "0.1.0"

keep_freed_memory()
