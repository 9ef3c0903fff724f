"""The lab's printed table and its picture."""

import numpy as np

from tinyae.lab import criteria
from tinyae.plots import row_comparison


def _mark(ok):
    return "pass" if ok else "FAIL"


def format_report(r):
    """A plain-text report of a LabResult: settings, the objective, one column per run, then per component."""
    c, w = r.control, r.decayed
    cm, wm = c.measured, w.measured
    lam = wm.lam
    lines = [
        f"linear autoencoder vs PCA on {r.dataset}: N = {r.n}, D = {r.d}, k = {r.k}, "
        f"{'centered' if r.centered else 'uncentered (the biases learn the mean)'}",
        "objective: L = (1/N) sum_n ||x_hat_n - x_n||^2 + lam (||W_enc||_F^2 + ||W_dec||_F^2), biases not decayed",
        f"optimizer: {c.fit.optimizer}",
        f"L evaluated on: {r.rows}",
        "",
    ]
    rows = [
        ("", "no weight decay (control)", f"weight decay lam = {lam:.6g}"),
        ("iterations, evaluations, seconds", f"{c.fit.iterations}, {c.fit.evaluations}, {c.fit.seconds:.1f} s",
         f"{w.fit.iterations}, {w.fit.evaluations}, {w.fit.seconds:.1f} s"),
        ("L - predicted min L", f"{c.fit.objective - c.objective_min:.2e}", f"{w.fit.objective - w.objective_min:.2e}"),
        ("(1) max angle decoder vs PCA [rad]", f"{cm.angle_decoder:.2e}", f"{wm.angle_decoder:.2e}"),
        ("(1) max angle encoder vs PCA [rad]", f"{cm.angle_encoder:.2e}", f"{wm.angle_encoder:.2e}"),
        (f"    < {cm.angle_tol:g}", _mark(cm.passes_subspace()), _mark(wm.passes_subspace())),
        ("(2) reconstruction MSE", f"{cm.mse:.10f}", f"{wm.mse:.10f}"),
        ("    predicted (PCA; PCA + lam^2/e)", f"{cm.mse_predicted:.10f}", f"{wm.mse_predicted:.10f}"),
        (f"    relative difference <= {criteria.MSE_RTOL:g}", f"{cm.mse_rel_error:.2e} {_mark(cm.passes_error())}",
         f"{wm.mse_rel_error:.2e} {_mark(wm.passes_error())}"),
        ("(3) min |cos(u_i, PCA_i)| (separated)", _min(cm.cos, cm.separated), _min(wm.cos, wm.separated)),
        ("    max rel. error of lam/(1 - s^2)", "n/a (lam = 0)", _max(wm.eigen_rel_error, wm.separated)),
        ("    ||W_enc - W_dec^T|| / ||W_dec||", f"{cm.symmetry:.2e}", f"{wm.symmetry:.2e}"),
        ("    all three", _mark(cm.passes_components()), _mark(wm.passes_components())),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines += [f"{a:<{widths[0]}}   {b:<{widths[1]}}   {c_:<{widths[2]}}".rstrip() for a, b, c_ in rows]
    lines += ["", f"per component, weight decay lam = {lam:.6g} (separated: relative eigengap >= {criteria.GAP_MIN:g}):",
              f"{'i':>3}  {'PCA eigenvalue':>15}  {'lam/(1-s_i^2)':>15}  {'rel. error':>10}  {'|cos|':>10}  "
              f"{'gap':>6}  separated"]
    gaps = criteria.relative_gaps(r.eigenvalues, r.k)
    for i in range(r.k):
        lines.append(f"{i + 1:>3}  {r.eigenvalues[i]:>15.8g}  {wm.eigenvalues_read[i]:>15.8g}  "
                     f"{wm.eigen_rel_error[i]:>10.2e}  {wm.cos[i]:>10.7f}  {gaps[i]:>6.1%}  "
                     f"{'yes' if wm.separated[i] else 'no'}")
    verdict = "PASS" if r.passed() else "FAIL"
    lines += ["", f"{verdict}: criteria (1)-(2) hold in both runs; (3) holds with weight decay and fails without "
                  "it (the negative control)" if r.passed() else
              f"{verdict}: expected (1)-(2) in both runs, (3) only with weight decay; see the marks above"]
    return "\n".join(lines)


def _min(values, mask):
    return f"{np.min(values[mask]):.7f}" if mask.any() else "n/a (none separated)"


def _max(values, mask):
    return f"{np.max(values[mask]):.2e}" if mask.any() else "n/a (none separated)"


def _as_pictures(vectors, image_shape):
    """Rows of vectors (k, D) as gray images (k, 1, H, W): 0.5 is zero, the extremes map to 0 and 1."""
    v = vectors / np.max(np.abs(vectors), axis=1, keepdims=True)
    return (0.5 + 0.5 * v).reshape(len(v), 1, *image_shape)  # (k, D) -> (k, 1, H, W)


def components_figure(r, image_shape, scale=3):
    """PCA components beside what each run's decoder holds, as images (PIL).

    Rows: the PCA components; the decayed decoder's left singular vectors u_i, signs matched to PCA's
    (they should look the same); the control decoder's rows (a mixed basis of the same subspace).
    """
    pcs = r.components
    u, _, _ = np.linalg.svd(r.decayed.measured.W_dec.T, full_matrices=False)  # (D, k)
    u = u.T * np.sign(np.sum(u.T * pcs, axis=1, keepdims=True))                # (k, D), signs as PCA's
    rows = [("PCA components", _as_pictures(pcs, image_shape)),
            ("AE + decay: u_i of W_dec", _as_pictures(u, image_shape)),
            ("AE, no decay: rows of W_dec", _as_pictures(r.control.measured.W_dec, image_shape))]
    return row_comparison(rows, scale=scale)
