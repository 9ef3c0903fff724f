"""The ``tinyae`` console script: dispatch, exit statuses, and each subcommand end to end (small sizes)."""

import numpy as np
import pytest

from tinyae import checkpoint, cli, models
from tinyae.errors import DataError


def test_no_command_and_bad_arguments_exit_2_with_usage(capsys):
    assert cli.main([]) == 2
    assert "usage: tinyae" in capsys.readouterr().err
    for argv in (["pca-check", "--k", "0"], ["pca-check", "--dataset", "cifar"], ["frobnicate"],
                 ["train", "--epochs", "2"], ["pca-check", "--centered", "--uncentered"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2, argv
        assert "usage:" in capsys.readouterr().err


def test_pca_check_synthetic_prints_the_table_and_the_png(tmp_path, capsys):
    png = tmp_path / "lab.png"
    assert cli.main(["pca-check", "--dataset", "synthetic", "--k", "2", "--d", "10", "--n", "300",
                     "--png", str(png)]) == 0
    out = capsys.readouterr().out
    for piece in ("(1) max angle decoder vs PCA", "(2) reconstruction MSE", "(3) min |cos", "L-BFGS",
                  "moment-matched rows", "PASS"):
        assert piece in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # An existing PNG is not replaced without --force: exit 1, a message, the file untouched.
    png.write_bytes(b"mine")
    assert cli.main(["pca-check", "--n", "300", "--d", "10", "--png", str(png)]) == 1
    assert "already exists" in capsys.readouterr().err and png.read_bytes() == b"mine"


def test_pca_check_rejects_a_weight_decay_beyond_e_k(capsys):
    assert cli.main(["pca-check", "--n", "300", "--d", "10", "--weight-decay", "100"]) == 1
    assert "lam must be in [0, e_k)" in capsys.readouterr().err


def test_info_on_a_damaged_file_exits_1(tmp_path, capsys):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert cli.main(["info", str(tmp_path / "bad.npz")]) == 1
    assert "is not an .npz" in capsys.readouterr().err


def test_register_command_extends_the_cli(capsys):
    def add(p):
        p.add_argument("--times", type=int, default=1)

    def run(args):
        print("hello " * args.times)
        return 0

    cli.register_command("hello", "say hello", add, run)
    try:
        assert cli.main(["hello", "--times", "2"]) == 0
        assert "hello hello" in capsys.readouterr().out
    finally:
        del cli.COMMANDS["hello"]


def test_train_then_info(tmp_path, capsys):
    from tinyae.datasets.fashion_mnist import load_fashion_mnist
    try:
        load_fashion_mnist("test")
    except DataError as err:
        pytest.skip(f"Fashion-MNIST not available: {err}")
    out = tmp_path / "ae.npz"
    argv = ["train", "--model", "denoising", "--n", "300", "--epochs", "2", "--hidden", "16", "--code", "4",
            "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "done after 2 epochs" in printed and "test loss" in printed
    model = models.load(out)
    assert type(model).__name__ == "DenoisingAutoencoder" and model.in_shape == (1, 28, 28)
    assert checkpoint.load(out)[1]["training"]["history"]["loss"][-1] > 0
    assert cli.main(argv) == 1  # the checkpoint exists now: refused without --force
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    for piece in ("DenoisingAutoencoder", "corruption: masking", "Total params", "epochs done 2"):
        assert piece in info
    x = np.zeros((1, 1, 28, 28), dtype=np.float32)
    assert model.reconstruct(x).shape == x.shape
