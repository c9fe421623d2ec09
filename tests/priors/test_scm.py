"""The SCM prior of CausalVAE: causal layer, DAG constraint, the pushforward
Gaussian, mask layer, SCM program and the augmented Lagrangian."""

import math

import pyro
import pyro.distributions as dist
import pyro.poutine as poutine
import pytest
import torch
from torch.distributions import MultivariateNormal, kl_divergence

from pyro_vae.infer.terms import ELBOTerms
from pyro_vae.priors import LatentContext
from pyro_vae.priors.scm import (
    LinearSCMNormal,
    SCMPrior,
    causal_layer,
    concept_site,
    dag_constraint,
    label_loss,
)
from tests.threads import one_thread

CHAIN = torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])  # 0 -> 1 -> 2
CYCLIC = torch.tensor([[0.0, 0.5, 0.0], [0.0, 0.0, 0.7], [0.4, 0.0, 0.0]])  # 0 -> 1 -> 2 -> 0


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: one thread is faster, and far faster on a busy machine."""
    with one_thread():
        yield


def test_causal_layer_on_a_known_dag_matches_hand_computation():
    # z0 = e0; z1 = 2 z0 + e1; z2 = 3 z1 + e2, for two coordinates per concept
    eps = torch.tensor([[1.0, -1.0], [1.0, 0.5], [1.0, 2.0]])
    z = causal_layer(CHAIN, eps)
    expected = torch.tensor([[1.0, -1.0], [3.0, -1.5], [10.0, -2.5]])
    assert torch.allclose(z, expected)
    # and it solves z = A^T z + eps
    assert torch.allclose(z, CHAIN.T @ z + eps)


def test_dag_constraint_is_zero_for_a_dag_and_positive_for_cycles():
    assert dag_constraint(CHAIN) == pytest.approx(0.0, abs=1e-6)
    assert dag_constraint(torch.zeros(4, 4)) == pytest.approx(0.0, abs=1e-6)
    assert dag_constraint(CYCLIC) > 1e-3
    assert dag_constraint(torch.diag(torch.tensor([0.0, 0.5]))) > 0  # a self-loop
    # a two-cycle a, b: tr((I + A o A / 2)^2) - 2 = a^2 b^2 / 2
    a, b = 0.8, 1.5
    two = torch.tensor([[0.0, a], [b, 0.0]])
    assert dag_constraint(two) == pytest.approx(a**2 * b**2 / 2, rel=1e-5)
    with pytest.raises(ValueError, match="square"):
        dag_constraint(torch.zeros(2, 3))


def test_label_loss_matches_hand_computation():
    A = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    u = torch.tensor([[0.5, 0.2]])
    # sigmoid(A^T u) = (sigmoid(0), sigmoid(0.5))
    expected = (0.5 - 0.5) ** 2 + (0.2 - 1 / (1 + math.exp(-0.5))) ** 2
    assert label_loss(A, u).item() == pytest.approx(expected, rel=1e-6)


def _dense(q: LinearSCMNormal) -> MultivariateNormal:
    """q as a dense Gaussian on the flattened (n, d) event (row-major)."""
    n, d = q.event_shape
    C = torch.linalg.inv(torch.eye(n) - q.A.T).contiguous()
    mix = torch.kron(C, torch.eye(d))  # acts on (n*d,) vectors laid out row-major
    cov = mix @ torch.diag_embed(q.scale.flatten(-2).pow(2)) @ mix.T
    return MultivariateNormal((mix @ q.loc.flatten(-2)[..., None])[..., 0], cov)


@pytest.mark.parametrize("A", [CHAIN, CYCLIC], ids=["dag", "cyclic"])
def test_linear_scm_normal_density_mean_variance_entropy_against_dense_gaussian(A):
    torch.manual_seed(0)
    loc, scale = torch.randn(5, 3, 2), torch.rand(5, 3, 2) + 0.5
    q = LinearSCMNormal(loc, scale, A)
    dense = _dense(q)
    z = torch.randn(5, 3, 2) * 3
    assert torch.allclose(q.log_prob(z), dense.log_prob(z.flatten(-2)), atol=1e-4)
    assert torch.allclose(q.mean.flatten(-2), dense.mean, atol=1e-5)
    assert torch.allclose(q.variance.flatten(-2), dense.variance, atol=1e-4)
    assert torch.allclose(q.entropy(), dense.entropy(), atol=1e-4)


@pytest.mark.parametrize("A", [CHAIN, CYCLIC], ids=["dag", "cyclic"])
def test_linear_scm_normal_kl_to_diagonal_gaussian_is_the_dense_kl(A):
    torch.manual_seed(1)
    q = LinearSCMNormal(torch.randn(4, 3, 2), torch.rand(4, 3, 2) + 0.3, A)
    m, s = torch.randn(4, 3, 2), torch.rand(4, 3, 2) + 0.5
    p = dist.Normal(m, s).to_event(2)
    dense_p = MultivariateNormal(m.flatten(-2), torch.diag_embed(s.flatten(-2).pow(2)))
    assert torch.allclose(kl_divergence(q, p), kl_divergence(_dense(q), dense_p), atol=1e-4)


def test_linear_scm_normal_samples_are_the_causal_layer_of_eps():
    torch.manual_seed(2)
    loc, scale = torch.randn(3, 2), torch.rand(3, 2) + 0.5
    eps = loc + scale * torch.randn(3, 2)
    q = LinearSCMNormal(loc, scale, CHAIN, base_sample=eps)
    assert torch.allclose(q.rsample(), causal_layer(CHAIN, eps))
    # without a base sample: the law has the stated mean and variance
    free = LinearSCMNormal(loc, scale, CHAIN)
    draws = free.rsample((40000,))
    assert torch.allclose(draws.mean(0), free.mean, atol=0.15)
    assert torch.allclose(draws.var(0), free.variance, rtol=0.05, atol=0.05)


def _prior(**kw):
    torch.manual_seed(0)
    return SCMPrior(3, 2, **kw)


def test_adjacency_has_a_zero_diagonal_and_set_graph_checks_it():
    prior = _prior()
    with torch.no_grad():
        prior.A_raw.fill_(0.3)
    assert torch.equal(prior.A.diagonal(), torch.zeros(3))
    prior.set_graph(CHAIN)
    assert torch.equal(prior.A, CHAIN)
    with pytest.raises(ValueError, match="diagonal"):
        prior.set_graph(torch.eye(3))
    assert torch.equal(SCMPrior(3, 2, initial_graph=CHAIN.tolist()).A, CHAIN)


def test_mask_layer_reads_only_the_parents():
    prior = _prior()
    prior.set_graph(CHAIN)  # parents: 1 <- 0, 2 <- 1
    z = torch.randn(4, 3, 2, requires_grad=True)
    out = prior.mask(z)
    for i, parents in enumerate([[], [0], [1]]):
        (grad,) = torch.autograd.grad(out[:, i].sum(), z, retain_graph=True)
        touched = sorted({j for j in range(3) if grad[:, j].abs().sum() > 0})
        assert touched == parents, i


def test_structural_program_solves_the_mask_layer_equations():
    prior = _prior()
    prior.set_graph(torch.tensor([[0.0, 0.0, 1.2], [0.0, 0.0, 0.0], [0.0, -0.9, 0.0]]))
    # 0 -> 2 -> 1: the order must put 2 before 1
    assert prior.topological_order() == [0, 2, 1]
    eps = torch.randn(5, 3, 2)
    with pyro.plate("data", 5):
        z = prior.structural(eps)
    assert torch.allclose(z, prior.mask(z) + eps, atol=1e-6)
    assert torch.allclose(prior.abduct(z), eps, atol=1e-6)


def test_topological_order_breaks_cycles_at_the_weakest_incoming_edge():
    prior = _prior()
    prior.set_graph(CYCLIC)  # incoming weights: 0: 0.4, 1: 0.5, 2: 0.7
    assert prior.topological_order() == [0, 1, 2]


def test_lagrangian_update_rule():
    prior = _prior(dag_penalty_init=1.0, dag_penalty_growth=10.0, dag_progress=0.25)
    prior.set_graph(CYCLIC)
    h = float(dag_constraint(CYCLIC))
    first = prior.update_lagrangian()  # h_previous = inf: the penalty stays
    assert first["penalty"] == 1.0 and first["multiplier"] == pytest.approx(h, rel=1e-5)
    second = prior.update_lagrangian()  # no progress: c *= 10, then alpha += c h
    assert second["penalty"] == 10.0
    assert second["multiplier"] == pytest.approx(h + 10 * h, rel=1e-5)
    prior.set_graph(CYCLIC * 0.1)  # H shrinks by far more than a factor 4
    h_small = float(dag_constraint(CYCLIC * 0.1))
    third = prior.update_lagrangian()
    assert third["penalty"] == 10.0
    assert third["multiplier"] == pytest.approx(11 * h + 10 * h_small, rel=1e-5)
    assert int(prior.dag_updates) == 3
    assert prior.dag_penalty_value().item() == pytest.approx(
        third["multiplier"] * h_small + 5.0 * h_small**2, rel=1e-5
    )


def _run(prior, u, dataset_size=None):
    plate = pyro.plate("data", dataset_size or u.shape[0], subsample=torch.arange(u.shape[0]))
    ctx = LatentContext(plate=plate, batch_size=u.shape[0], u=u)
    return poutine.trace(prior).get_trace(ctx)


def test_lagrangian_runs_every_k_training_evaluations_only():
    prior = _prior(dag_update_every=3)
    prior.set_graph(CYCLIC)
    u = torch.rand(4, 3)
    for _ in range(7):
        _run(prior, u)
    # evaluations 1..7: updates before the 4th and the 7th
    assert int(prior.dag_evaluations) == 7 and int(prior.dag_updates) == 2
    prior.eval()
    _run(prior, u)
    prior.train()
    with torch.no_grad():
        _run(prior, u)
    assert int(prior.dag_evaluations) == 7 and int(prior.dag_updates) == 2
    manual = _prior(dag_update_every=None)
    for _ in range(5):
        _run(manual, u)
    assert int(manual.dag_updates) == 0


def test_penalties_enter_per_example_with_the_paper_weights():
    prior = _prior(label_weight=0.7, mask_weight=0.3, dag_multiplier_init=2.0)
    prior.set_graph(CYCLIC)
    prior.eval()  # no schedule step
    u = torch.rand(4, 3)
    N = 100
    model_trace = _run(prior, u, dataset_size=N)
    z = model_trace.nodes["z"]["value"]
    # a guide trace with the same latent values, so that ELBOTerms can read the model
    guide_trace = poutine.trace(
        lambda: [
            pyro.sample(s, dist.Delta(model_trace.nodes[s]["value"], event_dim=2))
            for s in ("eps", "z")
        ]
    ).get_trace()
    model_trace.compute_log_prob()
    terms = ELBOTerms(model_trace, guide_trace)
    h = dag_constraint(CYCLIC)
    penalty = 2.0 * h + 0.5 * 1.0 * h * h
    assert terms.global_term().item() == pytest.approx(-penalty.item(), rel=1e-5)
    expected_local = -0.7 * label_loss(prior.A, u) - 0.3 * prior.mask_loss(z)
    assert torch.allclose(terms.local_factors(), expected_local, atol=1e-5)
    # the conditional prior p(z | u) = N(label_scale * (u - label_shift), I), every dim
    loc = model_trace.nodes["z"]["fn"].base_dist.loc
    assert torch.allclose(loc, 2.0 * (u - 0.5)[:, :, None].expand(-1, -1, 2))
    shifted = _run(_prior(label_scale=3.0, label_shift=0.2), u)
    loc = shifted.nodes["z"]["fn"].base_dist.loc
    assert torch.allclose(loc, 3.0 * (u - 0.2)[:, :, None].expand(-1, -1, 2))


def test_without_labels_the_prior_runs_the_scm_with_concept_sites():
    prior = _prior()
    prior.set_graph(CHAIN)
    plate = pyro.plate("data", 6)
    trace = poutine.trace(prior).get_trace(LatentContext(plate=plate, batch_size=6))
    z, eps = trace.nodes["z"]["value"], trace.nodes["eps"]["value"]
    assert z.shape == (6, 3, 2)
    assert torch.allclose(z, prior.mask(z) + eps, atol=1e-6)
    for i in range(3):
        assert torch.equal(trace.nodes[concept_site(i)]["value"], z[:, i])
    assert "dag_penalty" not in trace.nodes


def test_bad_labels_and_settings_are_refused():
    prior = _prior()
    with pytest.raises(ValueError, match="shape"):
        _run(prior, torch.rand(4, 5))
    with pytest.raises(ValueError, match="dag_update_every"):
        SCMPrior(3, 2, dag_update_every=0)
    with pytest.raises(ValueError, match="label_weight"):
        SCMPrior(3, 2, label_weight=-1.0)
