"""The training loop: determinism, early stopping, NaN, Ctrl-C, validation, progress, argument errors.

Most tests use ToyLine, the smallest model that follows the trainable-model protocol: one parameter
w whose training gradient is always +1, so SGD(lr=1) lowers w by exactly 1 per step, and whose
validation loss is (w - 6)^2. Every epoch is one step (batch_size = N), so the whole run is known
in advance: w = 10 - epoch, val_loss = (4 - epoch)^2, best at epoch 4.
"""

import math
import signal

import numpy as np
import pytest

from tinyae import checkpoint, models
from tinyae.autoencoders import Autoencoder, dense_pair
from tinyae.optim import SGD, Adam
from tinyae.train import History, NonFiniteLossError, fit


@models.register
class ToyLine:
    def __init__(self, w=10.0, nan_at=None, on_call=None):
        self.w, self.g = np.array([float(w)]), np.zeros(1)
        self.calls, self.nan_at, self.on_call = 0, nan_at, on_call

    def parameters(self):
        return [("w", self.w, self.g)]

    def loss_and_grads(self, x, target, rng):
        self.calls += 1
        if self.on_call is not None:
            self.on_call(self.calls)
        self.g[...] = 1.0
        loss = math.nan if self.calls == self.nan_at else float((self.w[0] - 6) ** 2)
        return loss, {"square": loss}

    def evaluate(self, x, target, rng):
        loss = float((self.w[0] - 6) ** 2)
        return loss, {"square": loss}

    def to_checkpoint(self):
        return {"w": self.w.copy()}, {"model": "ToyLine"}

    @classmethod
    def from_checkpoint(cls, arrays, spec):
        return cls(arrays["w"][0])


X = np.zeros((4, 1))


def _fit_line(model, tmp_path=None, **kw):
    kw = {"epochs": 8, "batch_size": 4, "rng": np.random.default_rng(0), "x_val": X, "progress": False, **kw}
    if tmp_path is not None:
        kw["checkpoint_path"] = tmp_path / "line.npz"
    return fit(model, SGD(lr=1.0), X, **kw)


def test_early_stopping_restores_the_best_weights_and_saves_them(tmp_path):
    model = ToyLine()
    history = _fit_line(model, tmp_path, patience=2)
    assert history.val_loss == [9.0, 4.0, 1.0, 0.0, 1.0, 4.0]  # stops 2 epochs after the best
    assert history.best_epoch == 4 and history.stopped_early and not history.interrupted
    assert model.w[0] == 6.0  # epoch 4's weights, not epoch 6's (4.0)
    arrays, spec = checkpoint.load(tmp_path / "line.npz")
    assert arrays["w"][0] == 6.0 and spec["training"]["history"]["best_epoch"] == 4


def test_without_patience_the_last_weights_are_kept():
    model = ToyLine()
    history = _fit_line(model, epochs=6)
    assert history.best_epoch == 4 and not history.stopped_early and model.w[0] == 4.0


def test_nan_loss_names_epoch_and_step_and_keeps_last_good_checkpoint(tmp_path):
    model = ToyLine(nan_at=6)  # batch_size 2: two steps per epoch, so call 6 is epoch 3, step 2
    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 3, step 2/2.*keeps the checkpoint of epoch 2"):
        _fit_line(model, tmp_path, batch_size=2)
    assert model.w[0] == 5.0  # 5 steps applied; the NaN step updated nothing
    arrays, spec = checkpoint.load(tmp_path / "line.npz")
    assert arrays["w"][0] == 6.0  # after epoch 2 = 4 steps
    assert len(spec["training"]["history"]["loss"]) == 2


def test_keyboard_interrupt_saves_and_marks_history(tmp_path):
    def interrupt(call):
        if call == 3:
            raise KeyboardInterrupt

    model = ToyLine(on_call=interrupt)
    history = _fit_line(model, tmp_path)
    assert history.interrupted and history.epochs == 2
    assert models.load(tmp_path / "line.npz").w[0] == model.w[0] == 8.0
    assert checkpoint.load(tmp_path / "line.npz")[1]["training"]["history"]["interrupted"] is True


