import math

import pyro
import pytest
import torch
from torch import nn

from pyro_vae.priors import ConditionalGaussian, LatentContext


def _ctx(u):
    return LatentContext(plate=pyro.plate("data", u.shape[0]), batch_size=u.shape[0], u=u)


def _set_constant_output(mlp: nn.Sequential, bias: torch.Tensor) -> None:
    """Make an MLP output ``bias`` whatever its input."""
    with torch.no_grad():
        last = mlp[-1]
        last.weight.zero_()
        last.bias.copy_(bias)


def test_shapes_and_sites():
    prior = ConditionalGaussian(context_dim=4, latent_dim=3)
    u = torch.eye(4)[torch.tensor([0, 1, 3, 3, 2])]
    tr = pyro.poutine.trace(prior).get_trace(_ctx(u))
    site = tr.nodes["z"]
    assert site["value"].shape == (5, 3)
    assert site["fn"].batch_shape == (5,) and site["fn"].event_shape == (3,)
    assert [f.name for f in site["cond_indep_stack"]] == ["data"]
    assert [n for n, s in tr.nodes.items() if s["type"] == "sample"] == ["z"]  # u is no site


def test_log_prob_by_hand():
    prior = ConditionalGaussian(context_dim=2, latent_dim=2)
    _set_constant_output(prior.log_var, torch.tensor([math.log(4.0), 0.0]))  # sigma = (2, 1)
    _set_constant_output(prior.loc, torch.tensor([1.0, -1.0]))
    u = torch.eye(2)
    z = torch.tensor([[3.0, -1.0], [1.0, 1.0]])
    tr = pyro.poutine.trace(pyro.poutine.condition(prior, {"z": z})).get_trace(_ctx(u))
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    # z1 ~ N(1, 2^2), z2 ~ N(-1, 1)
    expected = torch.tensor(
        [
            -(2.0**2) / 8 - math.log(2) - half_log_2pi + (-0.0 - half_log_2pi),
            -0.0 - math.log(2) - half_log_2pi + (-(2.0**2) / 2 - half_log_2pi),
        ]
    )
    torch.testing.assert_close(tr.nodes["z"]["fn"].log_prob(z), expected)


def test_mean_fixed_at_zero_like_the_official_code():
    prior = ConditionalGaussian(context_dim=3, latent_dim=2, learn_mean=False)
    assert prior.loc is None
    assert not any(name.startswith("loc") for name, _ in prior.named_parameters())
    loc, scale = prior.params(torch.eye(3))
    assert torch.equal(loc, torch.zeros(3, 2)) and (scale > 0).all()


def test_the_distribution_depends_on_the_context():
    prior = ConditionalGaussian(context_dim=3, latent_dim=2)
    loc, scale = prior.params(torch.eye(3))
    assert not torch.allclose(scale[0], scale[1]) and not torch.allclose(loc[0], loc[2])
    continuous = ConditionalGaussian(context_dim=1, latent_dim=2)
    loc, scale = continuous.params(torch.tensor([[0.3], [2.0]]))
    assert loc.shape == scale.shape == (2, 2)


def test_gradients_reach_the_prior_networks():
    prior = ConditionalGaussian(context_dim=3, latent_dim=2)
    z = torch.randn(3, 2)
    tr = pyro.poutine.trace(pyro.poutine.condition(prior, {"z": z})).get_trace(_ctx(torch.eye(3)))
    tr.log_prob_sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in prior.parameters())


def test_missing_or_wrong_context_is_a_clear_error():
    prior = ConditionalGaussian(context_dim=3, latent_dim=2)
    with pytest.raises(ValueError, match="needs the context u"):
        prior(LatentContext(plate=pyro.plate("data", 2), batch_size=2))
    with pytest.raises(ValueError, match="3 features"):
        prior(_ctx(torch.eye(4)))
    with pytest.raises(ValueError, match=">= 1"):
        ConditionalGaussian(0, 2)
