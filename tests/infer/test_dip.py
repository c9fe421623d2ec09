import numpy as np
import pyro
import pytest
import torch

from pyro_vae.infer import DIPELBO, batch_covariance, dip_covariance, dip_penalty
from tests.infer.objective_helpers import LaplacePrior, small_vae, svi_losses, toy_images

# three examples, two latent dimensions: the covariance is over the 3 examples
MEANS = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
VARIANCES = torch.tensor([[0.5, 1.0], [1.5, 1.0], [1.0, 1.0]])


def test_covariance_of_a_hand_built_batch():
    # centred means: [[-2, -4], [0, 0], [2, 4]] -> Cov = [[8, 16], [16, 32]] / 3
    expected = torch.tensor([[8.0, 16.0], [16.0, 32.0]]) / 3
    torch.testing.assert_close(batch_covariance(MEANS), expected)
    torch.testing.assert_close(dip_covariance(MEANS, VARIANCES, "i"), expected)
    # DIP-II adds the batch mean of the posterior variances, (1, 1), on the diagonal
    torch.testing.assert_close(dip_covariance(MEANS, VARIANCES, "ii"), expected + torch.eye(2))
    np.testing.assert_allclose(
        batch_covariance(MEANS).numpy(), np.cov(MEANS.numpy(), rowvar=False, bias=True)
    )


def test_covariance_is_over_the_batch_axis():
    means = torch.randn(7, 3)
    assert batch_covariance(means).shape == (3, 3)
    with pytest.raises(ValueError, match="batch, dim"):
        batch_covariance(torch.randn(7))


def test_penalty_of_a_hand_built_matrix():
    cov = torch.tensor([[8.0, 16.0], [16.0, 32.0]]) / 3
    # off-diagonal: 2 * (16/3)^2 = 512/9; diagonal: (5/3)^2 + (29/3)^2 = 866/9
    assert float(dip_penalty(cov, 1.0, 0.0)) == pytest.approx(512 / 9)
    assert float(dip_penalty(cov, 0.0, 1.0)) == pytest.approx(866 / 9)
    assert float(dip_penalty(cov, 1.0, 10.0)) == pytest.approx(9172 / 9)
    assert float(dip_penalty(torch.eye(4), 5.0, 50.0)) == 0.0


def test_default_diagonal_weights():
    assert DIPELBO("i", lambda_od=5.0).lambda_d == 50.0
    assert DIPELBO("ii", lambda_od=5.0).lambda_d == 5.0
    assert DIPELBO("I", lambda_od=5.0, lambda_d=2.0).lambda_d == 2.0


@pytest.mark.parametrize("kind", ["i", "ii"])
def test_loss_is_elbo_plus_penalty_on_the_encoders_moments(kind):
    vae = small_vae()
    x = toy_images()[:12]
    loss = DIPELBO(kind, lambda_od=3.0)
    pyro.set_rng_seed(0)
    value = loss.loss(vae.model, vae.guide, x)
    t = {k: float(v) for k, v in loss.last_terms.items()}
    with torch.no_grad():
        loc, scale = vae.encode(x)
        cov = np.cov(loc.numpy(), rowvar=False, bias=True)
        if kind == "ii":
            cov = cov + np.diag((scale**2).mean(0).numpy())
    off = (cov**2).sum() - (np.diag(cov) ** 2).sum()
    diag = ((np.diag(cov) - 1) ** 2).sum()
    lambda_d = 30.0 if kind == "i" else 3.0
    assert t["cov_offdiag"] == pytest.approx(off, rel=1e-4)
    assert t["cov_diag"] == pytest.approx(diag, rel=1e-4)
    assert value == pytest.approx(t["recon"] + t["kl"] + 3.0 * off + lambda_d * diag, rel=1e-5)


def test_penalty_gradient_reaches_the_encoder():
    vae = small_vae()
    x = toy_images()[:12]
    loss = DIPELBO("i", lambda_od=10.0)
    terms = loss.terms(vae.model, vae.guide, x)
    cov = loss.covariance(terms)
    dip_penalty(cov, 10.0, 100.0).backward()
    assert vae.encoder.head.linear.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in vae.decoder.parameters())


@pytest.mark.parametrize("kind", ["i", "ii"])
def test_svi_decreases_the_loss(kind):
    before, after = svi_losses(small_vae(), DIPELBO(kind, lambda_od=10.0), toy_images())
    assert after < before - 10


def test_works_with_a_user_written_laplace_prior():
    vae = small_vae(prior=LaplacePrior(3))
    loss = DIPELBO("ii", lambda_od=10.0)
    before, after = svi_losses(vae, loss, toy_images())
    assert after < before - 10
    terms = loss.terms(vae.model, vae.guide, toy_images()[:8])
    assert type(terms.model_fn("z").base_dist).__name__ == "Laplace"


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="kind must be"):
        DIPELBO("iii")
    with pytest.raises(ValueError, match="lambda_od must be >= 0"):
        DIPELBO("i", lambda_od=-1.0)
    with pytest.raises(ValueError, match="lambda_d must be >= 0"):
        DIPELBO("i", lambda_od=1.0, lambda_d=-1.0)
    vae = small_vae()
    with pytest.raises(ValueError, match="batch of >= 2"):
        DIPELBO("i").loss(vae.model, vae.guide, toy_images()[:1])
