"""Training the linear autoencoder to a tight minimum with tinyae's hand-written gradients.

The objective (``theory`` derives what its minimum must be):
    L(theta) = (1/N) sum_n sum_d (x_hat[n, d] - x[n, d])^2  +  lam (||W_enc||_F^2 + ||W_dec||_F^2)
The first term is the Autoencoder's own loss with loss="mse", reduction="batch" (sum over an
example's D values, mean over the N examples), differentiated by its layers' backward passes; the
weight decay touches the weights, not the biases, and adds 2 lam W to each weight's gradient.

Minibatch SGD reaches a 1e-6 angle only after a very long time, so the lab offers two full-batch
optimizers on the same (L, gradient):
    "lbfgs": scipy.optimize's L-BFGS-B, with the parameters flattened into one vector theta;
    "adam":  tinyae.optim.Adam for a fixed number of steps, its step size decayed on a cosine.
"""

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from tinyae.autoencoders import Autoencoder, linear_pair
from tinyae.optim import Adam


def linear_autoencoder(d, k, rng):
    """A float64 Autoencoder Dense(d, k) -> Dense(k, d) with identity activations and biases.

    The decoder starts at random (Glorot), the encoder at zero. Why zero: without weight decay L is flat
    along encoder directions in which the data does not vary (x W_enc does not see them), so random
    starting values there would stay forever and tilt the encoder's row space. Every gradient of
    W_enc is x^T (dL/dz), which lies in the span of the data, and so does every L-BFGS or Adam step:
    from zero, the encoder reaches the minimum-norm member of the family of minima.
    On uncentred data that argument weakens: x includes the mean mu, so W_enc also picks up mu's
    component along low-variance directions, where b_enc can absorb it and L is nearly flat. There the
    encoder's row space converges far more slowly than the decoder's (Fashion-MNIST, k = 2: ~1e-3 rad
    against 1e-4 centred), which is why the lab centres by default.
    """
    encoder, decoder = linear_pair(d, k, rng, np.float64)
    encoder.layers[0].params["W"][...] = 0
    return Autoencoder(encoder, decoder, loss="mse", reduction="batch")


def objective(model, x, lam):
    """L(theta) at the model's current parameters; fills every grad with dL/dparam."""
    value, _ = model.loss_and_grads(x)
    for name, w, g in model.parameters():
        if name.endswith(".W"):
            value += lam * np.sum(w * w)
            g += 2 * lam * w  # d/dW of lam ||W||_F^2
    return value


def get_vector(model):
    """theta: every parameter, flattened and concatenated in parameters() order."""
    return np.concatenate([p.ravel() for _, p, _ in model.parameters()])


def set_vector(model, theta):
    """Copy theta back into the parameter arrays (the inverse of get_vector)."""
    i = 0
    for _, p, _ in model.parameters():
        p[...] = theta[i:i + p.size].reshape(p.shape)  # (size,) -> the parameter's shape
        i += p.size


def grad_vector(model):
    return np.concatenate([g.ravel() for _, _, g in model.parameters()])


@dataclass
class FitInfo:
    optimizer: str      # what trained the model, in words
    iterations: int
    evaluations: int    # of (L, gradient)
    seconds: float
    objective: float    # L at the end
    message: str


def fit_lbfgs(model, x, lam, max_iter=5000):
    """Minimize L with L-BFGS-B until it can make no more progress in float64, or max_iter iterations."""
    evaluations = 0

    def value_and_gradient(theta):
        nonlocal evaluations
        evaluations += 1
        set_vector(model, theta)
        return objective(model, x, lam), grad_vector(model)

    start = time.perf_counter()
    # ftol = gtol = 0: stop only when a line search can no longer lower L (or at max_iter).
    result = scipy.optimize.minimize(value_and_gradient, get_vector(model), jac=True, method="L-BFGS-B",
                                     options={"maxiter": max_iter, "maxfun": 2 * max_iter, "ftol": 0.0,
                                              "gtol": 0.0, "maxcor": 30})
    set_vector(model, result.x)
    return FitInfo("L-BFGS (scipy L-BFGS-B on tinyae's gradients)", int(result.nit), evaluations,
                   time.perf_counter() - start, objective(model, x, lam), str(result.message))


def fit_adam(model, x, lam, steps=20000, lr=1e-2):
    """Full-batch tinyae Adam for ``steps`` steps, step size lr * (1 + cos(pi t / steps)) / 2."""
    opt = Adam(lr)
    start = time.perf_counter()
    for t in range(steps):
        opt.lr = lr * 0.5 * (1 + math.cos(math.pi * t / steps))
        objective(model, x, lam)
        opt.step(model.parameters())
    return FitInfo(f"Adam (tinyae, full batch, lr {lr:g} cosine-decayed)", steps, steps,
                   time.perf_counter() - start, objective(model, x, lam), f"{steps} steps")
