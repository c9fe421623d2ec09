import copy
import math

import pyro
import pytest
import torch
from torch import nn

from pyro_vae.infer import (
    FactorVAELoss,
    discriminator_loss,
    factor_discriminator,
    permute_dims,
)
from pyro_vae.train import fit
from tests.infer.objective_helpers import (
    LaplacePrior,
    single_thread,
    small_vae,
    svi_losses,
    toy_images,
)
from tests.toy import ToySquares


def _small_loss(gamma=5.0, latent_dim=3, **kwargs):
    disc = factor_discriminator(latent_dim, hidden=32, layers=2)
    return FactorVAELoss(gamma, disc, **kwargs)


def _correlated(n, rho=0.9, generator=None):
    a = torch.randn(n, 1, generator=generator)
    b = rho * a + math.sqrt(1 - rho**2) * torch.randn(n, 1, generator=generator)
    return torch.cat([a, b, torch.randn(n, 1, generator=generator)], dim=1)


# ---------------------------------------------------------------- permutation
def test_permutation_keeps_each_column_and_breaks_dependence():
    z = _correlated(4000)
    perm = permute_dims(z)
    assert perm.shape == z.shape
    for d in range(3):  # each column keeps exactly its values
        torch.testing.assert_close(perm[:, d].sort().values, z[:, d].sort().values)
    assert torch.corrcoef(z.T)[0, 1] > 0.85
    assert abs(torch.corrcoef(perm.T)[0, 1]) < 0.06
    # across the batch, not within a sample: rows are not rearrangements of their own values
    same_row = (perm.sort(dim=1).values == z.sort(dim=1).values).all(dim=1)
    assert same_row.float().mean() < 0.01
    # the columns get different permutations
    order = [torch.argsort(torch.argsort(z[:, d]))[torch.argsort(perm[:, d])] for d in range(3)]
    assert not torch.equal(order[0], order[1])


def test_permutation_rejects_non_matrix_input():
    with pytest.raises(ValueError, match="batch, dim"):
        permute_dims(torch.randn(2, 3, 4))


def test_default_discriminator_is_six_layers_of_1000_leaky_relu():
    disc = factor_discriminator(10)
    linears = [m for m in disc if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 1000)] + [
        (1000, 1000)
    ] * 5 + [(1000, 2)]
    acts = [m for m in disc if isinstance(m, nn.LeakyReLU)]
    assert len(acts) == 6 and all(a.negative_slope == 0.2 for a in acts)
    loss = FactorVAELoss(40.0, latent_dim=10)
    assert loss.disc_optimizer.defaults["lr"] == 1e-4
    assert loss.disc_optimizer.defaults["betas"] == (0.5, 0.9)


