"""Every example script, run end to end in --quick mode: its pictures exist, its numbers say what the
example claims (a denoiser beats its noisy input, a sparse code is sparse, a contractive code is less
sensitive), it refuses to overwrite without --force, and bad arguments exit with status 2.

Each quick run happens once per test session (module-scoped fixtures) and several tests read its outputs.
The scripts run in this process through main(argv), except for the exit-status tests, which run them as
a user would, in a subprocess.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    """Import examples/<name>.py as a module (its folder on sys.path, for ``import _common``)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_quick(tmp_path_factory, name, *extra):
    out = tmp_path_factory.mktemp(name)
    values = load(name).main(["--quick", "--out", str(out), *extra])
    return out, values


def check_pngs(out, names):
    for name in names:
        path = out / name
        assert path.is_file(), f"{path} was not written"
        with Image.open(path) as im:
            assert im.format == "PNG" and im.width >= 100 and im.height >= 40, (path, im.size)
            pixels = np.asarray(im.convert("L"))
        assert pixels.std() > 5, f"{path} is blank"


def check_summary(out, values):
    text = (out / "summary.txt").read_text()
    assert "machine:" in text and "setup:" in text
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(values))
    for key, v in values.items():
        for number in np.ravel(v) if not isinstance(v, str) else []:
            assert math.isfinite(number), f"{key} = {v}"


# ---------------------------------------------------------------- pca lab


@pytest.fixture(scope="module")
def pca_lab(tmp_path_factory):
    return run_quick(tmp_path_factory, "pca_lab")


def test_pca_lab_writes_figures_and_the_table(pca_lab):
    out, values = pca_lab
    check_pngs(out, ["components.png", "loss_curves.png"])
    check_summary(out, values)
    text = (out / "summary.txt").read_text()
    assert "(1) max angle decoder vs PCA" in text and "PASS" in text


def test_pca_lab_finds_what_the_theory_says(pca_lab):
    _, v = pca_lab
    assert v["lab_passed"] is True
    assert v["control_mse"] == pytest.approx(v["pca_mse"], rel=1e-6)  # the undecayed run reaches PCA's error
    assert v["control_max_angle_rad"] < 1e-3 and v["decayed_max_angle_rad"] < 1e-3
    assert v["decayed_min_cos"] > 0.999 > v["control_min_cos"]      # components only with weight decay
    # The minibatch run is on its way to PCA's error, not below it (PCA is the optimum on the training set).
    assert v["pca_train_mse"] <= v["minibatch_train_mse"] < 1.5 * v["pca_train_mse"]


# ---------------------------------------------------------------- denoising


@pytest.fixture(scope="module")
def denoising(tmp_path_factory):
    return run_quick(tmp_path_factory, "denoising")


def test_denoising_writes_figures_and_summary(denoising):
    out, values = denoising
    check_pngs(out, ["denoising.png", "loss_curves.png"])
    check_summary(out, values)


def test_denoising_beats_the_noisy_input(denoising):
    _, v = denoising
    # p = 0.1 salt-and-pepper on Fashion-MNIST costs about 13.8 dB; a median filter recovers some of it.
    assert 12.5 < v["noisy_psnr_db"] < 15.0
    assert v["median3x3_psnr_db"] > v["noisy_psnr_db"] + 2
    assert v["denoised_psnr_db"] > v["noisy_psnr_db"] + 0.3
    assert v["denoised_psnr_db"] == pytest.approx(10 * np.log10(1 / v["denoised_mse"]), abs=0.01)


# ---------------------------------------------------------------- documents


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    return run_quick(tmp_path_factory, "documents")


def test_documents_writes_figures_and_summary(documents):
    out, values = documents
    check_pngs(out, ["documents.png", "documents_zoom.png", "loss_curves.png"])
    assert not (out / "test_page.png").exists()  # generated pages have no test/ folder
    check_summary(out, values)


def test_documents_cleaning_lowers_rmse(documents):
    _, v = documents
    assert 0.1 < v["rmse_dirty"] < 0.4
    assert v["rmse_cleaned"] < v["rmse_dirty"]


def test_documents_reads_a_kaggle_folder(tmp_path):
    from tinyae.datasets import make_documents

    root = tmp_path / "kaggle"
    clean, dirty = make_documents(4, np.random.default_rng(5), size=(96, 120))
    for i, (c, d) in enumerate(zip(clean, dirty)):
        for folder, page in (("train_cleaned", c), ("train", d)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.rint(page[0] * 255).astype(np.uint8)).save(root / folder / f"{i}.png")
    (root / "test").mkdir()
    Image.fromarray(np.rint(dirty[0, 0] * 255).astype(np.uint8)[:95, :119]).save(root / "test" / "9.png")  # odd sides
    out = tmp_path / "out"
    values = load("documents").main(["--quick", "--data", str(root), "--crops", "64", "--out", str(out)])
    check_pngs(out, ["documents.png", "test_page.png"])
    assert values["rmse_cleaned"] > 0


# ---------------------------------------------------------------- vae


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    return run_quick(tmp_path_factory, "vae", "--model", "both")


def test_vae_writes_the_tutorial_figures_for_both_models(vae):
    out, values = vae
    for model in ("dense", "conv"):
        check_pngs(out / model, ["manifold.png", "latent_scatter.png", "reconstructions.png",
                                 "samples_per_class.png", "loss_curves.png"])
        check_summary(out / model, values[model])


