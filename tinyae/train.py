"""The minibatch training loop every tinyae model shares, and the protocol a model follows to use it.

A trainable model is any object with these methods (Autoencoder and VAE both follow it):

    model.parameters() -> [(name, param, grad), ...]
        Every trainable array beside its gradient buffer, the interface of ``tinyae.optim``.
    model.loss_and_grads(x, target, rng) -> (loss, parts)
        One forward pass with training=True and its backward pass: fills every grad with
        d loss / d param for this minibatch (overwriting, not accumulating), and returns the
        scalar loss and its named terms as floats, e.g. {"reconstruction": 0.021, "sparsity": 0.003}.
        ``target`` is what the output is compared with (None: x itself); ``rng`` is a
        numpy.random.Generator that feeds any randomness inside the model (denoising corruption,
        the VAE's reparameterization noise).
    model.evaluate(x, target, rng) -> (loss, parts)
        The same loss with training=False and no backward pass.
    A class-conditional model (ConditionalVAE) also takes ``labels=`` (N,) ints in both calls, and
    ``model.check_labels(labels, n)`` raises unless they suit it; ``fit(..., labels=...)`` passes them.
    model.to_checkpoint() -> (arrays, spec)   and   Class.from_checkpoint(arrays, spec) -> model
        Used by ``tinyae.models.save`` / ``load``; spec["model"] names the class there.

A model's loss must be an average over the examples of the batch (of whatever per-example
quantity), so the batch-size-weighted mean of batch losses is the loss of the whole set:
that is how the epoch losses in ``History`` are computed.

One epoch: draw a permutation of the training examples from ``rng``, then for each minibatch
    loss, parts = model.loss_and_grads(x[batch], target[batch], rng);  optimizer.step(model.parameters())
(with labels=labels[batch] when labels are given)
then evaluate the validation set (if any) in minibatches, in order.
"""

import math
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinyae import models
from tinyae.errors import TinyAEError


class NonFiniteLossError(TinyAEError, FloatingPointError):
    """The loss became NaN or infinite during training; the message names the epoch and step."""


@dataclass
class History:
    """What ``fit`` measured, one entry per completed epoch (epochs count from 1).

    loss, val_loss:   mean loss over the training / validation examples (val_loss empty without validation)
    parts, val_parts: the same means for each named term of the loss
    best_epoch:       the epoch with the lowest val_loss (None without validation)
    stopped_early:    patience ran out;   interrupted: Ctrl-C (KeyboardInterrupt) ended training
    seconds:          wall time of the whole fit
    """

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    val_parts: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def epochs(self):
        return len(self.loss)

    def as_dict(self):
        """A JSON-able copy, as stored in a checkpoint's spec["training"]["history"]."""
        return asdict(self)


class ProgressLine:
    """One line on stderr, rewritten in place with a carriage return:

        epoch 2/10  step 37/118  loss 0.02316  4,210 img/s  ETA 0:01:03

    Images/s is measured since the start of ``fit``; the ETA extrapolates it to the steps left.
    Redraws at most every ``interval`` seconds so printing never slows training down.
    """

    def __init__(self, epochs, steps_per_epoch, batch_size, interval=0.2):
        self.epochs, self.steps, self.batch_size, self.interval = epochs, steps_per_epoch, batch_size, interval
        self.start = self.last = time.perf_counter()
        self.images = 0
        self.width = 0

    def step(self, epoch, step, batch_images, loss):
        self.images += batch_images
        now = time.perf_counter()
        if now - self.last < self.interval and step != self.steps:
            return
        self.last = now
        rate = self.images / max(now - self.start, 1e-9)
        steps_left = (self.epochs - epoch) * self.steps + (self.steps - step)
        eta = steps_left * self.batch_size / max(rate, 1e-9)
        self._draw(f"epoch {epoch}/{self.epochs}  step {step}/{self.steps}  loss {loss:.5g}  "
                   f"{rate:,.0f} img/s  ETA {_clock(eta)}")

    def end_epoch(self, epoch, loss, val_loss):
        val = "" if val_loss is None else f"  val_loss {val_loss:.5g}"
        self._draw(f"epoch {epoch}/{self.epochs}  loss {loss:.5g}{val}  "
                   f"{_clock(time.perf_counter() - self.start)} elapsed")
        self.close()

    def close(self):
        """End the current line, so whatever is printed next starts on a fresh one."""
        if self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.width = 0

    def _draw(self, text):
        # Pad with spaces so a shorter line fully covers the longer one it replaces.
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)


