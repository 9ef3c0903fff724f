"""What PCA predicts for a linear autoencoder, with and without weight decay: the formulas the lab checks.

Data X (N, D), mean mu, covariance C = (1/N) sum_n (x_n - mu)^T (x_n - mu) with eigenvalues
e_1 >= e_2 >= ... >= e_D and orthonormal eigenvectors u_i (the PCA components; ``tinyae.pca``'s 1/N
convention). The linear autoencoder, row vectors as everywhere in tinyae:
    z = x W_enc + b_enc,  x_hat = z W_dec + b_dec,    W_enc (D, k), W_dec (k, D)
trained to the minimum of exactly
    L = (1/N) sum_n ||x_hat_n - x_n||^2 + lam (||W_enc||_F^2 + ||W_dec||_F^2)          (biases not decayed)

1. The biases absorb the mean. Write A = W_enc W_dec and c = mu A + b_enc W_dec + b_dec - mu. Then
   x_hat_n - x_n = (x_n - mu)(A - I) + c, and since sum_n (x_n - mu) = 0 the cross term vanishes:
       (1/N) sum_n ||x_hat_n - x_n||^2 = tr((A - I)^T C (A - I)) + ||c||^2.
   The free b_dec sets c = 0, leaving the centred problem: L depends on the data only through mu and C.

2. lam = 0 (Baldi & Hornik 1989): A is at best the projection on the top-k eigenvectors, A = U_k U_k^T,
   so W_dec = G U_k^T and W_enc = U_k G^{-1} for any invertible G (k, k): both span the PCA subspace
   but their individual rows / columns are any basis of it, and
       MSE per element = (1/D) sum_{i>k} e_i          (PCA's reconstruction error).

3. lam > 0 (Kunin, Bloom, Goeva & Seed 2019, "Loss landscapes of regularized linear autoencoders",
   Theorem 2). Their loss is ||X' - W2 W1 X'||_F^2 + lam' (||W1||_F^2 + ||W2||_F^2) for X' = (X - mu)^T
   (D, N) with singular values sigma_i, W1 (k, D), W2 (D, k); at every minimum, for lam' < sigma_k^2,
       W1 = W2^T,   W2 = U_k (I - lam' Sigma_k^{-2})^{1/2} O,   O orthogonal.
   Our L is theirs divided by N with W1 = W_enc^T, W2 = W_dec^T, lam' = N lam, and sigma_i^2 = N e_i.
   So W_enc = W_dec^T, and W_dec^T = U_k S O with singular values
       s_i = sqrt(1 - N lam / (N e_i)) = sqrt(1 - lam / e_i),   i.e.   e_i = lam / (1 - s_i^2),
   whenever lam < e_k. When the e_i differ, the left singular vectors of W_dec^T are the individual
   PCA components u_i (up to sign). The cost of decay: direction i keeps a fraction s_i^2 of itself,
   leaving residual variance e_i (lam / e_i)^2, and the weights cost lam * 2 sum_i s_i^2, so
       MSE per element = (1/D) (sum_{i>k} e_i + sum_{i<=k} lam^2 / e_i)
       min L           = sum_{i>k} e_i + sum_{i<=k} (2 lam - lam^2 / e_i).
   Scaling: with the loss averaged over all N*D elements instead (``reduction="mean"``) the data
   term is divided by D, which is the same as multiplying lam by D in every formula above.
"""

import numpy as np


def check_weight_decay(lam, eigenvalues, k):
    """Raise ValueError unless 0 <= lam < e_k, where Kunin's solution keeps all k directions."""
    e_k = eigenvalues[k - 1]
    if not 0 <= lam < e_k:
        raise ValueError(f"weight decay lam must be in [0, e_k) = [0, {e_k:.6g}) for k = {k}, got {lam}; "
                         f"at lam >= e_i the decayed solution drops direction i entirely")


def singular_values(eigenvalues, k, lam):
    """s_i = sqrt(1 - lam / e_i), i = 1..k: the singular values of W_dec at the decayed minimum."""
    return np.sqrt(1 - lam / eigenvalues[:k])


def eigenvalues_from_singular_values(s, lam):
    """e_i = lam / (1 - s_i^2): PCA's eigenvalues read back from the decoder's singular values (lam > 0)."""
    return lam / (1 - s * s)


def predicted_mse(eigenvalues, k, lam, d):
    """Reconstruction MSE per element at the minimum: (sum_{i>k} e_i + sum_{i<=k} lam^2 / e_i) / D."""
    return (np.sum(eigenvalues[k:]) + np.sum(lam * lam / eigenvalues[:k])) / d


def predicted_minimum(eigenvalues, k, lam):
    """min L = sum_{i>k} e_i + sum_{i<=k} (2 lam - lam^2 / e_i)."""
    return float(np.sum(eigenvalues[k:]) + np.sum(2 * lam - lam * lam / eigenvalues[:k]))
