import numpy as np
import pyro
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam

from pyro_vae import zoo
from pyro_vae.cli import main
from pyro_vae.data import SparseMechanismShift, get_dataset
from pyro_vae.infer import TCELBO, BetaELBO
from pyro_vae.likelihoods import Poisson
from pyro_vae.models import SVAE
from pyro_vae.priors import SpikeAndSlab
from pyro_vae.runs import load_run
from pyro_vae.train import fit


def _data(**kwargs):
    options = dict(num_actions=4, per_action=32, latent_dim=2, observed_dim=6, hidden_dim=4)
    options.update(kwargs, max_targets=1)
    return SparseMechanismShift(**options)


def test_sites_global_and_local():
    ds = _data()
    x, _, u = ds.get_batch(np.arange(0, 128, 8))
    svae = SVAE.mlp((6,), num_actions=4, latent_dim=2, hidden_dims=(8,))
    assert isinstance(svae.prior, SpikeAndSlab) and svae.prior.sparsity == 2.0
    guide_tr = pyro.poutine.trace(svae.guide).get_trace(x, u, dataset_size=128)
    model_tr = pyro.poutine.trace(pyro.poutine.replay(svae.model, trace=guide_tr)).get_trace(
        x, u, dataset_size=128
    )
    samples = [n for n, s in model_tr.nodes.items() if s["type"] == "sample"]
    assert samples == ["data", "pi", "gamma", "z", "x"]
    assert model_tr.nodes["z"]["cond_indep_stack"][0].name == "data"
    # the encoder reads x only: q(z | x)
    torch.testing.assert_close(svae.encode(x, u)[0], svae.encode(x)[0])
    assert svae.representation(x).shape == (16, 2)
    assert svae.learned_mask().shape == (4, 2) and svae.learned_mask().all()  # init pi ~ 0.99


def test_log1p_input_for_counts():
    ds = _data(observation="poisson", library_size=200.0)
    x, _, u = ds.get_batch(np.arange(8))
    svae = SVAE.mlp((6,), 4, 2, hidden_dims=(8,), likelihood="poisson", log1p_input=True)
    assert isinstance(svae.likelihood, Poisson)
    torch.testing.assert_close(svae.encode(x)[0], svae.encoder(torch.log1p(x))[0])
    assert np.isfinite(BetaELBO().loss(svae.model, svae.guide, x, u, dataset_size=128))


def test_trains_with_svi():
    ds = _data(noise_std=0.05, seed=1)
    x, _, u = ds.get_batch(np.arange(len(ds)))
    torch.manual_seed(0)
    svae = SVAE.mlp((6,), 4, 2, hidden_dims=(32,), sparsity=4.0)
    svi = SVI(svae.model, svae.guide, Adam({"lr": 1e-2}), loss=BetaELBO(1.0))
    first = np.mean([svi.evaluate_loss(x, u) for _ in range(10)])
    logits = svae.prior.pi_logits.detach().clone()
    for _ in range(200):
        svi.step(x, u)
    last = np.mean([svi.evaluate_loss(x, u) for _ in range(10)])
    assert last < first - 10.0
    assert not torch.equal(svae.prior.pi_logits.detach(), logits)


def test_fit_optimises_the_prior_parameters():
    ds = _data()
    svae = SVAE.mlp((6,), 4, 2, hidden_dims=(8,))
    before = {k: v.detach().clone() for k, v in svae.prior.named_parameters()}
    result = fit(svae, BetaELBO(1.0), ds, steps=3, batch_size=16, lr=1e-2, device="cpu",
                 progress=False)  # fmt: skip
    assert result.step == 3
    for name, value in svae.prior.named_parameters():
        assert not torch.equal(before[name], value.detach()), name


def test_missing_action_is_a_clear_error():
    svae = SVAE.mlp((6,), 4, 2, hidden_dims=(8,))
    with pytest.raises(ValueError, match="action"):
        BetaELBO().loss(svae.model, svae.guide, torch.randn(3, 6))


def test_tc_elbo_through_svi_and_equal_to_the_elbo_at_unit_weights():
    ds = _data()
    x, _, u = ds.get_batch(np.arange(0, 128, 4))
    svae = SVAE.mlp((6,), 4, 2, hidden_dims=(8,))
    kwargs = {"dataset_size": len(ds)}
    pyro.set_rng_seed(2)
    tc = TCELBO(1.0, 1.0, 1.0, dataset_size=len(ds)).loss(svae.model, svae.guide, x, u, **kwargs)
    pyro.set_rng_seed(2)
    elbo = BetaELBO(1.0, analytic_kl=False).loss(svae.model, svae.guide, x, u, **kwargs)
    assert tc == pytest.approx(elbo, rel=1e-5)
    svi = SVI(svae.model, svae.guide, Adam({"lr": 1e-2}), loss=TCELBO(beta=4.0, **kwargs))
    logits = svae.prior.pi_logits.detach().clone()
    losses = [svi.step(x, u, **kwargs) for _ in range(5)]
    assert np.isfinite(losses).all()
    assert not torch.equal(svae.prior.pi_logits.detach(), logits)  # the global sites train too


def test_preset_through_the_cli(tmp_path):
    out = tmp_path / "run"
    argv = ["fit", "--model", "svae", "--dataset", "sparse-shift", "--steps", "3",
            "--batch-size", "16", "--device", "cpu", "--out", str(out), "--no-progress",
            "--hp", "sparsity=4"]  # fmt: skip
    assert main(argv) == 0
    run = load_run(out)
    assert isinstance(run.model, SVAE) and run.model.num_actions == 100
    assert run.model.prior.sparsity == 4.0 and run.model.latent_dim == 15


def test_preset_needs_a_dataset_with_a_context():
    import tests.toy  # noqa: F401  (registers toy-squares)

    with pytest.raises(ValueError, match="observed context"):
        zoo.build("svae", get_dataset("toy-squares"))
