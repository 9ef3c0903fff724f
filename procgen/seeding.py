"""Keyed determinism: (world seed, kind, class, x, y) -> a 64-bit key -> a standard-normal latent vector.

The same arguments give the same key and the same latent on every run, machine, platform and numpy
version: every step is integer arithmetic mod 2**64, or float64 +, -, *, /, sqrt, which IEEE 754
rounds exactly. Nothing here reads global random state, Python's ``hash`` or the clock.

Integers
    Every integer enters as a 64-bit word: ``w = v mod 2**64``, so a negative coordinate is its
    two's complement (``-1 -> 0xFFFFFFFFFFFFFFFF``). Values outside ``[-2**63, 2**64)`` are refused
    rather than wrapped, since wrapping them would silently collide with small ones.

Strings
    FNV-1a 64 over the UTF-8 bytes: ``h = 0xCBF29CE484222325; for byte b: h = (h ^ b) * 0x100000001B3``.

Mixer (``mix64``)
    The SplitMix64 finalizer (Steele, Lea & Flood 2014; Stafford's "Mix13" constants)::

        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB
        z =  z ^ (z >> 31)

    It is a bijection on 64-bit words with full avalanche.

Key
    A sponge over 64-bit words that starts from the FNV-1a hash of a domain name, so world keys and
    batch keys can never be confused::

        h = fnv1a64(domain)                        # "procgen.world" or "procgen.batch"
        for w in words: h = mix64((h ^ w) + GAMMA)  # GAMMA = 0x9E3779B97F4A7C15; + GAMMA keeps 0 from being fixed

    World words are ``(world, fnv1a64(kind), class_tag, class_word, x, y)`` with the class encoded as
    ``(0, 0)`` for None, ``(1, c)`` for an int and ``(2, fnv1a64(c))`` for a str. Each step is a
    bijection of ``h`` for a fixed word and of the word for a fixed ``h``, so two keys that differ in
    exactly one word (above all two neighbouring tiles) are always different.

Latent
    The key seeds a SplitMix64 stream, ``s_i = key + i * GAMMA``, ``b_i = mix64(s_i)`` for i = 1..dim.
    The top 52 bits become a uniform at the midpoint of its cell, ``u = (m + 0.5) * 2**-52`` with
    ``m = b >> 12``: exact in float64, never 0 or 1, and ``1 - u`` is again such a midpoint. Then
    ``z = Phi^-1(u)`` by Acklam's rational approximation (relative error below 1.15e-9).

    Why not ``scipy.special.ndtri`` or Box-Muller: both call the platform's ``log`` (and ``cos``),
    which IEEE 754 does not require to be correctly rounded, so the last bit may differ between libm
    builds and numpy's SIMD paths. Here the one logarithm the tails need is computed from ``frexp``
    (exact) and a fixed series, each term a separate numpy operation so no compiler can fuse it into
    an FMA. As a consequence ``z(2**52 - 1 - m) == -z(m)`` bit for bit.
"""

import numpy as np

from procgen.errors import ProcgenError

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, the SplitMix64 stream increment
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3

_DOMAIN_WORLD = "procgen.world"
_DOMAIN_BATCH = "procgen.batch"


# --- integer hashing: Python ints (the reference) -------------------------------------------------


def mix64(x):
    """SplitMix64 finalizer of the 64-bit word ``x mod 2**64``; returns an int in [0, 2**64)."""
    z = x & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def fnv1a64(text):
    """FNV-1a 64-bit hash of ``text`` encoded as UTF-8; returns an int in [0, 2**64)."""
    h = FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def splitmix64(seed, n):
    """The first ``n`` outputs of SplitMix64 seeded with ``seed``: ``mix64(seed + i * GAMMA)``, i = 1..n."""
    return [mix64(seed + i * GAMMA) for i in range(1, n + 1)]


def _absorb(h, words):
    """Fold 64-bit words into the state ``h``: ``h = mix64((h ^ w) + GAMMA)`` for each word."""
    for w in words:
        h = mix64(((h ^ w) + GAMMA) & MASK64)
    return h


