"""examples/world.py: the demo world runs headless, saves a screenshot, and shows the same plants after a walk
away and back; its cells are the sampler's cells, neighbours differ, and it imports without pygame."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_animation import tiny_model

from procgen.sampler import SpriteSampler

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_world():
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))  # for ``import _common``
    spec = importlib.util.spec_from_file_location("example_world", EXAMPLES / "world.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model") / "tiny.npz")


def test_the_demo_walks_away_and_back_headless_and_saves_a_screenshot(model, tmp_path, monkeypatch):
    pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    shot = tmp_path / "world.png"
    summary = load_world().main(["--model", str(model), "--headless", "--frames", "40", "--size", "320x240",
                                 "--screenshot", str(shot)])
    assert summary["checked"] > 20 and summary["mismatched"] == 0 and summary["identical_neighbours"] == 0
    with Image.open(shot) as im:
        assert im.format == "PNG" and im.size == (320, 240)
        pixels = np.asarray(im.convert("RGB")).astype(int)
    green = (pixels[..., 1] > pixels[..., 0] + 30) & (pixels[..., 1] > pixels[..., 2] + 30)
    assert 0.2 < green.mean() < 0.95  # grass, with plants, the player and the HUD on it
    with pytest.raises(SystemExit, match="already exists; pass --force"):
        load_world().main(["--model", str(model), "--headless", "--frames", "2", "--screenshot", str(shot)])


def test_a_cell_is_the_same_from_the_cache_and_made_again_and_neighbours_differ(model):
    world = load_world()
    cells = world.WorldCells(SpriteSampler.load(model), 42, 2, capacity=30)
    cells.ensure(0, 0, 4, 3)
    first = {c: s.copy() for c, s in cells.sprites.items()}
    cells.ensure(20, 20, 26, 25)  # walk away: 30 new cells push the first ones out of the cache
    assert not set(first) & set(cells.sprites)
    cells.ensure(0, 0, 4, 3)  # and back: made again
    again = SpriteSampler.load(model)  # a fresh sampler, asked cell by cell in another order
    for (x, y), sprite in first.items():
        assert np.array_equal(cells.sprites[x, y], sprite)
        assert np.array_equal(again.sprite_at(42, x, y, scale=2, outline=world.OUTLINE), sprite)
    for (x, y), sprite in first.items():
        for neighbour in ((x + 1, y), (x, y + 1), (x + 1, y + 1)):
            if neighbour in first:
                assert not np.array_equal(first[neighbour], sprite)


def test_the_scripted_walk_returns_to_its_start():
    walk = load_world().scripted_walk(41)
    assert len(walk) == 41 and tuple(map(sum, zip(*walk))) == (0, 0)
    assert walk[:20] == [(-dx, -dy) for dx, dy in reversed(walk[20:40])]


def test_arrow_keys_and_wasd_walk():
    pygame = pytest.importorskip("pygame")
    world = load_world()
    pressed = lambda *keys: {k: k in keys for k in (pygame.K_RIGHT, pygame.K_LEFT, pygame.K_UP, pygame.K_DOWN,
                                                     pygame.K_d, pygame.K_a, pygame.K_w, pygame.K_s)}
    assert world._keys_to_move(pygame, pressed(pygame.K_RIGHT, pygame.K_w)) == (world.STEP, -world.STEP)
    assert world._keys_to_move(pygame, pressed(pygame.K_a, pygame.K_DOWN)) == (-world.STEP, world.STEP)
    assert world._keys_to_move(pygame, pressed(pygame.K_LEFT, pygame.K_d)) == (0, 0)


@pytest.mark.parametrize("argv, message", [
    (["--headless", "--frames", "5"], "--headless needs --screenshot"),
    (["--headless", "--frames", "1", "--screenshot", "x.png"], "--frames of at least 2"),
    (["--size", "10x10"], "--size must be WIDTHxHEIGHT"),
    (["--model", "nowhere.npz"], "is neither"),
])
def test_bad_demo_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        load_world().parse_args(argv)
    assert exit.value.code == 2 and message in capsys.readouterr().err


def test_the_module_imports_without_pygame():
    code = ("import sys; sys.modules['pygame'] = None; sys.path.insert(0, sys.argv[1]); "
            "import world; print(world.WorldCells.__name__)")
    done = subprocess.run([sys.executable, "-c", code, str(EXAMPLES)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "WorldCells" in done.stdout, done.stderr