def _clock(seconds):
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _InterruptFlag:
    """Turns the first Ctrl-C into a request to stop after the current step.

    Stopping between steps, rather than wherever the KeyboardInterrupt lands, never leaves an
    optimizer step half applied. A second Ctrl-C raises KeyboardInterrupt at once, as usual.
    Signal handlers can only be set from the main thread; elsewhere this does nothing and a
    KeyboardInterrupt is caught by ``fit`` wherever it arrives.
    """

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise _SecondInterrupt()
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


class _SecondInterrupt(KeyboardInterrupt):
    """Ctrl-C pressed twice: leave at once, without the clean stop."""


def fit(model, optimizer, x_train, target_train=None, *, epochs, batch_size, rng, x_val=None, target_val=None,
        val_fraction=0.0, patience=None, checkpoint_path=None, progress=True, on_epoch_end=None, force=False,
        labels=None, labels_val=None):
    """Train ``model`` with ``optimizer`` on minibatches of ``x_train``; returns a ``History``.

    x_train (N, ...) and target_train (N, ...) or None (the target is then x itself).
    labels (N,) ints, for a class-conditional model: each minibatch's rows go with their labels, and
        labels_val (one per row of x_val) with the validation set; val_fraction splits labels too.
    Validation: either x_val / target_val, or val_fraction in (0, 1), which holds out that fraction
    of x_train, drawn once from ``rng`` before the first epoch.
    patience: stop when val_loss has not improved for this many epochs, and put back the weights of
        the best epoch (needs validation). Without patience the weights of the last epoch are kept.
    checkpoint_path: after every epoch, ``tinyae.models.save`` writes the model and the training
        settings there, replacing the previous epoch's file atomically; at the end it holds exactly the
        returned model. A file that exists before training starts is refused unless ``force``.
    on_epoch_end(epoch, history): called after each epoch; returning True stops training.

    A NaN or infinite loss raises NonFiniteLossError naming the epoch and step, before that step
    updates anything; the checkpoint of the last completed epoch stays on disk.
    Ctrl-C stops after the current step, puts back the best weights (with patience), saves a
    checkpoint if checkpoint_path is given, and returns the history with interrupted=True.
    """
    _check_arguments(x_train, target_train, epochs, batch_size, rng, x_val, target_val, val_fraction, patience)
    _check_labels(model, labels, labels_val, x_train, x_val)
    if checkpoint_path is not None and Path(checkpoint_path).exists() and not force:
        raise FileExistsError(f"fit: checkpoint {checkpoint_path} already exists; pass force=True to overwrite it")
    target_train = x_train if target_train is None else target_train
    train_idx, val_set = _validation_split(x_train, target_train, labels, x_val, target_val, labels_val,
                                           val_fraction, rng)
    steps = math.ceil(len(train_idx) / batch_size)
    meter = ProgressLine(epochs, steps, batch_size) if progress else None
    settings = {"epochs": epochs, "batch_size": batch_size, "val_fraction": val_fraction, "patience": patience}
    history, best, since_best = History(), None, 0
    start = time.perf_counter()
    with _InterruptFlag() as interrupt:
        try:
            for epoch in range(1, epochs + 1):
                loss, parts = _train_epoch(model, optimizer, x_train, target_train, labels, train_idx, batch_size,
                                           rng, epoch, meter, interrupt, checkpoint_path, history)
                if interrupt.requested:
                    raise KeyboardInterrupt
                val_loss, val_parts = (None, {}) if val_set is None else _evaluate(model, *val_set, batch_size, rng)
                if val_loss is not None and not math.isfinite(val_loss):
                    raise NonFiniteLossError(f"fit: the validation loss became {val_loss} after epoch {epoch}"
                                             + _kept(checkpoint_path, history))
                history.loss.append(loss)
                history.parts.append(parts)
                if val_loss is not None:
                    history.val_loss.append(val_loss)
                    history.val_parts.append(val_parts)
                    if history.best_epoch is None or val_loss < history.val_loss[history.best_epoch - 1]:
                        history.best_epoch, best, since_best = epoch, _snapshot(model), 0
                    else:
                        since_best += 1
                if meter:
                    meter.end_epoch(epoch, loss, val_loss)
                history.seconds = time.perf_counter() - start
                if checkpoint_path is not None:
                    _save(model, optimizer, checkpoint_path, settings, history)
                if on_epoch_end is not None and on_epoch_end(epoch, history):
                    break
                if patience is not None and since_best >= patience:
                    history.stopped_early = True
                    break
                if interrupt.requested:  # Ctrl-C during validation or saving
                    raise KeyboardInterrupt
        except _SecondInterrupt:
            raise
        except KeyboardInterrupt:
            history.interrupted = True
        finally:
            if meter:
                meter.close()
    if patience is not None and best is not None:
        _restore(model, best)
    history.seconds = time.perf_counter() - start
    if checkpoint_path is not None and (history.interrupted or patience is not None):
        _save(model, optimizer, checkpoint_path, settings, history)
    return history


