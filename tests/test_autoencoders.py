"""Every autoencoder's full loss, gradient-checked, and what each variant promises.

Gradient checks: float64 models with random weights and a random target (so no term of the
gradient is special), central differences on every parameter, rel_error <= 1e-6.
"""

import numpy as np
import pytest

from tinyae import noise
from tinyae.autoencoders import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder,
                                 conv_pair, dense_pair, linear_pair)
from tinyae.gradcheck import numerical_gradient, rel_error
from tinyae.layers import sigmoid
from tinyae.losses import mse
from tinyae.optim import Adam

TOL = 1e-6
SHAPE = (1, 4, 4)


def _dense(code_activation="identity", hidden=(5,), seed=0):
    return dense_pair(SHAPE, 3, hidden, code_activation, np.random.default_rng(seed), np.float64)


MODELS = {
    "plain mse": lambda: Autoencoder(*_dense(), loss="mse"),
    "plain bce batch": lambda: Autoencoder(*_dense(), loss="bce_with_logits", reduction="batch"),
    "plain conv": lambda: Autoencoder(*conv_pair(SHAPE, 3, (2, 3), "identity", np.random.default_rng(1), np.float64),
                                      loss="bce_with_logits"),
    "sparse kl": lambda: SparseAutoencoder(*_dense("sigmoid"), sparsity="kl", rho=0.1, beta=2.0),
    "sparse l1": lambda: SparseAutoencoder(*_dense("relu"), loss="bce_with_logits", sparsity="l1", beta=0.5),
    "contractive": lambda: ContractiveAutoencoder(*_dense("sigmoid", hidden=()), lam=0.7),
    "denoising gaussian": lambda: DenoisingAutoencoder(*_dense(), corruption="gaussian", level=0.3),
    "denoising salt_and_pepper": lambda: DenoisingAutoencoder(*_dense(), corruption="salt_and_pepper", level=0.3),
    "denoising masking": lambda: DenoisingAutoencoder(*_dense(), loss="bce_with_logits", corruption="masking",
                                                      level=0.4),
}


@pytest.mark.parametrize("kind", MODELS)
def test_full_loss_gradient(kind):
    model = MODELS[kind]()
    rng = np.random.default_rng(42)
    for _, p, _ in model.parameters():  # nonzero biases too, so their gradients are tested in general position
        p += 0.3 * rng.standard_normal(p.shape)
    x = rng.random((5, *SHAPE))
    target = rng.random((5, *SHAPE))
    seed = 7  # the same corruption at every evaluation

    loss, parts = model.loss_and_grads(x, target, np.random.default_rng(seed))
    assert loss == pytest.approx(sum(parts.values()), rel=1e-14)
    analytic = {name: g.copy() for name, _, g in model.parameters()}
    for name, p, _ in model.parameters():
        numeric = numerical_gradient(lambda: model.evaluate(x, target, np.random.default_rng(seed))[0], p)
        assert rel_error(analytic[name], numeric) <= TOL, name


def test_reconstruct_applies_sigmoid_for_logit_losses():
    enc, dec = _dense()
    x = np.random.default_rng(0).random((3, *SHAPE))
    logits = dec.forward(enc.forward(x))
    assert np.array_equal(Autoencoder(enc, dec, loss="bce_with_logits").reconstruct(x), sigmoid(logits))
    assert np.array_equal(Autoencoder(enc, dec, loss="mse").reconstruct(x), logits)


def test_denoising_loss_is_against_the_clean_input():
    model = DenoisingAutoencoder(*_dense(), corruption="masking", level=0.5)
    x = np.random.default_rng(0).random((6, *SHAPE))
    corrupted = noise.masking(x, np.random.default_rng(3), 0.5)
    expected = mse(model.decoder.forward(model.encoder.forward(corrupted)), x)[0]
    assert model.evaluate(x, rng=np.random.default_rng(3))[0] == pytest.approx(expected, rel=1e-14)
    assert not np.array_equal(corrupted, x)
    with pytest.raises(ValueError, match="rng"):
        model.evaluate(x)


def test_kl_sparsity_drives_mean_activation_to_rho():
    rng = np.random.default_rng(0)
    model = SparseAutoencoder(*_dense("sigmoid", hidden=()), sparsity="kl", rho=0.05, beta=5.0)
    x = rng.random((64, *SHAPE))
    start = model.encode(x).mean()
    opt = Adam(0.02)
    for _ in range(400):
        model.loss_and_grads(x)
        opt.step(model.parameters())
    rho_hat = model.encode(x).mean(axis=0)
    assert start > 0.2 and np.all(np.abs(rho_hat - 0.05) < 0.01), rho_hat


def test_linear_pair_is_affine():
    enc, dec = linear_pair(6, 2, np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 6))
    W1, b1, W2, b2 = enc.layers[0].params["W"], enc.layers[0].params["b"], dec.layers[0].params["W"], dec.layers[0].params["b"]
    assert np.allclose(Autoencoder(enc, dec).reconstruct(x), (x @ W1 + b1) @ W2 + b2, rtol=1e-14, atol=1e-14)


def test_bad_configurations_name_the_problem():
    with pytest.raises(ValueError, match="must end in Sigmoid"):
        SparseAutoencoder(*_dense("relu"), sparsity="kl")
    with pytest.raises(ValueError, match=r"\[Flatten,\] Dense, Sigmoid"):
        ContractiveAutoencoder(*_dense("sigmoid", hidden=(5,)))
    encoder, decoder = _dense("sigmoid", hidden=())
    encoder.layers[-2].activation = "relu"  # sigmoid(relu(x W + b)) has another Jacobian
    with pytest.raises(ValueError, match="no activation of its own"):
        ContractiveAutoencoder(encoder, decoder)
    with pytest.raises(ValueError, match="loss must be one of"):
        Autoencoder(*_dense(), loss="l2")
    with pytest.raises(ValueError, match="corruption must be one of"):
        DenoisingAutoencoder(*_dense(), corruption="blur")
    with pytest.raises(ValueError, match="divisible by 2"):
        conv_pair((1, 6, 6), 3, (2, 3))
