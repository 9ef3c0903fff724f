"""The equivalence lab: train a linear autoencoder twice on the same data, without and with weight
decay, and hold each against PCA with the measurements of ``criteria``.

    from tinyae.lab import pca_check, synthetic_data, synthetic_spectrum, format_report
    x = synthetic_data(2000, synthetic_spectrum(20), np.random.default_rng(0))
    result = pca_check(x, k=2, rng=np.random.default_rng(1))
    print(format_report(result))

What must happen (``theory``): both runs span the PCA subspace (criterion 1); the run without
decay reaches PCA's error and the decayed run the error Kunin et al. predict (2); only the decayed
run recovers the individual components, the eigenvalues and W_enc = W_dec^T (3). The run without
decay failing (3) is the negative control: it shows that criterion (3) can fail.
"""

from dataclasses import dataclass

import numpy as np

from tinyae.errors import ShapeError
from tinyae.lab import criteria, theory
from tinyae.lab.data import moment_rows
from tinyae.lab.linear_fit import fit_adam, fit_lbfgs, linear_autoencoder
from tinyae.pca import PCA


@dataclass
class Run:
    fit: object           # linear_fit.FitInfo
    measured: object      # criteria.Measurement
    objective_min: float  # theory's min L, to compare with fit.objective


@dataclass
class LabResult:
    dataset: str
    n: int
    d: int
    k: int
    centered: bool
    rows: str             # what the loss was evaluated on, in words
    eigenvalues: np.ndarray
    components: np.ndarray  # (k, D) PCA components
    control: Run          # lam = 0
    decayed: Run          # lam > 0

    def passed(self):
        """The lab's claim: both runs pass (1) and (2); only the decayed run passes (3)."""
        c, w = self.control.measured, self.decayed.measured
        return (c.passes_subspace() and c.passes_error() and not c.passes_components()
                and w.passes_subspace() and w.passes_error() and w.passes_components())


def pca_check(x, k, *, rng, weight_decay=None, centered=True, optimizer="lbfgs", rows="moments", max_iter=5000,
              adam_steps=20000, adam_lr=1e-2, angle_tol=criteria.ANGLE_TOL, dataset="data"):
    """Run the lab on x (N, D); returns a LabResult.

    weight_decay: lam for the decayed run; None picks e_k / 2 (far enough from 0 that the singular
        values s_i = sqrt(1 - lam / e_i) differ clearly, far enough from e_k that none vanishes).
    centered: subtract the mean first (faster to optimize); otherwise the biases learn it.
    optimizer: "lbfgs" or "adam" (see ``linear_fit``). rows: "moments" evaluates L on the 2r
        moment-matched rows (same L and gradients as the data, see ``data.moment_rows``), "data" on x itself.
    Both runs start from the same initial weights, drawn from rng.
    """
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        raise ShapeError(f"pca_check: expected data of shape (N, D), got {getattr(x, 'shape', type(x).__name__)}")
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"pca_check: optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    if rows not in ("moments", "data"):
        raise ValueError(f"pca_check: rows must be 'moments' or 'data', got {rows!r}")
    n, d = x.shape
    if not 1 <= k < d:
        raise ValueError(f"pca_check: k must be in [1, D) = [1, {d}), got {k}")
    x = x.astype(np.float64)
    if centered:
        x = x - x.mean(axis=0)
    pca = PCA(k).fit(x)
    e = pca.eigenvalues_
    lam = e[k - 1] / 2 if weight_decay is None else float(weight_decay)
    theory.check_weight_decay(lam, e, k)
    if lam == 0:
        raise ValueError("pca_check: the weight decay must be > 0 (the run without it is always made)")
    train_rows = moment_rows(x) if rows == "moments" else x
    described = (f"{len(train_rows)} moment-matched rows (the data's mean and covariance, so the same loss "
                 f"and gradients as its {n} rows)" if rows == "moments" else f"the {n} data rows")
    seed = int(rng.integers(2**63))

    def run(l):
        model = linear_autoencoder(d, k, np.random.default_rng(seed))
        if optimizer == "lbfgs":
            info = fit_lbfgs(model, train_rows, l, max_iter)
        else:
            info = fit_adam(model, train_rows, l, adam_steps, adam_lr)
        return Run(info, criteria.measure(model, x, pca, l, angle_tol), theory.predicted_minimum(e, k, l))

    return LabResult(dataset, n, d, k, centered, described, e.copy(), pca.components_.copy(), run(0.0), run(lam))
