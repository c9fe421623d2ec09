import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.poutine.runtime import get_plates

from pyro_vae.data import Digits
from pyro_vae.infer import BetaELBO, importance_log_likelihood
from pyro_vae.likelihoods import Gaussian
from pyro_vae.models import VAE, LadderVAE
from pyro_vae.train import fit
from tests.infer.linear_gaussian import (
    LinearDecoder,
    LinearEncoder,
    closed_form_terms,
    make_linear_vae,
)

SIGMA = 0.7


def _log_marginal(vae, x):
    """log p(x) = log N(x; b, W W^T + s^2 I) of the linear-Gaussian model."""
    W, b = vae.decoder.W.detach(), vae.decoder.b.detach()
    cov = W @ W.T + SIGMA**2 * torch.eye(W.shape[0])
    return torch.distributions.MultivariateNormal(b, cov).log_prob(x)


def _posterior_vae(shift=0.0, stretch=1.0, D=4, d=2, seed=0):
    """A linear-Gaussian VAE whose W has orthogonal columns, so the exact posterior
    N(A x + c, S) has diagonal S and the mean-field encoder can be exact
    (shift = 0, stretch = 1) or a controlled approximation of it."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(D, d, generator=g))
    W = Q * torch.tensor([2.0, 0.8])
    b = torch.randn(D, generator=g)
    post_var = 1.0 / (1.0 + (W**2).sum(0) / SIGMA**2)  # diagonal since W^T W is diagonal
    A = post_var[:, None] * W.T / SIGMA**2
    c = -A @ b + shift
    encoder = LinearEncoder(A, c, post_var.sqrt() * stretch)
    return VAE(encoder, LinearDecoder(W, b), (D,), d, likelihood=Gaussian(SIGMA))


def test_exact_posterior_guide_gives_log_marginal_for_any_k_and_chunk():
    vae = _posterior_vae()
    x = torch.randn(6, 4) * 2
    target = _log_marginal(vae, x)
    for k, chunk in ((1, 1), (7, 3), (64, 64), (100, 33)):
        value = importance_log_likelihood(vae.model, vae.guide, x, num_samples=k, chunk=chunk)
        assert value.shape == (6,)
        assert torch.allclose(value, target, atol=1e-4), (k, chunk)


def test_one_sample_estimate_is_the_elbo_on_average():
    vae = _posterior_vae(shift=0.6, stretch=1.6)
    x = torch.randn(40, 4) * 2
    log_lik, kl = closed_form_terms(vae, x)
    repeats = importance_log_likelihood(vae.model, vae.guide, x.repeat(400, 1), num_samples=1)
    diff = repeats.reshape(400, 40) - (log_lik - kl)
    stderr = float(diff.std() / math.sqrt(diff.numel()))
    assert stderr < 0.03
    assert abs(float(diff.mean())) < 4 * stderr


def test_estimate_approaches_log_marginal_as_k_grows_and_exceeds_the_elbo():
    vae = _posterior_vae(shift=1.5, stretch=2.0)
    x = torch.randn(40, 4) * 2
    target = _log_marginal(vae, x)
    log_lik, kl = closed_form_terms(vae, x)
    elbo_gap = float((target - (log_lik - kl)).mean())
    gaps = {}
    for k in (1, 10, 100, 2000):
        value = importance_log_likelihood(vae.model, vae.guide, x, num_samples=k, chunk=500)
        gaps[k] = float((target - value).mean())  # >= 0 in expectation: a lower bound
    assert elbo_gap > 10.0  # a poor guide ...
    assert gaps[10] < elbo_gap / 2 and gaps[100] < 1.0  # ... corrected by importance weights
    assert gaps[1] > gaps[10] > gaps[100] > gaps[2000]
    assert abs(gaps[2000]) < 0.1


def test_iwae_exceeds_elbo_on_a_random_linear_vae():
    vae = make_linear_vae()
    pyro.set_rng_seed(1)
    x = torch.randn(30, 3)
    log_lik, kl = closed_form_terms(vae, x)
    value = importance_log_likelihood(vae.model, vae.guide, x, num_samples=500, chunk=128)
    assert float(value.mean()) > float((log_lik - kl).mean()) + 1.0


class _PooledNormal(dist.Normal):
    """A Normal whose draws are read from a fixed pool of noise, in order: the same
    importance samples whatever the chunking (test helper)."""

    def __init__(self, loc, scale, noise):
        super().__init__(loc, scale)
        self._noise = noise

    def expand(self, batch_shape, _instance=None):
        shape = torch.Size(batch_shape)
        return _PooledNormal(
            self.loc.expand(shape), self.scale.expand(shape), self._noise.expand(shape)
        )

    def rsample(self, sample_shape=()):
        return self.loc + self.scale * self._noise


def _pooled_guide(vae, pool):
    state = {"next": 0}

    def guide(x):
        loc, scale = vae.encoder(x)
        sizes = [f.size for f in get_plates() if f.name != "data"]
        particles = sizes[0] if sizes else 1  # no particle plate: the plate-nesting dry run
        noise = pool[state["next"] : state["next"] + particles]
        state["next"] += particles
        noise = noise if sizes else noise[0]
        with pyro.plate("data", x.shape[0]):
            fn = _PooledNormal(loc.expand_as(noise), scale.expand_as(noise), noise)
            return pyro.sample("z", fn.to_event(1))

    return guide, state


def test_chunking_gives_the_value_of_one_chunk_with_the_same_draws():
    vae = make_linear_vae()
    x = torch.randn(5, 3)
    k = 103
    pool = torch.randn(k, 5, 2, generator=torch.Generator().manual_seed(3))
    values = []
    for chunk in (k, 10, 1, 50):
        guide, state = _pooled_guide(vae, torch.cat([pool[:1], pool]))  # 1st: plate dry run
        values.append(importance_log_likelihood(vae.model, guide, x, num_samples=k, chunk=chunk))
        assert state["next"] == k + 1
    for value in values[1:]:
        assert torch.allclose(value, values[0], atol=1e-5)
    # and it is log mean exp of the weights, computed by hand
    loc, scale = vae.encoder(x)
    z = loc + scale * pool
    W, b = vae.decoder.W, vae.decoder.b
    log_w = (
        dist.Normal(z @ W.T + b, vae.likelihood.fixed_scale).log_prob(x).sum(-1)
        + dist.Normal(0.0, 1.0).log_prob(z).sum(-1)
        - dist.Normal(loc, scale).log_prob(z).sum(-1)
    )
    by_hand = torch.logsumexp(log_w, 0) - math.log(k)
    assert torch.allclose(values[0], by_hand.detach(), atol=1e-5)


def test_works_on_the_ladder_vae_and_the_vae():
    data = Digits(split="train", binarize="fixed").images[:256]
    x = data[:16]
    for model in (
        LadderVAE((1, 8, 8), (6, 4, 2), (24, 16, 8), mlp_layers=1),
        VAE.mlp((1, 8, 8), latent_dim=4, hidden_dims=(32,)),
    ):
        fit(model, BetaELBO(1.0), data, steps=25, batch_size=32, lr=2e-2, device="cpu",
            progress=False)  # fmt: skip
        model.eval()
        elbo = -sum(BetaELBO(1.0).loss(model.model, model.guide, x) for _ in range(10)) / 10
        one = importance_log_likelihood(model.model, model.guide, x, num_samples=200, chunk=200)
        chunked = importance_log_likelihood(model.model, model.guide, x, num_samples=200, chunk=48)
        blocks = importance_log_likelihood(
            model.model, model.guide, x, num_samples=200, chunk=48, batch_size=5
        )
        assert one.shape == chunked.shape == blocks.shape == (16,)
        assert torch.isfinite(one).all()
        assert float(one.mean()) > elbo + 0.1
        for other in (chunked, blocks):  # other draws: equal up to Monte Carlo error
            assert float((one - other).mean().abs()) < 0.3


def test_global_latent_sites_are_included():
    """theta ~ N(0, 1) global, x | theta ~ N(theta, 1): with one example and the exact
    posterior q(theta) = N(x / 2, 1/2), every weight is p(x) = N(x; 0, 2)."""

    def model(x):
        theta = pyro.sample("theta", dist.Normal(0.0, 1.0))
        with pyro.plate("data", x.shape[0]):
            pyro.sample("x", dist.Normal(theta, 1.0), obs=x)

    def guide(x):
        pyro.sample("theta", dist.Normal(x.sum() / 2, math.sqrt(0.5)))

    x = torch.tensor([1.3])
    value = importance_log_likelihood(model, guide, x, num_samples=50, chunk=20)
    assert torch.allclose(value, dist.Normal(0.0, math.sqrt(2.0)).log_prob(x), atol=1e-5)


def test_warns_for_batch_norm_in_training_mode_and_rejects_bad_arguments():
    model = LadderVAE((1, 8, 8), (4, 2), (16, 8), mlp_layers=1).train()
    x = torch.rand(4, 1, 8, 8).round()
    with pytest.warns(UserWarning, match="call model.eval"):
        importance_log_likelihood(model.model, model.guide, x, num_samples=2, chunk=2)
    with pytest.raises(ValueError, match="num_samples and chunk must be >= 1"):
        importance_log_likelihood(model.model, model.guide, x, num_samples=0)
    model.eval()
    with pytest.raises(ValueError, match="no sample site is inside a plate named 'obs'"):
        importance_log_likelihood(model.model, model.guide, x, num_samples=2, data_plate="obs")
