import pyro
import pytest
import torch
from torch import nn

from pyro_vae.analysis import active_units, kl_per_layer, kl_per_unit, posterior_means
from pyro_vae.infer import BetaELBO
from pyro_vae.likelihoods import Gaussian
from pyro_vae.models import VAE, LadderVAE
from tests.infer.linear_gaussian import closed_form_terms, make_linear_vae


class _PartlyConstantEncoder(nn.Module):
    """loc_j = a_j * x_0 with a = (1, 0.05, 0.2, 0): units 0 and 2 carry x, 1 barely, 3 not."""

    def __init__(self):
        super().__init__()
        self.register_buffer("a", torch.tensor([1.0, 0.05, 0.2, 0.0]))
        self.log_scale = nn.Parameter(torch.full((4,), -1.0))

    def forward(self, x):
        loc = x[:, :1] * self.a
        return loc, self.log_scale.exp().expand_as(loc)


def test_kl_per_unit_of_a_vae_is_the_closed_form():
    vae = make_linear_vae()
    x = torch.randn(50, 3)
    per_unit = kl_per_unit(vae, x, num_samples=3, batch_size=16)
    assert list(per_unit) == ["z"] and per_unit["z"].shape == (2,)
    m = x @ vae.encoder.A.T.detach() + vae.encoder.c.detach()
    s2 = vae.encoder.log_s.detach().exp() ** 2
    expected = (0.5 * (s2 + m**2 - 1 - s2.log())).mean(0)
    assert torch.allclose(per_unit["z"], expected, atol=1e-5)
    _, kl = closed_form_terms(vae, x)
    assert kl_per_layer(vae, x)["z"] == pytest.approx(float(kl.mean()), rel=1e-5)


def test_active_units_are_the_units_whose_mean_varies_with_x():
    """Burda et al. 2016: A_u = Cov_x(E_q[z_u | x]) > 0.01."""
    vae = VAE(_PartlyConstantEncoder(), nn.Linear(4, 3), (3,), 4, likelihood=Gaussian(1.0))
    x = torch.randn(400, 3, generator=torch.Generator().manual_seed(0))
    result = active_units(vae, x, batch_size=128)
    var = x[:, 0].var()
    expected = torch.tensor([1.0, 0.05**2, 0.2**2, 0.0]) * var
    assert torch.allclose(result.activity["z"], expected, rtol=1e-4, atol=1e-7)
    assert result.active["z"].tolist() == [True, False, True, False]
    assert result.counts == {"z": 2} and result.sizes == {"z": 4}
    assert active_units(vae, x, threshold=1e-4).counts == {"z": 3}


def _trained_ladder():
    from pyro_vae.data import Digits
    from pyro_vae.train import fit

    model = LadderVAE((1, 8, 8), (6, 4, 2), (24, 16, 8), mlp_layers=1)
    x = Digits(split="train").images[:64]
    fit(model, BetaELBO(1.0), x, steps=15, batch_size=16, lr=1e-2, device="cpu", progress=False)
    return model, x


@pytest.fixture(scope="module")
def ladder():
    pyro.set_rng_seed(0)
    return _trained_ladder()


def test_ladder_per_layer_kl_matches_the_elbo_terms(ladder):
    model, x = ladder
    pyro.set_rng_seed(1)
    per_layer = kl_per_layer(model, x, num_samples=100)
    assert list(per_layer) == ["z1", "z2", "z3"]
    per_unit = kl_per_unit(model, x, num_samples=10)
    assert [v.shape[0] for v in per_unit.values()] == [6, 4, 2]
    assert (torch.cat(list(per_unit.values())) >= 0).all()
    # the ELBO's per-layer KL, averaged over many guide draws
    loss = BetaELBO(1.0)
    runs = []
    for _ in range(20):
        loss.loss(model.model, model.guide, x)
        runs.append({s: float(loss.last_terms[f"kl_{s}"]) for s in per_layer})
    for site, value in per_layer.items():
        mc = sum(r[site] for r in runs) / len(runs)
        assert value == pytest.approx(mc, rel=0.05, abs=0.02), site
    # the top layer has no parents: its KL is exact, KL(N(mu_hat, s_hat) || N(0, I))
    loc, scale = model.encode(x)
    exact = (0.5 * (scale**2 + loc**2 - 1 - 2 * scale.log())).sum(-1).mean()
    assert per_layer["z3"] == pytest.approx(float(exact.detach()), rel=1e-5)


def test_ladder_posterior_means_and_active_units(ladder):
    model, x = ladder
    model.train()  # the analysis evaluates in eval mode and restores the mode
    means = posterior_means(model, x, num_samples=50)
    assert model.training
    assert {s: m.shape for s, m in means.items()} == {
        "z1": (64, 6),
        "z2": (64, 4),
        "z3": (64, 2),
    }
    model.eval()
    assert torch.allclose(means["z3"], model.encode(x)[0], atol=1e-5)  # exact on top
    # lower layers: Rao-Blackwellised average over parent draws, near the mean path
    path = model.posterior_mean_path(x)
    assert (means["z1"] - path["z1"]).abs().mean() < 0.5
    pyro.set_rng_seed(4)
    result = active_units(model, x, num_samples=20)
    pyro.set_rng_seed(4)
    same_draws = posterior_means(model, x, num_samples=20)
    for site, activity in result.activity.items():
        assert torch.allclose(activity, same_draws[site].var(0))  # A_u = Cov_x(E_q[z_u | x])
        assert 0 <= result.counts[site] <= result.sizes[site]
    assert torch.allclose(result.activity["z3"], model.encode(x)[0].var(0), atol=1e-6)


def test_bad_arguments():
    vae = make_linear_vae()
    with pytest.raises(ValueError, match="at least 2 examples"):
        active_units(vae, torch.randn(1, 3))
    with pytest.raises(ValueError, match="num_samples and batch_size must be >= 1"):
        kl_per_unit(vae, torch.randn(4, 3), num_samples=0)
