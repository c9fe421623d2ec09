"""A user-written prior (a few lines of Pyro) trains through the public API."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam
from torch import nn

from pyro_vae.infer import BetaELBO
from pyro_vae.models import VAE
from pyro_vae.priors import LatentContext, StandardNormal


class LaplacePrior(nn.Module):
    """A standard Laplace prior: ten lines of Pyro."""

    def __init__(self, latent_dim):
        super().__init__()
        self.register_buffer("loc", torch.zeros(latent_dim))

    def forward(self, ctx):
        with ctx.plate:
            return pyro.sample("z", dist.Laplace(self.loc, 1.0).to_event(1))


class MixturePrior(nn.Module):
    """A learnable two-component Gaussian mixture prior."""

    def __init__(self, latent_dim):
        super().__init__()
        self.locs = nn.Parameter(torch.stack([-torch.ones(latent_dim), torch.ones(latent_dim)]))
        self.logits = nn.Parameter(torch.zeros(2))

    def forward(self, ctx):
        mix = dist.Categorical(logits=self.logits)
        comp = dist.Normal(self.locs, 1.0).to_event(1)
        with ctx.plate:
            return pyro.sample("z", dist.MixtureSameFamily(mix, comp))


@pytest.mark.parametrize("prior_cls", [LaplacePrior, MixturePrior])
def test_user_written_prior_trains_with_svi(prior_cls):
    torch.manual_seed(0)
    patterns = (torch.rand(3, 8) > 0.5).float()
    x = patterns[torch.randint(0, 3, (64,))]
    vae = VAE.mlp((8,), latent_dim=2, hidden_dims=(16,), prior=prior_cls(2))
    # analytic KL does not exist for these priors: the loss falls back to sampling
    loss = BetaELBO(1.0)
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-2}), loss=loss)
    first = sum(svi.evaluate_loss(x) for _ in range(20)) / 20
    for _ in range(200):
        svi.step(x)
    last = sum(svi.evaluate_loss(x) for _ in range(20)) / 20
    assert last < first - 0.3
    if prior_cls is MixturePrior:
        assert not torch.equal(vae.prior.logits.detach(), torch.zeros(2))


def test_standard_normal_prior_program_shapes():
    prior = StandardNormal(3)
    tr = pyro.poutine.trace(prior).get_trace(
        LatentContext(plate=pyro.plate("data", 5), batch_size=5)
    )
    site = tr.nodes["z"]
    assert site["value"].shape == (5, 3)
    assert site["fn"].batch_shape == (5,) and site["fn"].event_shape == (3,)
    with pytest.raises(ValueError):
        StandardNormal(0)