def _train_epoch(model, optimizer, x, target, labels, train_idx, batch_size, rng, epoch, meter, interrupt,
                 checkpoint_path, history):
    """One pass over the shuffled training examples; returns the example-weighted mean loss and parts."""
    order = train_idx[rng.permutation(len(train_idx))]
    steps = math.ceil(len(order) / batch_size)
    total, parts_total, seen = 0.0, {}, 0
    for step in range(1, steps + 1):
        batch = order[(step - 1) * batch_size: step * batch_size]
        loss, parts = model.loss_and_grads(x[batch], target[batch], rng, **_labels_of(labels, batch))
        if not math.isfinite(loss):
            raise NonFiniteLossError(f"fit: the training loss became {loss} at epoch {epoch}, step {step}/{steps}; "
                                     f"this step updated nothing" + _kept(checkpoint_path, history))
        optimizer.step(model.parameters())
        n = len(batch)
        total += n * loss
        for k, v in parts.items():
            parts_total[k] = parts_total.get(k, 0.0) + n * v
        seen += n
        if meter:
            meter.step(epoch, step, n, loss)
        if interrupt.requested:
            break
    return total / max(seen, 1), {k: v / max(seen, 1) for k, v in parts_total.items()}


def _labels_of(labels, batch):
    """The keyword arguments that hand a minibatch its labels: none for a model trained without labels."""
    return {} if labels is None else {"labels": labels[batch]}


def _evaluate(model, x, target, labels, idx, batch_size, rng):
    """Example-weighted mean of model.evaluate over x[idx] in minibatches, in order."""
    total, parts_total = 0.0, {}
    for i in range(0, len(idx), batch_size):
        batch = idx[i: i + batch_size]
        loss, parts = model.evaluate(x[batch], target[batch], rng, **_labels_of(labels, batch))
        total += len(batch) * loss
        for k, v in parts.items():
            parts_total[k] = parts_total.get(k, 0.0) + len(batch) * v
    return total / len(idx), {k: v / len(idx) for k, v in parts_total.items()}


def evaluate(model, x, target=None, *, batch_size=256, rng, labels=None):
    """The model's loss and parts over a whole set, averaged over its examples (labels: (N,), if it takes them)."""
    target = x if target is None else target
    return _evaluate(model, x, target, labels, np.arange(len(x)), batch_size, rng)


