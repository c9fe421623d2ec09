import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vae.analysis import kl_per_dim
from pyro_vae.models import VAE


def test_kl_per_dim_with_a_mixture_prior_uses_the_moment_matched_marginal():
    class Mixture(nn.Module):
        def __init__(self):
            super().__init__()
            self.locs = nn.Parameter(torch.tensor([[-2.0, 0.0], [2.0, 0.0]]))

        def forward(self, ctx):
            mix = dist.MixtureSameFamily(
                dist.Categorical(logits=torch.zeros(2)), dist.Normal(self.locs, 1.0).to_event(1)
            )
            with ctx.plate:
                return pyro.sample("z", mix)

    vae = VAE.mlp((4,), latent_dim=2, hidden_dims=(8,), prior=Mixture())
    x = torch.rand(16, 4).round()
    kl = kl_per_dim(vae, x)
    loc, scale = vae.encode(x)
    # marginal moments: mean (0, 0), variance (1 + 4, 1)
    matched = torch.distributions.Normal(torch.zeros(2), torch.tensor([5.0, 1.0]).sqrt())
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(loc, scale), matched
    ).mean(0)
    assert torch.allclose(kl, expected.detach(), atol=1e-5)
