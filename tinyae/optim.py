"""Optimizers behind one interface: ``opt.step(params)`` over every (name, param, grad) triple.

Each updates the parameter arrays in place, keeps its per-parameter state keyed by name, and
never touches gradients. Weight decay is L2 regularization folded into the gradient,
g <- g + wd * w, i.e. the gradient of (wd / 2) * ||w||^2 (coupled, as in torch.optim).
"""

import numpy as np

from tinyae import kernels


class Optimizer:
    def __init__(self, lr, weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"{type(self).__name__}: lr must be > 0, got {lr}")
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.state = {}
        self.t = 0

    def step(self, params):
        """Apply one update to every (name, param, grad)."""
        self.t += 1
        for name, p, g in params:
            if self.weight_decay:
                g = g + self.weight_decay * p
            self.update(name, p, g)

    def slot(self, name, p, key):
        """A zero-initialized state buffer for parameter ``name``, e.g. its velocity."""
        slots = self.state.setdefault(name, {})
        if key not in slots:  # not setdefault(key, zeros_like(p)): that builds the zeros every step
            slots[key] = np.zeros_like(p)
        return slots[key]


class SGD(Optimizer):
    """v <- mu v + g;  w <- w - lr v    (Nesterov: w <- w - lr (g + mu v))."""

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), nesterov

    def update(self, name, p, g):
        if self.momentum == 0:
            p -= self.lr * g
            return
        v = self.slot(name, p, "v")
        v *= self.momentum
        v += g
        p -= self.lr * (g + self.momentum * v if self.nesterov else v)


class RMSprop(Optimizer):
    """s <- rho s + (1 - rho) g^2;  w <- w - lr g / (sqrt(s) + eps)."""

    def __init__(self, lr=1e-3, rho=0.9, eps=1e-7, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.rho, self.eps = float(rho), float(eps)

    def update(self, name, p, g):
        s = self.slot(name, p, "s")
        s *= self.rho
        s += (1 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction:

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^t)          v_hat = v / (1 - b2^t)
        w <- w - lr m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def update(self, name, p, g):
        m, v = self.slot(name, p, "m"), self.slot(name, p, "v")
        # Fold both bias corrections into one step size: lr * sqrt(1 - b2^t) / (1 - b1^t).
        step = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        eps_hat = self.eps * np.sqrt(1 - self.beta2 ** self.t)
        # m, v and p in one pass (tinyae/kernels/adam.py has the same lines in NumPy)
        kernels.adam_update(p, g, m, v, self.beta1, self.beta2, step, eps_hat)


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}