def _validation_split(x, target, labels, x_val, target_val, labels_val, val_fraction, rng):
    """Training indices into x, and (x, target, labels, indices) of the validation set or None."""
    n = len(x)
    if x_val is not None:
        target_val = x_val if target_val is None else target_val
        return np.arange(n), (x_val, target_val, labels_val, np.arange(len(x_val)))
    if val_fraction == 0:
        return np.arange(n), None
    n_val = max(1, int(round(n * val_fraction)))
    perm = rng.permutation(n)
    return np.sort(perm[n_val:]), (x, target, labels, np.sort(perm[:n_val]))


def _check_arguments(x, target, epochs, batch_size, rng, x_val, target_val, val_fraction, patience):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"fit: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"fit: {name} must be an integer >= 1, got {value!r}")
    if not isinstance(x, np.ndarray) or x.ndim < 2 or len(x) == 0:
        raise ValueError(f"fit: x_train must be a non-empty array of shape (N, ...), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    for name, t, ref in (("target_train", target, x), ("target_val", target_val, x_val)):
        if t is not None and (ref is None or len(t) != len(ref)):
            raise ValueError(f"fit: {name} must have one row per input row ({None if ref is None else len(ref)}), "
                             f"got {len(t)}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"fit: val_fraction must be in [0, 1), got {val_fraction}")
    if x_val is not None and val_fraction:
        raise ValueError("fit: give either x_val or val_fraction, not both")
    if val_fraction and len(x) - max(1, int(round(len(x) * val_fraction))) < 1:
        raise ValueError(f"fit: val_fraction {val_fraction} leaves no training examples out of {len(x)}")
    if patience is not None:
        if not isinstance(patience, (int, np.integer)) or patience < 1:
            raise ValueError(f"fit: patience must be an integer >= 1 or None, got {patience!r}")
        if x_val is None and not val_fraction:
            raise ValueError("fit: patience (early stopping) needs validation data: pass x_val or val_fraction > 0")


def _check_labels(model, labels, labels_val, x, x_val):
    """Labels come with every set or with none, one integer per row, and suit the model (its check_labels)."""
    if labels is None:
        if labels_val is not None:
            raise ValueError("fit: labels_val given without labels; pass the training labels too")
        return
    check = getattr(model, "check_labels", None)
    if check is None:
        raise ValueError(f"fit: labels given, but a {type(model).__name__} takes no labels")
    if (x_val is None) != (labels_val is None):
        raise ValueError("fit: with labels, x_val and labels_val go together (one label per validation row); "
                         f"got x_val {'None' if x_val is None else 'given'}, "
                         f"labels_val {'None' if labels_val is None else 'given'}")
    for name, given, rows in (("labels", labels, x), ("labels_val", labels_val, x_val)):
        if given is None:
            continue
        if not isinstance(given, np.ndarray) or given.dtype.kind not in "iu" or given.shape != (len(rows),):
            found = (f"{given.dtype} array of shape {given.shape}" if isinstance(given, np.ndarray)
                     else type(given).__name__)
            raise ValueError(f"fit: {name} must be an integer array of shape ({len(rows)},), one per row, got {found}")
        check(given, len(rows))  # the model's own rule, e.g. values in 0..n_classes-1


def _snapshot(model):
    return {name: p.copy() for name, p, _ in model.parameters()}


def _restore(model, state):
    for name, p, _ in model.parameters():
        p[...] = state[name]


def optimizer_settings(optimizer):
    """The optimizer's class and hyperparameters (its plain-number attributes), for a checkpoint's spec."""
    numbers = {k: v for k, v in vars(optimizer).items() if isinstance(v, (bool, int, float)) and k != "t"}
    return {"name": type(optimizer).__name__, **numbers, "steps": int(getattr(optimizer, "t", 0))}


def _save(model, optimizer, path, settings, history):
    training = {**settings, "optimizer": optimizer_settings(optimizer), "history": history.as_dict()}
    models.save(model, path, force=True, training=training)


def _kept(checkpoint_path, history):
    if checkpoint_path is None:
        return ""
    if history.epochs == 0:
        return f"; no epoch completed, so nothing was written to {checkpoint_path}"
    return f"; {checkpoint_path} keeps the checkpoint of epoch {history.epochs}, the last good one"
