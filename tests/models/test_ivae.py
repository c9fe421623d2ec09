import numpy as np
import pyro
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam

from pyro_vae.cli import main
from pyro_vae.data import NonlinearICA
from pyro_vae.infer import TCELBO, BetaELBO
from pyro_vae.likelihoods import Gaussian
from pyro_vae.models import IVAE
from pyro_vae.priors import ConditionalGaussian
from pyro_vae.runs import load_run


def _data(n_seg=4, per=16, dim=2):
    ds = NonlinearICA(num_segments=n_seg, per_segment=per, latent_dim=dim, cond_samples=200)
    return ds, ds.get_batch(np.arange(len(ds)))


def test_model_and_guide_sites_and_shapes():
    ds, (x, s, u) = _data()
    ivae = IVAE.mlp((2,), context_dim=4, latent_dim=2, hidden_dims=(8, 8), learn_prior_mean=True)
    assert isinstance(ivae.prior, ConditionalGaussian) and ivae.prior.loc is not None
    assert isinstance(ivae.likelihood, Gaussian) and ivae.likelihood.scale() == 0.1
    guide_tr = pyro.poutine.trace(ivae.guide).get_trace(x, u, dataset_size=len(ds))
    model_tr = pyro.poutine.trace(pyro.poutine.replay(ivae.model, trace=guide_tr)).get_trace(
        x, u, dataset_size=len(ds)
    )
    samples = [n for n, site in model_tr.nodes.items() if site["type"] == "sample"]
    assert samples == ["data", "z", "x"]  # u is conditioning input, not a site
    assert model_tr.nodes["z"]["value"].shape == (64, 2)
    # the guide reads u: changing u changes q(z | x, u)
    loc, _ = ivae.encode(x, u)
    loc2, _ = ivae.encode(x, u.roll(1, dims=1))
    assert not torch.allclose(loc, loc2)
    assert ivae.representation(x, u).shape == (64, 2)
    assert ivae.reconstruct(x, u).shape == x.shape
    assert ivae.model(u=u, batch_size=64).shape == (64, 2)  # sampling without x


def test_inputs_from_batch_needs_the_context():
    ds, batch = _data()
    ivae = IVAE.mlp((2,), context_dim=4, latent_dim=2, hidden_dims=(8,))
    inputs = ivae.inputs_from_batch(batch)
    assert inputs["x"] is batch[0] and inputs["u"] is batch[2]
    with pytest.raises(ValueError, match="observed context u"):
        ivae.inputs_from_batch((batch[0], batch[1]))
    with pytest.raises(ValueError, match="context u"):
        BetaELBO().loss(ivae.model, ivae.guide, batch[0])


def test_prior_mean_fixed_at_zero_by_default_as_the_official_code():
    ivae = IVAE.mlp((2,), context_dim=4, latent_dim=2)
    assert ivae.prior.loc is None
    loc, _ = ivae.prior.params(torch.eye(4))
    assert torch.equal(loc, torch.zeros(4, 2))


def test_trains_with_svi_and_learns_segment_variances():
    ds, (x, s, u) = _data(n_seg=2, per=64)
    torch.manual_seed(0)
    ivae = IVAE.mlp((2,), context_dim=2, latent_dim=2, hidden_dims=(16, 16))
    svi = SVI(ivae.model, ivae.guide, Adam({"lr": 3e-3}), loss=BetaELBO(1.0))
    first = np.mean([svi.evaluate_loss(x, u) for _ in range(10)])
    for _ in range(300):
        svi.step(x, u)
    last = np.mean([svi.evaluate_loss(x, u) for _ in range(10)])
    assert last < first - 1.0
    _, scale = ivae.prior.params(torch.eye(2))
    assert not torch.allclose(scale[0], scale[1], rtol=0.05)  # the prior depends on u


def test_tc_elbo_through_svi_and_equal_to_the_elbo_at_unit_weights():
    ds, (x, s, u) = _data()
    ivae = IVAE.mlp((2,), context_dim=4, latent_dim=2, hidden_dims=(8,))
    kwargs = {"dataset_size": len(ds)}
    pyro.set_rng_seed(2)
    tc = TCELBO(1.0, 1.0, 1.0, dataset_size=len(ds)).loss(ivae.model, ivae.guide, x, u, **kwargs)
    pyro.set_rng_seed(2)
    elbo = BetaELBO(1.0, analytic_kl=False).loss(ivae.model, ivae.guide, x, u, **kwargs)
    assert tc == pytest.approx(elbo, rel=1e-5)
    svi = SVI(ivae.model, ivae.guide, Adam({"lr": 1e-2}), loss=TCELBO(beta=4.0, **kwargs))
    losses = [svi.step(x[:16], u[:16], **kwargs) for _ in range(5)]
    assert np.isfinite(losses).all()


def test_preset_through_the_cli(tmp_path):
    out = tmp_path / "run"
    argv = ["fit", "--model", "ivae", "--dataset", "nonlinear-ica", "--steps", "3",
            "--batch-size", "16", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert (out / "reconstructions.png").is_file() and (out / "traversal.png").is_file()
    run = load_run(out)
    assert isinstance(run.model, IVAE) and run.model.context_dim == 40
    assert run.model.prior.loc is None  # the preset fixes the prior mean at 0
