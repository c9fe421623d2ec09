import pyro
import pyro.poutine as poutine
import pytest
import torch
import torch.nn.functional as F

from pyro_vae.priors import LadderPrior, LatentContext
from pyro_vae.priors.ladder import MIN_VARIANCE, softplus_gaussian


def _ctx(n):
    return LatentContext(plate=pyro.plate("data", n), batch_size=n)


def test_samples_the_hierarchy_top_down_inside_the_plate_and_returns_z1():
    prior = LadderPrior((5, 3, 2), (16, 8, 4), mlp_layers=1)
    trace = poutine.trace(prior).get_trace(_ctx(7))
    sites = [n for n, s in trace.nodes.items() if s["type"] == "sample"]
    assert sites == ["z3", "z2", "z1"]
    for name, dim in zip(("z1", "z2", "z3"), (5, 3, 2), strict=True):
        site = trace.nodes[name]
        assert site["value"].shape == (7, dim)
        assert [f.name for f in site["cond_indep_stack"]] == ["data"]
    assert torch.equal(trace.nodes["_RETURN"]["value"], trace.nodes["z1"]["value"])


def test_log_density_is_the_top_down_product():
    prior = LadderPrior((4, 3, 2), (8, 8, 8), mlp_layers=2).eval()
    trace = poutine.trace(prior).get_trace(_ctx(5))
    trace.compute_log_prob()
    z = {n: trace.nodes[n]["value"] for n in ("z1", "z2", "z3")}
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(z["z3"]).sum(-1)
    for layer, above in ((2, "z3"), (1, "z2")):
        h = prior.top_down[layer - 1](z[above])
        loc, raw = h.split(prior.latent_dims[layer - 1], -1)
        scale = (F.softplus(raw) + MIN_VARIANCE).sqrt()
        expected = expected + torch.distributions.Normal(loc, scale).log_prob(z[f"z{layer}"]).sum(
            -1
        )
    total = sum(trace.nodes[n]["log_prob"] for n in ("z1", "z2", "z3"))
    assert torch.allclose(total, expected, atol=1e-5)


def test_softplus_variance_head():
    out = torch.tensor([[1.0, -2.0, 0.5, -40.0]])
    loc, scale = softplus_gaussian(out, 2)
    assert torch.equal(loc, out[:, :2])
    assert torch.allclose(scale**2, F.softplus(out[:, 2:]) + MIN_VARIANCE)
    assert (scale > 0).all()


def test_conditional_accepts_particle_dimensions():
    prior = LadderPrior((4, 2), (8, 8)).eval()
    z = torch.randn(3, 5, 2)
    loc, scale = prior.conditional(1, z)
    assert loc.shape == scale.shape == (3, 5, 4)
    flat_loc, _ = prior.conditional(1, z.reshape(15, 2))
    assert torch.allclose(loc.reshape(15, 4), flat_loc)


def test_frozen_statistics_normalises_with_the_batch_but_keeps_running_stats():
    prior = LadderPrior((4, 2), (8, 8)).train()
    z = torch.randn(16, 2)
    norms = [m for m in prior.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms
    with prior.frozen_statistics():
        frozen = prior.conditional(1, z)[0]
    assert all(int(m.num_batches_tracked) == 0 for m in norms)
    assert all(torch.equal(m.running_mean, torch.zeros_like(m.running_mean)) for m in norms)
    assert all(m.track_running_stats for m in norms)  # restored
    updated = prior.conditional(1, z)[0]
    assert torch.allclose(frozen, updated)  # same batch statistics
    assert all(int(m.num_batches_tracked) == 1 for m in norms)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="one width per stochastic layer"):
        LadderPrior((4, 2), (8,))
    with pytest.raises(ValueError, match="positive sizes"):
        LadderPrior((4, 0), (8, 8))
    with pytest.raises(ValueError, match="mlp_layers"):
        LadderPrior((4, 2), (8, 8), mlp_layers=0)
    with pytest.raises(ValueError, match=r"layer must lie in \[1, 1\]"):
        LadderPrior((4, 2), (8, 8)).conditional(2, torch.zeros(3, 2))