@single_thread()
def test_discriminator_learns_a_correlated_gaussian_from_its_permutation():
    g = torch.Generator().manual_seed(0)
    disc = factor_discriminator(3, hidden=64, layers=2)
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3, betas=(0.5, 0.9))
    for _ in range(400):
        z = _correlated(256, generator=g)
        loss = discriminator_loss(disc, z, permute_dims(_correlated(256, generator=g)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        z = _correlated(20000, generator=g)
        logits = disc(z)
        tc = (logits[:, 0] - logits[:, 1]).mean()
        acc_real = (logits.argmax(1) == 0).float().mean()
        acc_perm = (disc(permute_dims(z)).argmax(1) == 1).float().mean()
    true_tc = -0.5 * math.log(1 - 0.9**2)  # 0.830 nats
    assert 0.5 * (acc_real + acc_perm) > 0.7
    assert abs(float(tc) - true_tc) < 0.25


# ------------------------------------------------------------------ gradients
def test_vae_and_discriminator_get_exactly_their_own_gradients():
    vae = small_vae()
    x = toy_images()[:16]
    loss = _small_loss(gamma=5.0, disc_lr=1e-3)
    disc0 = copy.deepcopy(loss.discriminator)
    pyro.set_rng_seed(7)
    loss.loss_and_grads(vae.model, vae.guide, x)
    params = [p for p in vae.parameters()]
    got = [p.grad.clone() for p in params]
    pairs = zip(disc0.parameters(), loss.discriminator.parameters(), strict=True)
    assert not any(torch.equal(a, b) for a, b in pairs)

    # the VAE objective with the pre-step discriminator, on the same sample
    pyro.set_rng_seed(7)
    terms = loss.terms(vae.model, vae.guide, x)
    logits = disc0(terms.value("z"))
    reference = -terms.elbo() + 5.0 * (logits[:, 0] - logits[:, 1]).mean()
    expected = torch.autograd.grad(reference, params)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)

    # the discriminator's gradient is that of its loss at the pre-step parameters
    z_real, z_perm = loss.last_discriminator_batch
    assert not z_real.requires_grad and not z_perm.requires_grad
    torch.testing.assert_close(z_real, terms.value("z").detach())
    expected_d = torch.autograd.grad(
        discriminator_loss(disc0, z_real, z_perm), list(disc0.parameters())
    )
    for p, e in zip(loss.discriminator.parameters(), expected_d, strict=True):
        torch.testing.assert_close(p.grad, e, rtol=1e-5, atol=1e-7)


def test_no_gradient_crosses_between_the_two_losses():
    vae = small_vae()
    x = toy_images()[:16]
    loss = _small_loss()
    vae_loss = loss.differentiable_loss(vae.model, vae.guide, x)
    loss.update_discriminator()  # the discriminator's loss alone
    assert all(p.grad is None for p in vae.parameters())
    assert all(p.grad is not None for p in loss.discriminator.parameters())
    loss.discriminator.zero_grad(set_to_none=True)
    vae_loss.backward()  # the VAE's loss alone (after the discriminator step: no in-place error)
    assert all(p.grad is None for p in loss.discriminator.parameters())
    assert vae.encoder.head.linear.weight.grad.abs().sum() > 0


def test_permuted_batch_is_a_second_posterior_draw():
    vae = small_vae()
    x = toy_images()[:32]
    loss = _small_loss()
    loss.loss(vae.model, vae.guide, x)
    z_real, z_perm = loss.last_discriminator_batch
    loc, scale = vae.encode(x)
    # every column holds one draw per example: its values are not the positives'
    for d in range(z_real.shape[1]):
        assert not torch.equal(z_real[:, d].sort().values, z_perm[:, d].sort().values)
    # but they are draws from q(z|x) of the same batch: with a tiny scale, the
    # permuted columns are the columns of the posterior means
    with torch.no_grad():
        vae.encoder.head.linear.bias[3:] = -40.0
        vae.encoder.head.linear.weight[3:] = 0.0
    loss.loss(vae.model, vae.guide, x)
    z_perm = loss.last_discriminator_batch[1]
    loc = vae.encode(x)[0]
    for d in range(3):
        torch.testing.assert_close(z_perm[:, d].sort().values, loc[:, d].sort().values)


# -------------------------------------------------- training, state, Pyro
def test_svi_trains_the_discriminator_outside_the_param_store_and_evaluation_trains_nothing():
    vae = small_vae()
    x = toy_images()
    loss = _small_loss(disc_lr=1e-3, num_particles=2)
    start = copy.deepcopy(loss.discriminator.state_dict())
    with single_thread():
        svi = pyro.infer.SVI(vae.model, vae.guide, pyro.optim.Adam({"lr": 1e-3}), loss=loss)
        for _ in range(3):
            svi.step(x)
    assert loss.step == 3
    assert all(state["step"] == 3 for state in loss.disc_optimizer.state.values())
    assert not any(torch.equal(start[k], v) for k, v in loss.discriminator.state_dict().items())
    names = list(pyro.get_param_store().keys())
    assert names and all(n.startswith(vae.pyro_name) for n in names)
    disc_ids = {id(p) for p in loss.discriminator.parameters()}
    store_ids = {id(pyro.param(n).unconstrained()) for n in names}
    assert not disc_ids & store_ids
    # evaluation: no discriminator step, no counter
    before = copy.deepcopy(loss.state_dict())
    svi.evaluate_loss(x)
    loss.loss(vae.model, vae.guide, x)
    after = loss.state_dict()
    assert after["step"] == before["step"] == 3
    for k, v in before["discriminator"].items():
        assert torch.equal(v, after["discriminator"][k])
    assert after["disc_optimizer"]["state"][0]["step"] == 3


def test_state_dict_round_trip_and_to_device():
    vae = small_vae()
    x = toy_images()[:16]
    loss = _small_loss(disc_lr=1e-3)
    for _ in range(2):
        loss.loss_and_grads(vae.model, vae.guide, x)
    state = loss.state_dict()
    fresh = _small_loss(disc_lr=1e-3)
    fresh.load_state_dict(state)
    assert fresh.step == 2
    for k, v in loss.discriminator.state_dict().items():
        assert torch.equal(fresh.discriminator.state_dict()[k], v)
    moved = fresh.to("cpu")
    assert moved is fresh
    exp_avg = fresh.disc_optimizer.state_dict()["state"][0]["exp_avg"]
    torch.testing.assert_close(exp_avg, loss.disc_optimizer.state_dict()["state"][0]["exp_avg"])
    fresh.loss_and_grads(vae.model, vae.guide, x)
    assert fresh.disc_optimizer.state_dict()["state"][0]["step"] == 3


def test_fit_checkpoints_and_resumes_the_discriminator_exactly(tmp_path):
    dataset = ToySquares()

    def build():
        torch.manual_seed(0)
        return small_vae(), _small_loss(disc_lr=1e-3)

    options = dict(batch_size=16, lr=1e-3, device="cpu", seed=3, progress=False, log_every=1)
    with single_thread():
        vae, loss = build()
        full = fit(vae, loss, dataset, steps=6, out=tmp_path / "full", **options)
        vae_a, loss_a = build()
        fit(vae_a, loss_a, dataset, steps=3, out=tmp_path / "part", checkpoint_every=3, **options)
        vae_b, loss_b = build()
        resumed = fit(
            vae_b, loss_b, dataset, steps=6, out=tmp_path / "part", resume=True, **options
        )
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in full.history]
    assert [r["disc_loss"] for r in resumed.history] == [r["disc_loss"] for r in full.history]
    assert loss_b.step == loss.step == 6
    for k, v in loss.discriminator.state_dict().items():
        assert torch.equal(loss_b.discriminator.state_dict()[k], v)
    a, b = loss.disc_optimizer.state_dict(), loss_b.disc_optimizer.state_dict()
    for index, state in a["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["state"][index][key]))


def test_svi_decreases_the_loss():
    before, after = svi_losses(small_vae(), _small_loss(gamma=10.0), toy_images())
    assert after < before - 10


def test_works_with_a_user_written_laplace_prior():
    vae = small_vae(prior=LaplacePrior(3))
    loss = _small_loss(gamma=10.0)
    before, after = svi_losses(vae, loss, toy_images())
    assert after < before - 10
    terms = loss.terms(vae.model, vae.guide, toy_images()[:8])
    assert type(terms.model_fn("z").base_dist).__name__ == "Laplace"


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="needs latent_dim"):
        FactorVAELoss(10.0)
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        FactorVAELoss(-1.0, latent_dim=3)
    with pytest.raises(ValueError, match="disc_lr must be > 0"):
        FactorVAELoss(1.0, latent_dim=3, disc_lr=0.0)
