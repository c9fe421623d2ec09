"""CausalVAE as a model/guide pair: its ELBO is the paper's, it trains with
SVI and BetaELBO, and fit() checkpoints carry the augmented Lagrangian."""

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam
from torch.distributions import MultivariateNormal, kl_divergence

from pyro_vae.analysis import kl_per_dim, traverse
from pyro_vae.infer import BetaELBO
from pyro_vae.models import CausalVAE
from pyro_vae.nets import MLPDecoder, MLPEncoder
from pyro_vae.priors.scm import dag_constraint, label_loss
from pyro_vae.train import CHECKPOINT_NAME, fit, load_checkpoint
from tests.threads import one_thread

N_CONCEPTS, CONCEPT_DIM, SIDE = 3, 2, 10


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: one thread is faster, and far faster on a busy machine."""
    with one_thread():
        yield


def _model(seed=0, **prior_options):
    torch.manual_seed(seed)
    latent = N_CONCEPTS * CONCEPT_DIM
    return CausalVAE(
        MLPEncoder((SIDE,), latent, (32,)),
        MLPDecoder(latent, (SIDE,), (32,)),
        (SIDE,),
        N_CONCEPTS,
        CONCEPT_DIM,
        **prior_options,
    )


def _data(n=64, seed=0):
    """Binary vectors whose pattern follows three correlated labels."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, N_CONCEPTS, generator=g)
    u[:, 2] = 0.5 * (u[:, 0] + u[:, 1])
    w = torch.randn(N_CONCEPTS, SIDE, generator=g) * 4
    x = (torch.sigmoid(u @ w - 1) > torch.rand(n, SIDE, generator=g)).float()
    return x, u


class _Labelled(torch.utils.data.Dataset):
    """(x, factors, u) items, as the pendulum dataset gives them."""

    def __init__(self, x, u):
        self.x, self.u = x, u

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], torch.zeros(N_CONCEPTS, dtype=torch.long), self.u[i]


def test_beta_elbo_is_the_papers_objective():
    model = _model(
        label_weight=0.5, mask_weight=0.2, dag_multiplier_init=1.5, label_scale=2.0, label_shift=0.3
    )
    with torch.no_grad():
        model.prior.A_raw.copy_(torch.tensor([[0.0, 0.6, 0.2], [0.1, 0.0, 0.9], [0.3, 0.0, 0.0]]))
    model.eval()  # no schedule step
    x, u = _data(16)
    loss = BetaELBO(1.0)
    terms = loss.terms(model.model, model.guide, x, u, dataset_size=200)
    value, _ = loss.loss_from_terms(terms)

    eps, z = terms.value("eps"), terms.value("z")
    A = model.prior.A.detach()
    loc, scale = model.encode_exogenous(x)
    C = torch.linalg.inv(torch.eye(N_CONCEPTS) - A.T).contiguous()
    assert torch.allclose(z, C @ eps, atol=1e-5)  # z is the causal layer of the eps draw
    recon = -dist.Bernoulli(logits=model.decoder(z.flatten(-2))).log_prob(x).sum(-1)
    kl_eps = kl_divergence(dist.Normal(loc, scale), dist.Normal(0.0, 1.0)).sum((-1, -2))
    # q(z | x) as a dense Gaussian on the flattened (n, d) latent
    mix = torch.kron(C, torch.eye(CONCEPT_DIM))
    q_z = MultivariateNormal(
        (mix @ loc.flatten(-2)[..., None])[..., 0],
        mix @ torch.diag_embed(scale.flatten(-2).pow(2)) @ mix.T,
    )
    p_z = MultivariateNormal(
        2.0 * (u - 0.3).repeat_interleave(CONCEPT_DIM, -1), torch.eye(N_CONCEPTS * CONCEPT_DIM)
    )
    kl_z = kl_divergence(q_z, p_z)
    h = dag_constraint(A)
    penalties = 0.5 * label_loss(A, u) + 0.2 * model.prior.mask_loss(z) + (1.5 * h + 0.5 * h * h)
    expected = (recon + kl_eps + kl_z + penalties).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_trains_through_svi_with_beta_elbo():
    model = _model(dag_update_every=10)
    x, u = _data(64)
    loss = BetaELBO(1.0)
    svi = SVI(model.model, model.guide, Adam({"lr": 1e-2}), loss=loss)
    model.train()
    A0 = model.prior.A.detach().clone()
    first = sum(svi.evaluate_loss(x, u) for _ in range(10)) / 10
    for _ in range(150):
        assert torch.isfinite(torch.tensor(svi.step(x, u)))
    last = sum(svi.evaluate_loss(x, u) for _ in range(10)) / 10
    assert last < first - 1.0
    assert not torch.equal(model.prior.A.detach(), A0)  # A is learned
    assert int(model.prior.dag_updates) == 14  # before evaluations 11, 21, ..., 141
    assert set(loss.last_terms) >= {"recon", "kl", "kl_eps", "kl_z"}


def _fit(model, data, out, steps, **kw):
    return fit(model, BetaELBO(1.0), data, steps=steps, batch_size=16, lr=1e-2, out=out,
               progress=False, log_every=1, seed=0, **kw)  # fmt: skip


