"""Stochastic L-systems: rewrite a string, then walk it with a turtle into a ``Sketch``."""

import math
import re
from dataclasses import dataclass

import numpy as np

from procgen.plants.sketch import Sketch, ellipse, lens, shade_ranks


@dataclass(frozen=True)
class LSystem:
    """A stochastic L-system and how the turtle walks it; colours are palette indices (1-based).

    Rewrite: starting from ``axiom``, every symbol with a rule is replaced ``iterations`` times by
    one of its alternatives, drawn with the rule's weights (Prusinkiewicz & Lindenmayer, "The
    Algorithmic Beauty of Plants", 1990, ch. 1.7). Walk: a turtle reads the string (heading 90
    degrees is straight up)::

        F  a stem segment forward        +  -  turn left / right by the angle (jittered)
        [  push the turtle state         ]     pop it
        !  thin the stem (width *= decay) '    shrink what follows (size *= 0.8)
        L  a leaf along the heading      K     a blossom (a berry when its petal is its centre)
        other letters (A, R, S) only steer the rewriting

    Each F also shrinks the size by ``taper`` and bends the heading by ``droop * cos(heading)``:
    away from vertical for droop > 0 (fronds arch outwards), towards it for droop < 0 (bushes grow up).
    """

    axiom: str
    rules: dict  # symbol -> ((weight, replacement), ...), weights summing to 1
    iterations: int
    angle: float  # degrees per + or -
    angle_jitter: float  # standard deviation of each turn, as a fraction of the angle
    step_jitter: float  # standard deviation of each segment length, as a fraction
    taper: float  # size factor per F
    droop: float  # degrees of bend per F at a horizontal heading
    stem_width: float  # stroke pixels at 32 px, at the base
    width_decay: float  # width factor per !
    leaf_length: float  # turtle units at size 1
    leaf_width: float  # as a fraction of the leaf length
    blossom_radius: float  # turtle units at size 1
    stem: int  # palette index of the stems
    leaves: tuple  # palette indices of the leaf shades, darkest first
    blossoms: tuple = ()  # (petal, centre) palette index pairs, one drawn per plant
    leaf_edge: int = 0  # outline each leaf in this index (fleshy leaves that overlap), 0 = none


def _rewrite(system, rng):
    """The string after ``iterations`` rounds of stochastic rewriting (one uniform per symbol with a rule)."""
    text, symbols = system.axiom, re.compile(f"([{''.join(system.rules)}])")
    for _ in range(system.iterations):
        chunks = symbols.split(text)  # odd entries are the symbols with a rule, the rest copied as they are
        for k, u in zip(range(1, len(chunks), 2), rng.random(len(chunks) // 2).tolist()):
            for weight, replacement in system.rules[chunks[k]]:
                u -= weight
                if u < 0:
                    break
            chunks[k] = replacement
        text = "".join(chunks)
    return text


def grow_lsystem(system, rng):
    """The sketch of one plant of an L-system: stem strokes, then leaves lit from the upper right, then blossoms."""
    text = _rewrite(system, rng)
    spread, droop = rng.uniform(0.85, 1.15), system.droop * rng.uniform(0.5, 1.5)  # per plant
    turns = spread * system.angle * (1.0 + system.angle_jitter * rng.standard_normal(len(text)))
    steps = np.maximum(1.0 + system.step_jitter * rng.standard_normal(len(text)), 0.2).tolist()
    tones = rng.uniform(-0.5, 0.5, len(text)).tolist()
    petal, centre = system.blossoms[rng.integers(len(system.blossoms))] if system.blossoms else (0, 0)
    x, y, heading, width, size = 0.0, 0.0, 90.0, system.stem_width, 1.0
    stack, sketch, leaves, blossoms = [], Sketch(), [], []
    for i, symbol in enumerate(text):
        if symbol == "F":
            length = size * steps[i]
            nx, ny = x + length * math.cos(math.radians(heading)), y + length * math.sin(math.radians(heading))
            sketch.strokes.append(([(x, y), (nx, ny)], width, system.stem))
            x, y, size = nx, ny, size * system.taper
            heading -= droop * math.cos(math.radians(heading))
        elif symbol in "+-":
            heading += turns[i] if symbol == "+" else -turns[i]
        elif symbol == "[":
            stack.append((x, y, heading, width, size))
        elif symbol == "]":
            x, y, heading, width, size = stack.pop()
        elif symbol == "!":
            width *= system.width_decay
        elif symbol == "'":
            size *= 0.8
        elif symbol == "L":
            length = system.leaf_length * size * steps[i]
            leaves.append((lens(x, y, math.radians(heading), length, system.leaf_width * length), tones[i]))
        elif symbol == "K" and petal:
            radius = system.blossom_radius * max(size, 0.6)
            blossoms.append((ellipse(x, y, radius, radius), petal, 0))
            if centre != petal:
                blossoms.append((ellipse(x, y, radius / 2.5, radius / 2.5, 8), centre, 0))
    if leaves:  # light = 0.65 height + 0.35 rightness + 0.3 jitter, each in about [0, 1]
        tips = np.array([points[2] for points, _ in leaves])  # (n, 2) the leaf tips
        span = np.maximum(tips.max(axis=0) - tips.min(axis=0), 1e-9)
        high, right = (tips - tips.min(axis=0)).T / span[:, None]
        light = 0.65 * high + 0.35 * right + 0.3 * np.array([tone for _, tone in leaves])
        shades = shade_ranks(light, len(system.leaves))
        for shade, (points, _) in sorted(zip(shades, leaves), key=lambda item: item[0]):  # lit leaves on top
            colour = system.leaves[shade]
            sketch.bodies.append((points, colour, system.leaf_edge))
            midrib = (0.4 * points[0][0] + 0.6 * points[2][0], 0.4 * points[0][1] + 0.6 * points[2][1])
            sketch.strokes.append(([points[0], midrib], 1, colour))  # joins the leaf to its stem
    sketch.bodies += blossoms
    return sketch
