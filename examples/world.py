"""A walkable procedural world: the plant on every grass cell is ``SpriteSampler.sprite_at(world, x, y, ...)``.

    python examples/world.py [--model plants] [--world 42] [--scale 2]     arrow keys or WASD walk, Esc quits
    python examples/world.py --headless --frames 160 --screenshot examples/figures/world.png

Cells come into view as the camera scrolls; the missing ones are made by one ``sampler.region`` call
over the strip that appeared and kept in a cache keyed by (x, y), dropping the farthest cells when it
is full. Walking away and back shows the same plants whether a cell comes from the cache or is made
again, because a cell's sprite is a function of (world, x, y) alone; neighbours differ, because the
sampler redraws near-duplicates within its radius. The HUD shows the world seed, the player's cell
and how many sprites per second the sampler made (generation time only, not drawing).

--headless runs SDL's dummy video driver for --frames frames of a scripted walk, right and down, then
back the same way. The walk back starts from a fresh sampler and an empty cache, so every cell is made
again, and each cell seen on both legs must be identical byte for byte (exit status 1 otherwise).
Then it saves --screenshot (refused if it exists, unless --force).

Needs pygame (``pip install tinyae[demo]``); the module imports without it.
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import _common  # first: sets OMP_WAIT_POLICY before Numba starts its threads

import numpy as np

from procgen import seeding
from procgen.errors import ProcgenError
from procgen.sampler import SpriteSampler

STEP = 4  # pixels the player moves per frame
GRASS = np.array([[132, 184, 92], [120, 172, 82], [144, 194, 102], [100, 152, 70]], np.uint8)  # base, dark, light, tuft
OUTLINE = "#2b3d26"  # a dark green ink line lifts the plants off the grass
FLOWERS = np.array([[250, 244, 210], [246, 214, 92], [226, 140, 170]], np.uint8)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="world.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="plants", help="plants, plants64, clothing or a checkpoint .npz (default plants)")
    parser.add_argument("--world", type=int, default=42, help="world seed (default 42)")
    parser.add_argument("--scale", type=_common.positive_int, default=2, help="pixels per sprite pixel (default 2)")
    parser.add_argument("--size", default="800x544", help="window WIDTHxHEIGHT in pixels (default 800x544)")
    parser.add_argument("--cache", type=_common.positive_int, default=4096, help="cells kept (default 4096)")
    parser.add_argument("--headless", action="store_true", help="no window: a scripted walk, then --screenshot")
    parser.add_argument("--frames", type=_common.positive_int, default=160, help="headless frames (default 160)")
    parser.add_argument("--screenshot", type=Path, help="PNG of the last frame (headless)")
    parser.add_argument("--force", action="store_true", help="overwrite --screenshot")
    args = parser.parse_args(argv)
    try:
        args.size = tuple(int(v) for v in args.size.lower().split("x"))
        assert len(args.size) == 2 and min(args.size) >= 64
    except (ValueError, AssertionError):
        parser.error(f"--size must be WIDTHxHEIGHT of at least 64x64 pixels, got {args.size!r}")
    if args.headless and (args.screenshot is None or args.frames < 2):
        parser.error("--headless needs --screenshot PATH and --frames of at least 2 (a step out and one back)")
    if args.screenshot is not None and args.screenshot.exists() and not args.force:
        sys.exit(f"error: {args.screenshot} already exists; pass --force to overwrite it")
    try:
        args.sampler = SpriteSampler.load(args.model)
    except ProcgenError as err:
        parser.error(str(err))
    return args


class WorldCells:
    """The sprites and grass of a world's cells, made on demand and cached by (x, y); no pygame here.

    sprites[x, y] is (H*s, W*s, 4) uint8 and equals ``sampler.sprite_at(world, x, y, scale=s, outline=OUTLINE)``.
    """

    def __init__(self, sampler, world, scale, capacity):
        self.sampler, self.world, self.scale, self.capacity = sampler, world, scale, capacity
        self.sprites = {}
        self.made, self.seconds = 0, 0.0

    def ensure(self, x0, y0, x1, y1):
        """Make every cell of x0 <= x < x1, y0 <= y < y1 that is not cached, in one region call."""
        missing = [(x, y) for y in range(y0, y1) for x in range(x0, x1) if (x, y) not in self.sprites]
        if not missing:
            return []
        xs, ys = zip(*missing)
        bx0, by0 = min(xs), min(ys)
        width, height = max(xs) - bx0 + 1, max(ys) - by0 + 1
        start = time.perf_counter()
        result = self.sampler.region(self.world, bx0, by0, width, height, scale=self.scale, outline=OUTLINE)
        self.seconds += time.perf_counter() - start
        self.made += len(result.sprites)
        for k, sprite in enumerate(result.sprites):  # row-major over the box: (y, then x)
            cell = (bx0 + k % width, by0 + k // width)
            self.sprites.setdefault(cell, sprite)
        self._evict((x0 + x1) / 2, (y0 + y1) / 2)
        return missing

    def _evict(self, cx, cy):
        """Drop the cells farthest from (cx, cy) while more than ``capacity`` are cached."""
        if len(self.sprites) > self.capacity:
            far = sorted(self.sprites, key=lambda c: -max(abs(c[0] - cx), abs(c[1] - cy)))
            for cell in far[:len(self.sprites) - self.capacity]:
                del self.sprites[cell]

    def grass(self, x, y, size):
        """A (size, size, 3) uint8 grass tile for cell (x, y): keyed noise, tufts and the odd flower."""
        rng = np.random.default_rng(seeding.key(self.world, "grass", x, y))
        s = self.scale
        n = size // s
        tile = GRASS[rng.choice(3, size=(n, n), p=(0.7, 0.15, 0.15))]  # (n, n, 3)
        for _ in range(rng.integers(3, 7)):  # tufts: two-pixel blades
            i, j = rng.integers(1, n - 1, size=2)
            tile[i - 1:i + 1, j] = GRASS[3]
        if rng.random() < 0.25:
            i, j = rng.integers(1, n - 1, size=2)
            tile[i, j] = FLOWERS[rng.integers(len(FLOWERS))]
        return np.repeat(np.repeat(tile, s, axis=0), s, axis=1)  # (n, n, 3) -> (n*s, n*s, 3)


def scripted_walk(frames):
    """Per-frame moves (dx, dy) in pixels: right and down for the first half, then back the same way."""
    half = frames // 2
    out = [(STEP, 0)] * (half - half // 3) + [(0, STEP)] * (half // 3)
    return out + [(-dx, -dy) for dx, dy in reversed(out)] + [(0, 0)] * (frames - 2 * half)


def visible(pos, size, cell):
    """(x0, y0, x1, y1): the cells under a window of ``size`` centred on world pixel ``pos``, one more each side."""
    (px, py), (w, h) = pos, size
    return ((px - w // 2) // cell - 1, (py - h // 2) // cell - 1, (px + w // 2) // cell + 2, (py + h // 2) // cell + 2)


def digest(sprite):
    return hashlib.sha256(sprite.tobytes()).hexdigest()


class Renderer:
    """Draws cells, the player and the HUD with pygame, keeping a Surface per cached cell."""

    def __init__(self, pygame, screen, cell):
        self.pg, self.screen, self.cell = pygame, screen, cell
        self.font = pygame.font.Font(None, 22)
        self.surfaces = {}

    def surface(self, cells, x, y):
        key = (id(cells), x, y)  # a fresh WorldCells (the walk back) never reuses the old surfaces
        if key not in self.surfaces:
            pg, c = self.pg, self.cell
            tile = pg.image.frombuffer(cells.grass(x, y, c).tobytes(), (c, c), "RGB").convert()
            shadow = pg.Surface((c // 2, c // 6), pg.SRCALPHA)
            pg.draw.ellipse(shadow, (30, 70, 30, 90), shadow.get_rect())
            tile.blit(shadow, (c // 4, c - c // 6 - c // 16))
            sprite = cells.sprites[x, y]
            h, w = sprite.shape[:2]
            plant = pg.image.frombuffer(sprite.tobytes(), (w, h), "RGBA")
            tile.blit(plant, ((c - w) // 2, c - h - c // 32))  # centred, standing on the cell's lower edge
            self.surfaces[key] = tile
        return self.surfaces[key]

    def draw(self, cells, pos, hud):
        w, h = self.screen.get_size()
        x0, y0, x1, y1 = visible(pos, (w, h), self.cell)
        for y in range(y0, y1):
            for x in range(x0, x1):
                self.screen.blit(self.surface(cells, x, y), (x * self.cell - pos[0] + w // 2,
                                                             y * self.cell - pos[1] + h // 2))
        self._player(w // 2, h // 2)
        self._hud(hud)
        if len(self.surfaces) > 2 * cells.capacity:
            self.surfaces = {k: s for k, s in self.surfaces.items() if (k[1], k[2]) in cells.sprites}

    def _player(self, cx, cy):
        """A small walker: shadow, legs, tunic, head, drawn in screen pixels around (cx, cy)."""
        pg, u = self.pg, max(2, self.cell // 32)
        shadow = pg.Surface((10 * u, 3 * u), pg.SRCALPHA)
        pg.draw.ellipse(shadow, (20, 40, 20, 110), shadow.get_rect())
        self.screen.blit(shadow, (cx - 5 * u, cy + 5 * u))
        for x, y, w, h, colour in ((-3, 3, 2, 3, (60, 44, 40)), (1, 3, 2, 3, (60, 44, 40)),
                                   (-4, -3, 8, 7, (200, 70, 60)), (-3, -9, 6, 6, (240, 200, 160)),
                                   (-3, -10, 6, 2, (90, 60, 40))):
            pg.draw.rect(self.screen, colour, (cx + x * u, cy + y * u, w * u, h * u))

    def _hud(self, lines):
        pg = self.pg
        texts = [self.font.render(line, True, (250, 250, 240)) for line in lines]
        panel = pg.Surface((max(t.get_width() for t in texts) + 16, 18 * len(texts) + 10), pg.SRCALPHA)
        panel.fill((20, 30, 20, 170))
        for k, text in enumerate(texts):
            panel.blit(text, (8, 6 + 18 * k))
        self.screen.blit(panel, (8, 8))


def main(argv=None):
    """Run the demo; headless, return {"checked", "mismatched", "identical_neighbours"} of the walk's check."""
    args = parse_args(argv)
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.display.init()  # no mixer: the demo is silent, and a machine without sound stays quiet
    pygame.font.init()
    screen = pygame.display.set_mode(args.size)
    pygame.display.set_caption(f"procgen world {args.world}")
    sprite_px = args.sampler.decoder.image_shape[1] * args.scale
    cell = sprite_px + sprite_px // 4  # a grass margin around every plant
    x0, y0, x1, y1 = visible((0, 0), args.size, cell)
    args.cache = max(args.cache, 2 * (x1 - x0) * (y1 - y0))  # never evict a cell on screen
    cells = WorldCells(args.sampler, args.world, args.scale, args.cache)
    renderer = Renderer(pygame, screen, cell)
    pos = [0, 0]  # the player starts on the grass where four cells meet
    walk = scripted_walk(args.frames) if args.headless else None
    legs = ({}, {})  # headless: digest of every cell seen, on the way out and on the way back
    clock, frame = pygame.time.Clock(), 0
    while walk is None or frame < len(walk):
        if walk is None:
            if any(event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE)
                   for event in pygame.event.get()):
                break
            dx, dy = _keys_to_move(pygame, pygame.key.get_pressed())
        else:
            pygame.event.pump()
            if frame == len(walk) // 2:  # the walk back: everything made again
                cells = WorldCells(SpriteSampler.load(args.model), args.world, args.scale, args.cache)
            dx, dy = walk[frame]
        pos[0] += dx
        pos[1] += dy
        x0, y0, x1, y1 = visible(pos, args.size, cell)
        cells.ensure(x0, y0, x1, y1)
        if walk is not None:
            seen = legs[frame >= len(walk) // 2]
            seen.update({(x, y): digest(cells.sprites[x, y]) for y in range(y0, y1) for x in range(x0, x1)})
        rate = cells.made / cells.seconds if cells.seconds else 0.0
        renderer.draw(cells, pos, [f"world {args.world}", f"cell ({pos[0] // cell}, {pos[1] // cell})",
                                   f"{rate:,.0f} sprites/s ({cells.made} made)"])
        pygame.display.flip()
        clock.tick(0 if walk is not None else 60)
        frame += 1
    if args.screenshot is not None:
        _save(pygame, screen, args.screenshot)
    pygame.quit()
    return _check(legs) if walk is not None else None


def _keys_to_move(pygame, keys):
    dx = (keys[pygame.K_RIGHT] or keys[pygame.K_d]) - (keys[pygame.K_LEFT] or keys[pygame.K_a])
    dy = (keys[pygame.K_DOWN] or keys[pygame.K_s]) - (keys[pygame.K_UP] or keys[pygame.K_w])
    return STEP * dx, STEP * dy


def _save(pygame, screen, path):
    from PIL import Image

    from tinyae.checkpoint import write_atomic

    image = Image.frombytes("RGB", screen.get_size(), pygame.image.tobytes(screen, "RGB"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda f: image.save(f, format="PNG", optimize=True), force=True)
    print(f"wrote {path}")


def _check(legs):
    """Cells seen on both legs must agree; count the 8-neighbour pairs with identical sprites."""
    out, back = legs
    common = sorted(set(out) & set(back))
    mismatched = [c for c in common if out[c] != back[c]]
    half = ((1, 0), (0, 1), (1, 1), (1, -1))  # each 8-neighbour pair once
    identical = sum(out[x, y] == out.get((x + dx, y + dy)) for x, y in out for dx, dy in half)
    summary = {"checked": len(common), "mismatched": len(mismatched), "identical_neighbours": identical}
    print(f"{len(common)} cells seen on the way out and back: {len(mismatched)} differ; "
          f"{identical} neighbouring pairs identical")
    if mismatched or not common or identical:
        sys.exit(f"error: the world is not what it was: cells {mismatched[:5]} differ, {identical} identical "
                 f"neighbour pairs, {len(common)} cells compared")
    return summary


if __name__ == "__main__":
    main()