def _word(name, value):
    """``value mod 2**64`` for an int in [-2**63, 2**64); anything else raises, naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ProcgenError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if not -(1 << 63) <= value <= MASK64:
        raise ProcgenError(f"{name} must lie in [-2**63, 2**64) to fit 64 bits, got {value}")
    return value & MASK64


def _count(name, value, least):
    """``value`` as a Python int after checking it is an int >= ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ProcgenError(f"{name} must be an int >= {least}, got {value!r}")
    return int(value)


def _kind_word(kind):
    if not isinstance(kind, str) or not kind:
        raise ProcgenError(f"kind must be a non-empty str such as 'plants', got {kind!r}")
    return fnv1a64(kind)


def _class_words(cls):
    """(tag, word): (0, 0) for None, (1, c) for an int class, (2, fnv1a64(c)) for a class name."""
    if cls is None:
        return (0, 0)
    if isinstance(cls, str):
        return (2, fnv1a64(cls))
    return (1, _word("cls", cls))


# --- keys ----------------------------------------------------------------------------------------


def key(world, kind, x, y, cls=None):
    """The 64-bit key of tile ``(x, y)`` of world ``world`` for sprites of ``kind`` (and class ``cls``).

    world: int seed; kind: model/kind name such as "plants"; x, y: int tile coordinates, negative
    allowed; cls: None, an int class index or a str class name. Returns an int in [0, 2**64).
    """
    words = (_word("world", world), _kind_word(kind), *_class_words(cls), _word("x", x), _word("y", y))
    return _absorb(fnv1a64(_DOMAIN_WORLD), words)


def batch_key(seed, index, kind, cls=None):
    """The key of the ``index``-th sprite of ``sample(n, seed)``, hashed in a domain of its own."""
    words = (_word("seed", seed), _kind_word(kind), *_class_words(cls), _word("index", _count("index", index, 0)))
    return _absorb(fnv1a64(_DOMAIN_BATCH), words)


# --- keys: numpy uint64 arrays (the fast path, equal to the above bit for bit) --------------------


def _mix64_array(z):
    """``mix64`` on a uint64 array; numpy's uint64 multiply wraps mod 2**64 as the finalizer needs."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _absorb_array(h, words):
    with np.errstate(over="ignore"):
        for w in words:
            h = _mix64_array((h ^ w) + np.uint64(GAMMA))
    return h


def _word_array(name, values):
    """An integer array as uint64 words; int64 reinterpreted as two's complement, like ``_word``."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise ProcgenError(f"{name} must be an array of ints, got dtype {values.dtype}")
    return values.astype(np.int64).view(np.uint64) if values.dtype.kind == "i" else values.astype(np.uint64)


def keys(world, kind, xs, ys, cls=None):
    """``key(world, kind, x, y, cls)`` for every pair of the broadcast int arrays ``xs``, ``ys``.

    Returns a uint64 array of the broadcast shape, e.g. ``keys(7, "plants", *np.mgrid[0:64, 0:64])``
    gives the (64, 64) keys of a chunk. The shared prefix is hashed once with Python ints.
    """
    prefix = _absorb(fnv1a64(_DOMAIN_WORLD), (_word("world", world), _kind_word(kind), *_class_words(cls)))
    xw, yw = np.broadcast_arrays(_word_array("xs", xs), _word_array("ys", ys))
    return _absorb_array(np.full(xw.shape, prefix, dtype=np.uint64), (xw, yw))


def batch_keys(seed, indices, kind, cls=None):
    """``batch_key(seed, i, kind, cls)`` for every non-negative int ``i`` in ``indices``, as uint64."""
    indices = np.asarray(indices)
    if indices.dtype.kind == "i" and indices.size and indices.min() < 0:
        raise ProcgenError(f"indices must be non-negative, got minimum {indices.min()}")
    words = _word_array("indices", indices)
    prefix = _absorb(fnv1a64(_DOMAIN_BATCH), (_word("seed", seed), _kind_word(kind), *_class_words(cls)))
    return _absorb_array(np.full(words.shape, prefix, dtype=np.uint64), (words,))


# --- latents -------------------------------------------------------------------------------------

