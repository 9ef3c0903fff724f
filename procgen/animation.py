"""Animations from the latent space: one keyed sprite turning smoothly into another, frame by frame.

Two keyed sprites A and B (two world cells, or sprites i and n + i of a batch) are the decoded codes
z_a and z_b. The F frames decode the codes z(t_k) of a path between them, t_k = k / (F - 1), through
the sampler's own fixed-order decoder and post-processing. z(0) = z_a and z(1) = z_b are the keyed
codes themselves, not recomputed, so the first and last frames equal A and B byte for byte.

The path is taken in the standard coordinates of the Gaussian the codes were drawn from,
e = (z - m) / s, where that Gaussian is N(0, I): (m, s) = (0, 1) for the prior and
(mean_c, sqrt(var_c)) for class c. Then z(t) = m + s * e(t) with

    lerp    e(t) = (1 - t) e_a + t e_b
    slerp   e(t) = ((1 - t) |e_a| + t |e_b|) * u(t),   u(t) the great circle from e_a / |e_a| to e_b / |e_b|
                   (tinyae.vae.generation.slerp of the two directions)

Why slerp: for e ~ N(0, I_d) the norm |e| concentrates at sqrt(d) with a spread of about 1/sqrt(2),
so the decoder was trained on codes near that sphere. Two independent codes are nearly orthogonal,
so the middle of the straight line between them has |e| ~ sqrt(d / 2): for d = 16, 2.8 against
4.0 +- 0.7, a code the decoder rarely saw, which shows as faint, averaged middle frames. Moving the
direction along the great circle and the norm linearly keeps |e(t)| between |e_a| and |e_b| at every t,
on the shell that holds the prior's mass.

Play orders: the F frames are stored once and an animation lists them in the order they play.
    loop      0, 1, ..., F-1, then 0 again: a morph or growth that restarts
    pingpong  0, 1, ..., F-1, F-2, ..., 1, then 0 again: a sway out and back with no jump
"""

import numpy as np

from tinyae.vae.generation import lerp, slerp

from procgen.errors import ProcgenError

PATHS = ("slerp", "lerp")
PLAYS = ("pingpong", "loop")


def _check_frames(frames):
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 2:
        raise ProcgenError(f"frames must be an int >= 2 (the two keyed sprites and the steps between), got {frames!r}")
    return int(frames)


def latent_path(z_a, z_b, frames, path="slerp", mean=0.0, std=1.0):
    """Codes from z_a to z_b along ``path`` ("slerp" or "lerp"), in the coordinates e = (z - mean) / std.

    z_a, z_b: (d,) codes; mean, std: scalars or (d,) arrays, the Gaussian they were drawn from.
    Returns (frames, d) float32 whose first and last rows are z_a and z_b exactly.
    """
    frames = _check_frames(frames)
    if path not in PATHS:
        raise ProcgenError(f"path must be one of {', '.join(PATHS)}, got {path!r}")
    z_a, z_b = np.asarray(z_a, np.float64), np.asarray(z_b, np.float64)
    if z_a.ndim != 1 or z_a.shape != z_b.shape:
        raise ProcgenError(f"z_a and z_b must be codes of one shape (d,), got {z_a.shape} and {z_b.shape}")
    e_a, e_b = (z_a - mean) / std, (z_b - mean) / std
    if path == "lerp":
        e = lerp(e_a, e_b, frames)
    else:
        r_a, r_b = np.linalg.norm(e_a), np.linalg.norm(e_b)
        radius = lerp(np.array([r_a]), np.array([r_b]), frames)  # (frames, 1)
        e = radius * slerp(e_a / max(r_a, 1e-12), e_b / max(r_b, 1e-12), frames)
    codes = (mean + std * e).astype(np.float32)
    codes[0], codes[-1] = z_a, z_b  # the keyed codes themselves: (x - m) / s * s + m may differ in the last bit
    return codes


def play_order(frames, play="pingpong"):
    """The frame indices one cycle of the animation shows, in order (see the module docstring)."""
    frames = _check_frames(frames)
    if play not in PLAYS:
        raise ProcgenError(f"play must be one of {', '.join(PLAYS)}, got {play!r}")
    forward = list(range(frames))
    return forward + forward[-2:0:-1] if play == "pingpong" else forward


def decode_frames(sampler, codes, **style):
    """Codes (F, d) -> RGBA frames (F, H*s, W*s, 4) uint8 by the sampler's decoder and post-processing.

    style: palette, outline, mirror, scale, alpha_threshold as in SpriteSampler.sample.
    """
    return sampler.render(codes, **style)


def _gaussian(sampler, cls):
    """(mean, std) of the Gaussian that the sampler draws class ``cls`` (None: the prior) from."""
    return sampler.class_gaussian(sampler.class_index(cls)[0])


def between_cells(sampler, world, a, b, frames, cls=None, *, path="slerp", mirror=False, alpha_threshold=0.5,
                  **style):
    """Frames turning the sprite of world cell a = (x, y) into that of cell b: (F, H*s, W*s, 4) uint8.

    Frame 0 is ``sampler.sprite_at(world, *a, cls, ...)`` and frame F - 1 that of b, with the same style.
    """
    choice = {"mirror": mirror, "alpha_threshold": alpha_threshold}  # these two decide which candidate a cell keeps
    z_a, z_b = (sampler.region(world, x, y, 1, 1, cls, **choice).latents[0] for x, y in (a, b))
    codes = latent_path(z_a, z_b, frames, path, *_gaussian(sampler, cls))
    return decode_frames(sampler, codes, **choice, **style)


def sheet_animations(sampler, n, seed, frames, cls=None, *, path="slerp", play="pingpong", mirror=False,
                     alpha_threshold=0.5, **style):
    """``n`` animations for a sheet, the i-th turning sprite i of ``sample(2n, seed, cls)`` into sprite n + i.

    Sprites 0..n-1 are those of ``sample(n, seed, cls)`` (a batch's first sprites do not depend on its
    length), so each animation starts from the sprite the same sheet without animations shows.
    Returns (sprites, animations): [(name, rgba)] for export_sheet, frame names "<kind>_<i>_<k>", and
    {"<kind>_<i>": [frame names in play order]}, i zero-padded to 4 digits and k to 2 or more.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ProcgenError(f"n must be an int >= 1, got {n!r}")
    frames, order = _check_frames(frames), play_order(frames, play)
    choice = {"mirror": mirror, "alpha_threshold": alpha_threshold}
    result = sampler.sample(2 * n, seed, cls, **choice)
    mean, std = _gaussian(sampler, cls)
    codes = [latent_path(result.latents[i], result.latents[n + i], frames, path, mean, std) for i in range(n)]
    rgba = decode_frames(sampler, np.concatenate(codes), **choice, **style)  # (n * frames, H*s, W*s, 4)
    width = max(2, len(str(frames - 1)))
    sprites, animations = [], {}
    for i in range(n):
        name = f"{sampler.kind}_{i:04d}"
        names = [f"{name}_{k:0{width}d}" for k in range(frames)]
        sprites += zip(names, rgba[i * frames:(i + 1) * frames])
        animations[name] = [names[k] for k in order]
    return sprites, animations
