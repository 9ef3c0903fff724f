"""The five L-system species (fern, bush, flowering, sapling, succulent): each one's grammar and turtle settings."""

from procgen.plants.lsystem import LSystem

FERN = LSystem(
    axiom="S",
    rules={
        "S": ((0.4, "[++++FA][++FA][FA][--FA][----FA]"), (0.3, "[+++FA][+FA][-FA][---FA]"),
              (0.3, "[+++++FA][+++FA][+FA][-FA][---FA][-----FA]")),
        "A": ((0.85, "F[+++++L][-----L]A"), (0.15, "F[++++L][-----L]A")),
    },
    iterations=11, angle=10.0, angle_jitter=0.25, step_jitter=0.1, taper=0.92, droop=3.5,
    stem_width=1.0, width_decay=1.0, leaf_length=1.4, leaf_width=0.35, blossom_radius=0.0,
    stem=1, leaves=(2, 3, 4),
)
BUSH = LSystem(
    axiom="[+++A][++A][A][--A][---A]",
    rules={"A": ((0.43, "F[+AL][-AL]L"), (0.24, "F[+AL]AL"), (0.25, "F[-AL]AL"), (0.08, "F[+AK][-AL]L"))},
    iterations=4, angle=16.0, angle_jitter=0.3, step_jitter=0.2, taper=0.85, droop=-8.0,
    stem_width=1.0, width_decay=1.0, leaf_length=0.9, leaf_width=0.8, blossom_radius=0.25,
    stem=1, leaves=(2, 3, 4, 5), blossoms=((6, 6), (7, 7)),  # red or purple berries
)
FLOWERING = LSystem(
    axiom="FAK",
    rules={"A": ((0.5, "F[+L]F[-L]A"), (0.25, "F[+F[-L]K][-L]A"), (0.25, "F[-F[+L]K][+L]A"))},
    iterations=4, angle=30.0, angle_jitter=0.3, step_jitter=0.2, taper=0.93, droop=0.0,
    stem_width=1.0, width_decay=1.0, leaf_length=1.4, leaf_width=0.45, blossom_radius=0.7,
    stem=1, leaves=(1, 2, 3), blossoms=((4, 7), (5, 7), (6, 7)),  # red, pink or cream petals, yellow centre
)
SAPLING = LSystem(
    axiom="FA",
    rules={"A": ((0.5, "!F[+AL]F[-AL]A"), (0.5, "!F[-AL]F[+AL]A"))},
    iterations=3, angle=35.0, angle_jitter=0.3, step_jitter=0.2, taper=0.85, droop=0.0,
    stem_width=2.0, width_decay=0.75, leaf_length=2.0, leaf_width=0.75, blossom_radius=0.0,
    stem=1, leaves=(2, 3, 4, 5),
)
SUCCULENT = LSystem(
    axiom="R",
    rules={"R": ((0.6, "[++++L][----L][++L][--L]'R"), (0.4, "[+++L][---L][+L][-L]'R"))},
    iterations=3, angle=18.0, angle_jitter=0.2, step_jitter=0.1, taper=1.0, droop=0.0,
    stem_width=1.0, width_decay=1.0, leaf_length=4.0, leaf_width=0.42, blossom_radius=0.0,
    stem=1, leaves=(2, 3, 4), leaf_edge=1,
)
