"""A tiny linear-Gaussian VAE whose ELBO is known in closed form (test helper)."""

import math

import torch
from torch import nn

from pyro_vae.likelihoods import Gaussian
from pyro_vae.models import VAE


class LinearEncoder(nn.Module):
    def __init__(self, A, c, s):
        super().__init__()
        self.A = nn.Parameter(A.clone())
        self.c = nn.Parameter(c.clone())
        self.log_s = nn.Parameter(s.log().clone())

    def forward(self, x):
        loc = x @ self.A.T + self.c
        return loc, self.log_s.exp().expand_as(loc)


class LinearDecoder(nn.Module):
    def __init__(self, W, b):
        super().__init__()
        self.W = nn.Parameter(W.clone())
        self.b = nn.Parameter(b.clone())

    def forward(self, z):
        return z @ self.W.T + self.b


def make_linear_vae(D=3, d=2, sigma=0.7, seed=0):
    g = torch.Generator().manual_seed(seed)
    A, c = torch.randn(d, D, generator=g), torch.randn(d, generator=g)
    s = torch.rand(d, generator=g) + 0.3
    W, b = torch.randn(D, d, generator=g), torch.randn(D, generator=g)
    vae = VAE(LinearEncoder(A, c, s), LinearDecoder(W, b), (D,), d, likelihood=Gaussian(sigma))
    return vae


def closed_form_terms(vae, x):
    """(E_q log p(x|z), KL(q || p)) per example, in closed form."""
    enc, dec = vae.encoder, vae.decoder
    sigma = vae.likelihood.fixed_scale
    m = x @ enc.A.T + enc.c
    s2 = enc.log_s.exp() ** 2
    D = x.shape[-1]
    resid = x - (m @ dec.W.T + dec.b)
    trace = (dec.W**2 * s2).sum()
    exp_loglik = -0.5 * D * math.log(2 * math.pi * sigma**2) - ((resid**2).sum(-1) + trace) / (
        2 * sigma**2
    )
    kl = 0.5 * (s2 + m**2 - 1 - s2.log()).sum(-1)
    return exp_loglik.detach(), kl.detach()
