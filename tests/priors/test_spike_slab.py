import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import Trace_ELBO, TraceMeanField_ELBO

from pyro_vae.infer import BetaELBO
from pyro_vae.models import SVAE
from pyro_vae.priors import LatentContext, SpikeAndSlab


def _ctx(u, size=None):
    n = u.shape[0]
    plate = pyro.plate("data", size or n, subsample=torch.arange(n))
    return LatentContext(plate=plate, batch_size=n, u=u)


def _trace_model_against_guide(prior, ctx):
    guide_tr = pyro.poutine.trace(prior.guide).get_trace(ctx)
    model_tr = pyro.poutine.trace(pyro.poutine.replay(prior, trace=guide_tr)).get_trace(ctx)
    return model_tr, guide_tr


def test_sites_shapes_and_plates():
    prior = SpikeAndSlab(num_actions=3, latent_dim=4)
    u = torch.eye(3)[torch.tensor([0, 2, 2, 1, 0])]
    model_tr, guide_tr = _trace_model_against_guide(prior, _ctx(u))
    for name in ("pi", "gamma"):
        site = model_tr.nodes[name]
        assert site["value"].shape == (3, 4) and site["fn"].event_shape == (3, 4)
        assert site["cond_indep_stack"] == ()  # global: outside the data plate
        assert name in guide_tr.nodes
    z = model_tr.nodes["z"]
    assert z["value"].shape == (5, 4) and z["fn"].batch_shape == (5,)
    assert [f.name for f in z["cond_indep_stack"]] == ["data"]
    gamma = model_tr.nodes["gamma"]["value"]
    assert set(gamma.unique().tolist()) <= {0.0, 1.0}  # hard values forward


def test_log_probs_by_hand():
    prior = SpikeAndSlab(num_actions=2, latent_dim=3, sparsity=4.0)
    u = torch.eye(2)[torch.tensor([1, 0])]
    model_tr, guide_tr = _trace_model_against_guide(prior, _ctx(u))
    pi = guide_tr.nodes["pi"]["value"]
    torch.testing.assert_close(pi, torch.sigmoid(prior.pi_logits))
    # Beta(1, K) density: K (1 - pi)^(K - 1)
    expected_pi = (math.log(4.0) + 3.0 * torch.log1p(-pi)).sum()
    torch.testing.assert_close(model_tr.nodes["pi"]["fn"].log_prob(pi), expected_pi)
    # z | a ~ N(gamma_a * mu_a, I)
    gamma = model_tr.nodes["gamma"]["value"]
    z = model_tr.nodes["z"]["value"]
    loc = (gamma * prior.action_means)[torch.tensor([1, 0])]
    expected_z = (-0.5 * (z - loc) ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(model_tr.nodes["z"]["fn"].log_prob(z), expected_z)
    # q(gamma) is p(gamma | pi): their log-densities cancel exactly
    lq = guide_tr.nodes["gamma"]["fn"].log_prob(gamma)
    lp = model_tr.nodes["gamma"]["fn"].log_prob(gamma)
    assert torch.isfinite(lq) and torch.equal(lq, lp)


def test_integer_actions_equal_one_hot_actions():
    prior = SpikeAndSlab(num_actions=3, latent_dim=2)
    labels = torch.tensor([2, 0, 1])
    pyro.set_rng_seed(5)
    a = pyro.poutine.trace(prior).get_trace(_ctx(labels))
    pyro.set_rng_seed(5)
    b = pyro.poutine.trace(prior).get_trace(_ctx(torch.eye(3)[labels]))
    torch.testing.assert_close(a.nodes["z"]["fn"].mean, b.nodes["z"]["fn"].mean)
    with pytest.raises(ValueError, match="one-hot"):
        prior(_ctx(torch.eye(4)))
    with pytest.raises(ValueError, match="needs the action"):
        prior(LatentContext(plate=pyro.plate("data", 2), batch_size=2))


def test_gradients_reach_pi_through_the_straight_through_relaxation():
    prior = SpikeAndSlab(num_actions=2, latent_dim=3, init_logit=0.0)
    u = torch.eye(2)[torch.tensor([0, 1, 1, 0])]
    model_tr, _ = _trace_model_against_guide(prior, _ctx(u))
    z_site = model_tr.nodes["z"]
    # only the z term: gradients reach pi (hence its logits) through gamma's relaxed sample
    z_site["fn"].log_prob(torch.full((4, 3), 2.0)).sum().backward()
    grad = prior.pi_logits.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # with mu = 0 the prior mean does not depend on gamma: no gradient
    prior.zero_grad()
    with torch.no_grad():
        prior.action_means.zero_()
    model_tr, _ = _trace_model_against_guide(prior, _ctx(u))
    model_tr.nodes["z"]["fn"].log_prob(torch.full((4, 3), 2.0)).sum().backward()
    assert prior.pi_logits.grad.abs().sum() == 0


def test_sparsity_pressure_and_k_equal_one_warning():
    with pytest.warns(UserWarning, match="no.*sparsity|nothing pushes"):
        SpikeAndSlab(2, 3, sparsity=1.0)
    with pytest.raises(ValueError, match=">= 1"):
        SpikeAndSlab(2, 3, sparsity=0.5)
    assert SpikeAndSlab(2, 3).sparsity == 3.0  # default K: the latent size
    prior = SpikeAndSlab(2, 3, sparsity=5.0, init_logit=0.0)
    model_tr, _ = _trace_model_against_guide(prior, _ctx(torch.eye(2)))
    model_tr.nodes["pi"]["fn"].log_prob(model_tr.nodes["pi"]["value"]).backward()
    assert (prior.pi_logits.grad < 0).all()  # the Beta(1, K) term lowers every pi


def _svae_and_batch(n=6, size=30):
    torch.manual_seed(0)
    model = SVAE.mlp((5,), num_actions=3, latent_dim=2, hidden_dims=(8,), sparsity=3.0)
    x = torch.randn(n, 5)
    u = torch.eye(3)[torch.arange(n) % 3]
    return model, x, u


@pytest.mark.parametrize("analytic, reference", [(True, TraceMeanField_ELBO), (False, Trace_ELBO)])
def test_beta_elbo_equals_pyro_elbo_divided_by_dataset_size(analytic, reference):
    """Locals are scaled by N / B, the global Beta term is not: BetaELBO(1) = Pyro / N."""
    model, x, u = _svae_and_batch()
    pyro.set_rng_seed(3)
    ours = BetaELBO(1.0, analytic_kl=analytic).loss(model.model, model.guide, x, u, dataset_size=30)
    pyro.set_rng_seed(3)
    theirs = reference().loss(model.model, model.guide, x, u, dataset_size=30)
    assert ours == pytest.approx(theirs / 30, rel=1e-5)


def test_global_term_is_the_beta_log_density_over_n():
    model, x, u = _svae_and_batch()
    terms = BetaELBO().terms(model.model, model.guide, x, u, dataset_size=30)
    assert terms.global_latents == ["pi", "gamma"] and terms.local_latents == ["z"]
    pi = torch.sigmoid(model.prior.pi_logits)
    expected = dist.Beta(1.0, 3.0).log_prob(pi).sum() / 30
    torch.testing.assert_close(terms.global_term(), expected)