def test_ctrl_c_stops_after_the_current_step_is_fully_applied(tmp_path):
    """A real SIGINT: fit finishes the step it is in (its update applied), saves, and returns."""
    model = ToyLine(on_call=lambda call: call == 3 and signal.raise_signal(signal.SIGINT))
    history = _fit_line(model, tmp_path, batch_size=2)  # two steps per epoch: call 3 is epoch 2, step 1
    assert history.interrupted and history.epochs == 1
    assert model.calls == 3 and model.w[0] == 7.0  # the interrupted step's update was applied
    assert models.load(tmp_path / "line.npz").w[0] == 7.0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # fit put the handler back


def test_on_epoch_end_can_stop_training():
    seen = []
    history = _fit_line(ToyLine(), on_epoch_end=lambda epoch, h: seen.append(epoch) or epoch == 3)
    assert seen == [1, 2, 3] and history.epochs == 3


def _autoencoder(seed=0):
    return Autoencoder(*dense_pair((1, 4, 4), 3, (8,), rng=np.random.default_rng(seed)), loss="bce_with_logits")


def _data():
    return np.random.default_rng(5).random((50, 1, 4, 4)).astype(np.float32)


def test_same_seed_same_run_bit_for_bit():
    runs = []
    for _ in range(2):
        model = _autoencoder()
        history = fit(model, Adam(1e-2), _data(), epochs=3, batch_size=8, rng=np.random.default_rng(1),
                      val_fraction=0.2, progress=False)
        runs.append((history, model.parameters()))
    (h1, p1), (h2, p2) = runs
    assert h1.loss == h2.loss and h1.val_loss == h2.val_loss
    assert all(np.array_equal(a, b) for (_, a, _), (_, b, _) in zip(p1, p2))
    other = fit(_autoencoder(), Adam(1e-2), _data(), epochs=3, batch_size=8, rng=np.random.default_rng(2),
                val_fraction=0.2, progress=False)
    assert other.loss != h1.loss  # the seed matters: shuffling and the validation split come from rng


def test_epoch_loss_is_the_example_weighted_mean_and_parts_add_up():
    model, x = _autoencoder(), _data()
    history = fit(model, Adam(1e-3), x, epochs=1, batch_size=50, rng=np.random.default_rng(0), progress=False)
    assert isinstance(history, History)
    # One full batch: the epoch loss is the loss at the starting weights.
    assert history.loss[0] == pytest.approx(_autoencoder().evaluate(x)[0], rel=1e-6)
    assert history.parts[0]["reconstruction"] == pytest.approx(history.loss[0], rel=1e-12)


def test_progress_line_on_stderr_and_quiet(capsys):
    fit(_autoencoder(), Adam(1e-3), _data(), epochs=2, batch_size=10, rng=np.random.default_rng(0))
    err = capsys.readouterr().err
    for piece in ("\r", "epoch 1/2", "step 5/5", "loss", "img/s", "ETA", "epoch 2/2"):
        assert piece in err
    fit(_autoencoder(), Adam(1e-3), _data(), epochs=1, batch_size=10, rng=np.random.default_rng(0), progress=False)
    assert capsys.readouterr().err == ""


def test_arguments_are_checked(tmp_path):
    kw = {"epochs": 1, "batch_size": 4, "progress": False}
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        fit(ToyLine(), SGD(1.0), X, rng=0, **kw)
    with pytest.raises(ValueError, match="patience .* needs validation"):
        fit(ToyLine(), SGD(1.0), X, rng=np.random.default_rng(0), patience=2, **kw)
    with pytest.raises(ValueError, match="not both"):
        fit(ToyLine(), SGD(1.0), X, rng=np.random.default_rng(0), x_val=X, val_fraction=0.5, **kw)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        fit(ToyLine(), SGD(1.0), X, rng=np.random.default_rng(0), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="target_train must have one row per input row"):
        fit(ToyLine(), SGD(1.0), X, np.zeros((3, 1)), rng=np.random.default_rng(0), **kw)
    existing = tmp_path / "mine.npz"
    existing.write_bytes(b"a file the user cares about")
    with pytest.raises(FileExistsError, match="force=True"):
        fit(ToyLine(), SGD(1.0), X, rng=np.random.default_rng(0), checkpoint_path=existing, **kw)
    assert existing.read_bytes() == b"a file the user cares about"