def test_vae_scores_are_nats_per_image(vae):
    _, values = vae
    for v in values.values():
        assert v["test_kl"] >= 0
        assert v["test_neg_elbo"] == pytest.approx(v["test_recon"] + v["test_kl"], abs=0.02)
    # Predicting 0.5 for every pixel costs 784 ln 2 = 543 nats; even a quick dense VAE does better.
    assert values["dense"]["test_neg_elbo"] < 543


# ---------------------------------------------------------------- sparse and contractive


@pytest.fixture(scope="module")
def sparse_contractive(tmp_path_factory):
    return run_quick(tmp_path_factory, "sparse_contractive")


def test_sparse_contractive_writes_figures_and_summary(sparse_contractive):
    out, values = sparse_contractive
    check_pngs(out, ["activations.png", "mean_activation.png", "sensitivity.png", "loss_curves.png"])
    check_summary(out, values)


def test_sparse_code_is_sparse_and_contractive_code_is_flat(sparse_contractive):
    _, v = sparse_contractive
    rho = v["target_rho"]
    assert abs(v["sparse_mean_activation"] - rho) < abs(v["plain_mean_activation"] - rho)
    assert v["sparse_fraction_below_0.1"] > v["plain_fraction_below_0.1"]
    assert v["contractive_jacobian_frobenius_rms"] < v["plain_jacobian_frobenius_rms"]
    for kind in ("plain", "sparse", "contractive"):  # the closed form agrees with a finite-difference measurement
        assert v[f"{kind}_jacobian_measured_rms"] == pytest.approx(v[f"{kind}_jacobian_frobenius_rms"], rel=0.05)


def test_force_overwrites_a_previous_run(sparse_contractive):
    out, _ = sparse_contractive
    before = (out / "summary.txt").stat().st_mtime_ns
    load("sparse_contractive").main(["--quick", "--out", str(out), "--force", "--epochs", "1"])
    assert (out / "summary.txt").stat().st_mtime_ns > before


# ---------------------------------------------------------------- own art


@pytest.fixture(scope="module")
def own_art(tmp_path_factory):
    return run_quick(tmp_path_factory, "own_art")


def test_own_art_trains_on_the_art_set_and_makes_sprites_in_its_palettes(own_art):
    """The whole --images workflow: the art set, a model trained on it, and sprites in the art's own colours."""
    out, values = own_art
    check_pngs(out, ["own_art.png"])
    check_summary(out, values)
    assert values["training_images"] == 60  # 20 per class in --quick, every file loaded
    assert sorted(p.name for p in (out / "art").iterdir()) == ["gem", "potion", "sword"]
    from procgen.sampler import SpriteSampler

    sampler = SpriteSampler.load(out / "items.npz")
    assert sampler.class_names == ["gem", "potion", "sword"] and sampler.decoder.image_shape[1:] == (16, 16)
    sprite = sampler.sample(4, 0, cls="potion", raw=True).sprites
    colours = {tuple(c) for c in sprite[sprite[..., 3] > 0][:, :3].tolist()}
    palette = {tuple(c) for c in sampler.colours[sampler.class_names.index("potion")].tolist()}
    assert colours <= palette  # the art's own colours, quantized from the files


def test_sprite_sheets_draws_every_class_of_the_shipped_models(tmp_path):
    values = load("sprite_sheets").main(["--quick", "--out", str(tmp_path)])
    assert values == {"written": ["samples.png", "plants64.png"]}
    check_pngs(tmp_path, values["written"])
    with Image.open(tmp_path / "samples.png") as im:
        assert im.height > 20 * 4 * 3  # 20 rows (ten plant species, ten garments) of 32 px sprites at 3x


# ---------------------------------------------------------------- refusals and bad arguments


@pytest.mark.parametrize("name", ["pca_lab", "denoising", "documents", "vae", "sparse_contractive", "own_art"])
def test_refuses_to_overwrite_without_force(name, request):
    out, _ = request.getfixturevalue(name)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    with pytest.raises(SystemExit) as err:
        load(name).main(["--quick", "--out", str(out)] + (["--model", "both"] if name == "vae" else []))
    assert "--force" in str(err.value.code) and "already exist" in str(err.value.code)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.png")} == before


@pytest.mark.parametrize("name, argv", [
    ("pca_lab", ["--k", "-3"]),
    ("denoising", ["--epochs", "0"]),
    ("denoising", ["--p", "1.5"]),
    ("denoising", ["--train-size", "59000", "--val-size", "2000"]),
    ("documents", ["--crop", "47"]),
    ("documents", ["--lr", "-1"]),
    ("vae", ["--model", "transformer"]),
    ("sparse_contractive", ["--rho", "1.0"]),
    ("sparse_contractive", ["--no-such-option"]),
    ("own_art", ["--per-class", "0"]),
])
def test_bad_arguments_exit_with_status_2(name, argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        load(name).main(["--quick", "--out", str(tmp_path / "never"), *argv])
    assert err.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_exit_statuses_from_the_command_line(tmp_path):
    """As a user runs them: status 2 for a bad argument, status 1 and a message for an existing file."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    script = str(EXAMPLES / "sparse_contractive.py")
    bad = subprocess.run([sys.executable, script, "--epochs", "zero"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--epochs" in bad.stderr
    (tmp_path / "summary.txt").write_text("a user's file\n")
    taken = subprocess.run([sys.executable, script, "--quick", "--out", str(tmp_path)], capture_output=True,
                           text=True, env=env)
    assert taken.returncode == 1 and "--force" in taken.stderr
    assert (tmp_path / "summary.txt").read_text() == "a user's file\n"