# Acklam's inverse normal CDF: central rational in r = (u - 1/2)^2, tail rational in q = sqrt(-2 log u).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
_P_LOW = 0.02425  # below this (and above 1 - this) the tail formula takes over
# log(m) = 2 atanh(s) = sum_k 2 s^(2k+1) / (2k+1), s = (m-1)/(m+1); |s| <= 0.172 so 11 terms reach 1e-17.
_ATANH = tuple(2.0 / (2 * k + 1) for k in reversed(range(11)))
_LN2 = 0.6931471805599453
_SQRT_HALF = 0.7071067811865476


def _horner(coeffs, x):
    """sum_i coeffs[i] * x^(n-1-i), highest power first; one rounding per numpy op, never an FMA."""
    acc = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc


def _log(t):
    """Natural log of positive normal float64s from exact ``frexp`` and the atanh series, no libm."""
    m, e = np.frexp(t)  # t = m * 2**e, m in [0.5, 1)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)  # m in [sqrt(1/2), sqrt(2)), both steps exact
    e = (e - low).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    return e * _LN2 + s * _horner(_ATANH, s * s)


def normal_from_uniform(u):
    """Phi^-1(u) for float64 ``u`` in (0, 1), by Acklam's algorithm with only +, -, *, /, sqrt.

    Returns a float64 array of u's shape with relative error below 1.15e-9 against the exact quantile.
    """
    u = np.asarray(u, dtype=np.float64)
    if u.size and not (u.min() > 0.0 and u.max() < 1.0):  # also false for NaN
        raise ProcgenError(f"u must lie strictly inside (0, 1), got range [{u.min()}, {u.max()}]")
    z = np.empty_like(u)
    t = np.minimum(u, 1.0 - u)  # 1 - u is exact for u >= 1/2
    central = t >= _P_LOW
    q = u[central] - 0.5
    r = q * q
    z[central] = _horner(_A, r) * q / _horner(_B, r)
    tail = ~central
    q = np.sqrt(-2.0 * _log(t[tail]))
    lower = _horner(_C, q) / _horner(_D, q)  # the lower-tail quantile of t, negative
    z[tail] = np.where(u[tail] < 0.5, lower, -lower)
    return z


def _normal_from_bits(bits):
    """uint64 words -> standard normals: the top 52 bits as cell-midpoint uniforms, then Phi^-1."""
    m = (bits >> np.uint64(12)).astype(np.float64)  # < 2**52, so exact
    return normal_from_uniform((m + 0.5) * 2.0**-52)


def latent_from_key(key, dim):
    """The latent vector of ``key``: ``dim`` standard normals from the SplitMix64 stream seeded by it.

    The stream runs on Python ints, the reference for ``latents_from_keys``. Returns (dim,) float64.
    """
    bits = splitmix64(_word("key", key), _count("dim", dim, 1))
    return _normal_from_bits(np.array(bits, dtype=np.uint64))


def latents_from_keys(keys, dim):
    """``latent_from_key`` for every key of the 1-D array ``keys`` at once: (N,) uint64 -> (N, dim) float64."""
    keys = _word_array("keys", keys)
    if keys.ndim != 1:
        raise ProcgenError(f"keys must be a 1-D array, got shape {keys.shape}")
    dim = _count("dim", dim, 1)
    with np.errstate(over="ignore"):
        steps = np.arange(1, dim + 1, dtype=np.uint64) * np.uint64(GAMMA)  # i * GAMMA mod 2**64
        states = keys[:, None] + steps[None, :]  # (N, 1) + (1, dim) -> (N, dim)
    return _normal_from_bits(_mix64_array(states))


# --- classes -------------------------------------------------------------------------------------

_CLASS_SALT = fnv1a64("procgen.class")


def class_of_key(key, n_classes):
    """The class of a sprite asked for without one, for a class-conditioned model: ``mix64(key ^ salt) mod K``.

    The salt (FNV-1a of "procgen.class") keeps it independent of the latent stream; the modulo's bias
    is below K / 2**64. The reference for ``classes_of_keys``.
    """
    return mix64(_word("key", key) ^ _CLASS_SALT) % _count("n_classes", n_classes, 1)


def classes_of_keys(keys, n_classes):
    """``class_of_key`` for every key of the array ``keys``: (N,) uint64 -> (N,) int64."""
    keys = _word_array("keys", keys)
    n = _count("n_classes", n_classes, 1)
    return (_mix64_array(keys ^ np.uint64(_CLASS_SALT)) % np.uint64(n)).astype(np.int64)
