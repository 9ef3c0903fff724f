"""Keep freed memory for the next training step instead of handing it back to the operating system.

A training step allocates and frees the same large arrays every time (activations, their padded
copies, gradients). By default glibc gives big blocks back to the OS when they are freed, and
the next step pays a page fault for every 4 KiB it touches again. Measured on the denoising
autoencoder of benchmarks/train_speed.py (batch 128, float32, 2 cores): 1244 page faults and
139 ms per step by default; with the two settings below, none once the first steps have grown the
heap, and 102 ms. The cost is that the
process keeps its peak memory until it exits, which is what PyTorch's and most training
frameworks' allocators do too.

``import tinyae`` applies it once, for the whole process (so a benchmark against PyTorch in the
same process gives both the same allocator). TINYAE_KEEP_MEMORY=0 in the environment turns it
off. It only exists on Linux with glibc; elsewhere nothing changes.
"""

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_KEEP = 1 << 30  # 1 GiB: blocks below this come from the reusable heap, and up to this much free stays mapped


def keep_freed_memory():
    """Ask glibc to serve large arrays from its heap and keep freed memory; True if it took effect."""
    if os.environ.get("TINYAE_KEEP_MEMORY", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP))
