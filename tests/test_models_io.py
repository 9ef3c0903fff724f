"""Model checkpoints: bit-identical round trips, and clear errors for every way a file can be wrong."""

import io
import zipfile

import numpy as np
import pytest

from tinyae import checkpoint, models
from tinyae.autoencoders import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder,
                                 conv_pair, dense_pair)
from tinyae.errors import CheckpointError
from tinyae.optim import Adam
from tinyae.train import fit

SHAPE = (1, 8, 8)


def _build(kind, dtype):
    rng = np.random.default_rng(0)
    if kind == "conv":
        return Autoencoder(*conv_pair(SHAPE, 4, (2, 3), rng=rng, dtype=dtype), loss="bce_with_logits", in_shape=SHAPE)
    if kind == "sparse":
        return SparseAutoencoder(*dense_pair(SHAPE, 4, (6,), "sigmoid", rng, dtype), rho=0.1, beta=0.5)
    if kind == "contractive":
        return ContractiveAutoencoder(*dense_pair(SHAPE, 4, (), "sigmoid", rng, dtype), lam=0.3, reduction="batch")
    if kind == "denoising":
        return DenoisingAutoencoder(*dense_pair(SHAPE, 4, (6,), rng=rng, dtype=dtype), corruption="gaussian",
                                    level=0.2)
    return Autoencoder(*dense_pair(SHAPE, 4, (6,), rng=rng, dtype=dtype), in_shape=SHAPE)


def _trained(kind, dtype, path=None):
    """A model moved away from its initialization, so a loader that re-initialized would be caught."""
    model = _build(kind, dtype)
    x = np.random.default_rng(1).random((32, *SHAPE)).astype(dtype)
    fit(model, Adam(1e-2), x, epochs=2, batch_size=8, rng=np.random.default_rng(2), progress=False,
        checkpoint_path=path)
    return model, x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["dense", "conv", "sparse", "contractive", "denoising"])
def test_round_trip_is_bit_identical(tmp_path, kind, dtype):
    model, x = _trained(kind, dtype)
    models.save(model, tmp_path / "m.npz")
    loaded = models.load(tmp_path / "m.npz")
    assert type(loaded) is type(model) and loaded.settings() == model.settings()
    assert np.array_equal(loaded.encode(x), model.encode(x))
    assert np.array_equal(loaded.reconstruct(x), model.reconstruct(x))
    assert loaded.reconstruct(x).dtype == dtype
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert loaded.evaluate(x, rng=rng_a) == model.evaluate(x, rng=rng_b)


def test_fit_checkpoint_holds_the_model_and_training_settings(tmp_path):
    model, x = _trained("sparse", np.float32, tmp_path / "run.npz")
    _, spec = checkpoint.load(tmp_path / "run.npz")
    training = spec["training"]
    assert training["epochs"] == 2 and training["batch_size"] == 8
    assert training["optimizer"]["name"] == "Adam" and training["optimizer"]["lr"] == 0.01
    assert training["optimizer"]["steps"] == 8 and len(training["history"]["loss"]) == 2
    assert np.array_equal(models.load(tmp_path / "run.npz").reconstruct(x), model.reconstruct(x))


def test_save_refuses_to_overwrite_without_force(tmp_path):
    model, _ = _trained("dense", np.float32)
    path = tmp_path / "m.npz"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        models.save(model, path)
    assert path.read_bytes() == b"precious"
    models.save(model, path, force=True)
    assert isinstance(models.load(path), Autoencoder)


def test_truncated_file_is_a_checkpoint_error(tmp_path):
    model, _ = _trained("dense", np.float32)
    models.save(model, tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        models.load(tmp_path / "cut.npz")


def test_flipped_bit_is_a_checkpoint_error(tmp_path):
    model, _ = _trained("dense", np.float32)
    models.save(model, tmp_path / "m.npz")
    data = bytearray((tmp_path / "m.npz").read_bytes())
    at = bytes(data).find(model.encoder.layers[1].params["W"].tobytes())
    assert at > 0
    data[at + 100] ^= 0x01  # one bit of one weight: the zip's CRC-32 catches it
    (tmp_path / "m.npz").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="m.npz is corrupt"):
        models.load(tmp_path / "m.npz")


def test_weights_edited_in_a_rewritten_archive_are_a_checkpoint_error(tmp_path):
    """Whoever rewrites the archive recomputes its CRCs; the sha256 in the spec still catches the edit."""
    model, _ = _trained("dense", np.float32)
    models.save(model, tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as src, zipfile.ZipFile(tmp_path / "edited.npz", "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name == "encoder.1.W.npy":
                w = np.load(io.BytesIO(content))
                w[0, 0] += 1
                buffer = io.BytesIO()
                np.save(buffer, w)
                content = buffer.getvalue()
            dst.writestr(name, content)
    with pytest.raises(CheckpointError, match="'encoder.1.W' has sha256 .* modified or damaged"):
        models.load(tmp_path / "edited.npz")


def test_arrays_that_do_not_fit_the_architecture(tmp_path):
    model, _ = _trained("dense", np.float32)
    arrays, spec = model.to_checkpoint()
    spec["encoder"]["layers"][3]["n_out"] = 5  # the code layer claims 5 units; the saved W has 4
    checkpoint.save(tmp_path / "m.npz", arrays, spec)
    with pytest.raises(CheckpointError, match="does not fit the model"):
        models.load(tmp_path / "m.npz")


def test_unknown_model_and_broken_spec(tmp_path):
    model, _ = _trained("dense", np.float32)
    arrays, spec = model.to_checkpoint()
    checkpoint.save(tmp_path / "unknown.npz", arrays, {**spec, "model": "Transformer"})
    with pytest.raises(CheckpointError, match="'Transformer', expected one of"):
        models.load(tmp_path / "unknown.npz")
    broken = {k: v for k, v in spec.items() if k != "decoder"}
    checkpoint.save(tmp_path / "broken.npz", arrays, broken)
    with pytest.raises(CheckpointError, match="does not describe a valid Autoencoder"):
        models.load(tmp_path / "broken.npz")


def test_unregistered_class_cannot_be_saved(tmp_path):
    class Custom(Autoencoder):  # not decorated with @register
        pass

    model = Custom(*dense_pair(SHAPE, 4, (6,)))
    with pytest.raises(ValueError, match="not registered"):
        models.save(model, tmp_path / "m.npz")