def test_checkpoints_carry_the_lagrangian_and_resume_exactly(tmp_path):
    x, u = _data(64)
    data = _Labelled(x, u)
    options = dict(dag_update_every=3, dag_penalty_init=2.0)
    full = _fit(_model(**options), data, tmp_path / "full", 12)
    full_state = load_checkpoint(tmp_path / "full" / CHECKPOINT_NAME)["model"]

    short_model = _model(**options)
    _fit(short_model, data, tmp_path / "short", 7)
    state = load_checkpoint(tmp_path / "short" / CHECKPOINT_NAME)["model"]
    assert int(state["prior.dag_updates"]) == 2  # before evaluations 4 and 7
    assert int(state["prior.dag_evaluations"]) == 7
    for key in ("dag_multiplier", "dag_penalty", "dag_h_previous"):
        assert torch.equal(state[f"prior.{key}"], getattr(short_model.prior, key))
    assert float(state["prior.dag_multiplier"]) > 0

    resumed_model = _model(seed=5, **options)  # everything comes from the checkpoint
    resumed = _fit(resumed_model, data, tmp_path / "short", 12, resume=True)
    assert int(resumed_model.prior.dag_updates) == 3
    for a, b in zip(full.history, resumed.history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6, abs=1e-6), a["step"]
    for key in ("dag_multiplier", "dag_penalty", "dag_h_previous", "dag_updates"):
        assert torch.equal(full_state[f"prior.{key}"], getattr(resumed_model.prior, key))


def test_encode_is_the_posterior_of_the_decoded_latent():
    model = _model()
    with torch.no_grad():
        model.prior.A_raw.copy_(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
    x, _ = _data(5)
    loc_eps, scale_eps = model.encode_exogenous(x)
    loc, scale = model.encode(x)
    assert loc.shape == scale.shape == (5, N_CONCEPTS * CONCEPT_DIM)
    assert torch.allclose(loc.reshape(5, 3, 2), model.prior.causal_layer(loc_eps), atol=1e-6)
    # concept 1 = eps1 + eps0: variance adds
    var = scale.reshape(5, 3, 2).pow(2)
    assert torch.allclose(var[:, 1], scale_eps[:, 0].pow(2) + scale_eps[:, 1].pow(2), atol=1e-5)
    assert torch.allclose(model.representation(x), loc)
    assert model.reconstruct(x).shape == x.shape
    assert model.decode(loc.reshape(5, 3, 2)).shape == x.shape


def test_samples_from_the_scm_without_labels():
    model = _model()
    model.eval()
    with torch.no_grad():
        params = model.model(batch_size=7)
    assert params.shape == (7, SIDE)


def test_missing_labels_get_a_clear_error():
    model = _model()
    x, _ = _data(4)
    with pytest.raises(ValueError, match="labels"):
        model.model(x)
    with pytest.raises(ValueError, match="labels"):
        model.guide(x)
    with pytest.raises(ValueError, match=r"\(x, factors, u\)"):
        model.inputs_from_batch((x, torch.zeros(4, 3)))
    inputs = model.inputs_from_batch((x, torch.zeros(4, 3), torch.rand(4, 3)))
    assert set(inputs) == {"x", "u"}


def test_model_sites_follow_the_contract():
    model = _model()
    x, u = _data(4)
    trace = pyro.poutine.trace(model.model).get_trace(x, u)
    assert trace.nodes["eps"]["value"].shape == (4, N_CONCEPTS, CONCEPT_DIM)
    assert trace.nodes["z"]["value"].shape == (4, N_CONCEPTS, CONCEPT_DIM)
    assert {"dag_penalty", "label_loss", "mask_loss", "x"} <= set(trace.nodes)


def test_traversals_and_kl_per_dim_use_the_concept_blocks():
    model = _model()
    model.eval()
    x, u = _data(8)
    traversal = traverse(model, x, steps=3)
    assert traversal.site == "z" and sorted(traversal.dims) == [0, 1, 2]
    assert traversal.latents.shape == (3, 3, N_CONCEPTS, CONCEPT_DIM)
    loc, scale = model.encode(x)
    loc, scale = loc.reshape(8, 3, 2), scale.reshape(8, 3, 2)
    centre = 2.0 * (u - 0.5)[:, :, None]  # p(z | u): label_scale 2, label_shift 0.5
    expected = (0.5 * (scale**2 + (loc - centre) ** 2 - 1) - scale.log()).mean(0)
    assert torch.allclose(kl_per_dim(model, x, inputs={"u": u}), expected, atol=1e-5)
    eps_kl = kl_per_dim(model, x, site="eps")
    loc_e, scale_e = model.encode_exogenous(x)
    expected = (0.5 * (scale_e**2 + loc_e**2 - 1) - scale_e.log()).mean(0)
    assert torch.allclose(eps_kl, expected, atol=1e-5)
    prior = traverse(model, None, site="eps", steps=2)
    assert prior.latents.shape == (3, 2, N_CONCEPTS, CONCEPT_DIM)
