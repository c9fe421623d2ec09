"""Shared pieces of the objective tests: a small VAE on the toy squares, a
user-written Laplace prior, fixed posteriors, a two-layer hierarchy, and an
SVI check that the loss goes down."""

import math

import pyro
import pyro.distributions as dist
import torch
from pyro.infer import SVI
from pyro.optim import Adam
from torch import nn

from pyro_vae.models import VAE
from tests.threads import one_thread as single_thread  # also used by the objective tests
from tests.toy import ToySquares


def toy_images() -> torch.Tensor:
    """All 64 toy-square images, ``(64, 1, 16, 16)``."""
    dataset = ToySquares()
    return dataset.get_batch(torch.arange(len(dataset)))[0]


def small_vae(latent_dim: int = 3, prior=None) -> VAE:
    return VAE.mlp((1, 16, 16), latent_dim, hidden_dims=(32,), prior=prior)


class LaplacePrior(nn.Module):
    """A user-written prior program: a standard Laplace per dimension."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("loc", torch.zeros(latent_dim))

    def forward(self, ctx):
        with ctx.plate:
            return pyro.sample("z", dist.Laplace(self.loc, 1.0).to_event(1))


def svi_losses(vae, loss, x, steps: int = 40, lr: float = 1e-2, evals: int = 8):
    """Mean evaluated loss before and after ``steps`` SVI steps (same eval seeds)."""
    with single_thread():
        return _svi_losses(vae, loss, x, steps, lr, evals)


def _svi_losses(vae, loss, x, steps, lr, evals):

    def evaluate(svi):
        total = 0.0
        for k in range(evals):
            pyro.set_rng_seed(100 + k)
            total += svi.evaluate_loss(x)
        return total / evals

    svi = SVI(vae.model, vae.guide, Adam({"lr": lr}), loss=loss)
    before = evaluate(svi)
    pyro.set_rng_seed(1)
    for _ in range(steps):
        svi.step(x)
    return before, evaluate(svi)


class FixedPosteriors:
    """N factorized Gaussian posteriors q(z | n) = N(loc[n], scale[n]) as a
    guide over example indices, with a standard normal prior and no
    observations: ``model(idx)`` / ``guide(idx)``."""

    def __init__(self, loc: torch.Tensor, scale: torch.Tensor, dataset_size: int | None = None):
        self.loc, self.scale = loc, scale
        self.dataset_size = dataset_size

    def _plate(self, idx):
        if self.dataset_size is None:
            return pyro.plate("data", len(idx))
        return pyro.plate("data", self.dataset_size, subsample=torch.arange(len(idx)))

    def model(self, idx):
        zeros = torch.zeros(len(idx), self.loc.shape[1])
        with self._plate(idx):
            pyro.sample("z", dist.Normal(zeros, 1.0).to_event(1))

    def guide(self, idx):
        with self._plate(idx):
            pyro.sample("z", dist.Normal(self.loc[idx], self.scale[idx]).to_event(1))

    def exact_log_densities(self, z: torch.Tensor):
        """Exact log q(z_i) and sum_d log q(z_{i,d}) under the mixture of all N posteriors."""
        pair = dist.Normal(self.loc, self.scale).log_prob(z.unsqueeze(1))  # (B, N, D)
        n = self.loc.shape[0]
        log_qz = torch.logsumexp(pair.sum(-1), dim=1) - math.log(n)
        log_prod = (torch.logsumexp(pair, dim=1) - math.log(n)).sum(-1)
        return log_qz, log_prod


class TwoLayer(nn.Module):
    """A two-layer hierarchy whose upper posterior depends on the lower sample
    (the shape of a ladder VAE's upper layer): model z2 -> z1 -> x, guide
    x -> z1 -> z2."""

    def __init__(self, x_dim=4, d1=3, d2=2):
        super().__init__()
        self.enc1 = nn.Linear(x_dim, 2 * d1)
        self.enc2 = nn.Linear(d1, 2 * d2)
        self.prior1 = nn.Linear(d2, d1)
        self.dec = nn.Linear(d1, x_dim)
        self.d1, self.d2 = d1, d2

    def model(self, x, dataset_size=None):
        pyro.module("two_layer", self)
        n = x.shape[0]
        with pyro.plate("data", n):
            z2 = pyro.sample("z2", dist.Normal(torch.zeros(n, self.d2), 1.0).to_event(1))
            z1 = pyro.sample("z1", dist.Normal(self.prior1(z2), 1.0).to_event(1))
            pyro.sample("x", dist.Normal(self.dec(z1), 1.0).to_event(1), obs=x)

    def guide(self, x, dataset_size=None):
        pyro.module("two_layer", self)
        with pyro.plate("data", x.shape[0]):
            loc1, log_s1 = self.enc1(x).chunk(2, -1)
            z1 = pyro.sample("z1", dist.Normal(loc1, log_s1.exp()).to_event(1))
            loc2, log_s2 = self.enc2(z1).chunk(2, -1)
            pyro.sample("z2", dist.Normal(loc2, log_s2.exp()).to_event(1))
