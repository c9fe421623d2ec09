import arviz as az
import numpy as np
import pytest
import torch

import tests.toy  # noqa: F401  (registers toy-squares)
from pyro_vae.analysis import loo_summary, plot_ppc, posterior_predictive, ppc_table
from pyro_vae.data import get_dataset
from pyro_vae.models import VAE
from tests.analysis.standins import Concepts, linear_vae


def _data(n=12, shape=(1, 2, 2), seed=0):
    return torch.randn(n, *shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def toy_idata():
    x = get_dataset("toy-squares").get_batch(np.arange(0, 64, 4))[0]
    model = VAE.mlp((1, 16, 16), latent_dim=3, hidden_dims=(16,))
    idata = posterior_predictive(
        model, None, x, 30, pixel_log_likelihood=True, example_ids=np.arange(0, 64, 4), seed=1
    )
    return idata, x


def test_groups_dims_and_shapes_are_the_documented_ones(toy_idata):
    idata, x = toy_idata
    assert set(idata.groups()) == {
        "posterior",
        "posterior_predictive",
        "log_likelihood",
        "observed_data",
    }
    z = idata.posterior["z"]
    assert z.dims == ("chain", "draw", "example", "z_dim") and z.shape == (1, 30, 16, 3)
    assert list(idata.posterior.data_vars) == ["z"]  # no plate subsample site
    pp = idata.posterior_predictive
    assert pp["x"].dims == ("chain", "draw", "example", "channel", "height", "width")
    assert pp["x"].shape == (1, 30, 16, 1, 16, 16)
    assert pp["mean_intensity"].dims == ("chain", "draw", "example")
    assert pp["pixel_mean"].dims == ("chain", "draw", "pixel") and pp.sizes["pixel"] == 256
    obs = idata.observed_data
    assert obs["x"].dims == ("example", "channel", "height", "width")
    np.testing.assert_array_equal(obs["x"].values, x.numpy())
    np.testing.assert_allclose(obs["mean_intensity"].values, x.numpy().mean((1, 2, 3)))
    ll = idata.log_likelihood
    assert ll["x"].dims == ("chain", "draw", "example")
    assert ll["x_pixel"].dims == ("chain", "draw", "example", "channel", "height", "width")
    np.testing.assert_allclose(
        ll["x_pixel"].sum(("channel", "height", "width")).values, ll["x"].values, rtol=1e-4
    )
    assert list(idata.posterior["example"].values) == list(range(0, 64, 4))


def test_replicated_x_are_fresh_draws_not_the_data(toy_idata):
    idata, x = toy_idata
    rep = idata.posterior_predictive["x"].values[0]
    assert set(np.unique(rep)) <= {0.0, 1.0}  # Bernoulli draws
    differs = (rep != x.numpy()[None]).mean()
    assert differs > 0.05  # an untrained decoder: p ~ 0.5 per pixel
    assert not np.array_equal(rep[0], rep[1])  # and draws differ from each other


def test_arviz_summary_ppc_and_loo_run(toy_idata):
    idata, _ = toy_idata
    summary = az.summary(idata, var_names=["z"], kind="stats")
    assert len(summary) == 16 * 3 and {"mean", "sd"} <= set(summary.columns)
    fig = plot_ppc(idata, num_pp_samples=10)
    assert len(fig.axes) >= 2
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == ["mean_intensity", "pixel_mean"]
    loo = loo_summary(idata)
    assert loo["examples"] == 16 and 0.0 <= loo["fraction_k_above_0.7"] <= 1.0
    rows = ppc_table(idata)
    assert [r["statistic"] for r in rows][0] == "mean intensity"
    assert all(0.0 <= r["p_value"] <= 1.0 for r in rows)


def test_log_likelihood_and_draws_match_the_model():
    # identity decoder, Gaussian(1) likelihood: log p(x | z) = sum Normal(z, 1).log_prob(x)
    model, x = linear_vae(), _data(12)
    idata = posterior_predictive(model, None, x, 400, seed=0)
    z = idata.posterior["z"].values[0]  # (draw, example, 4)
    flat = x.flatten(1).numpy()
    expected = torch.distributions.Normal(torch.from_numpy(z), 1.0).log_prob(torch.from_numpy(flat))
    np.testing.assert_allclose(idata.log_likelihood["x"].values[0], expected.sum(-1), rtol=1e-5)
    # the draws are from q(z | x) = N(gain * x, scale^2)
    loc = (model.encoder.gains * x.flatten(1)).numpy()
    scale = model.encoder.scales.numpy()
    np.testing.assert_allclose(z.mean(0), loc, atol=4 * scale.max() / np.sqrt(400))
    np.testing.assert_allclose(z.std(0).mean(0), scale, rtol=0.1)
    # and x_rep ~ N(z, 1): the residual has unit variance
    rep = idata.posterior_predictive["x"].values[0].reshape(400, 12, 4)
    assert abs((rep - z).std() - 1.0) < 0.05


def test_global_sites_have_no_example_dim():
    idata = posterior_predictive(Concepts(), None, _data(5, (6,)), 7, seed=0)
    A, z = idata.posterior["A"], idata.posterior["z"]
    assert A.dims == ("chain", "draw", "A_dim_0", "A_dim_1") and A.shape == (1, 7, 3, 3)
    assert z.dims == ("chain", "draw", "example", "z_dim_0", "z_dim_1")
    assert z.shape == (1, 7, 5, 3, 2)
    assert idata.posterior_predictive["x"].dims == ("chain", "draw", "example", "x_dim")
    np.testing.assert_allclose(A.values.mean(), 0.25, atol=0.05)


def test_seeded_draws_repeat_and_leave_the_global_rng_alone():
    model, x = linear_vae(), _data(3)
    state = torch.get_rng_state()
    a = posterior_predictive(model, None, x, 5, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    b = posterior_predictive(model, None, x, 5, seed=3)
    np.testing.assert_array_equal(a.posterior["z"].values, b.posterior["z"].values)
    c = posterior_predictive(model, None, x, 5, seed=4)
    assert not np.array_equal(a.posterior["z"].values, c.posterior["z"].values)


def test_plain_pyro_programs_and_context_inputs():
    model = linear_vae()
    x = _data(4)
    u = torch.arange(8.0).reshape(4, 2)  # a context the standard prior ignores
    idata = posterior_predictive(model.model, model.guide, x, 3, inputs={"u": u}, seed=0)
    assert idata.posterior["z"].shape == (1, 3, 4, 4)
    assert idata.constant_data["u"].dims == ("example", "u_dim")
    np.testing.assert_array_equal(idata.constant_data["u"].values, u.numpy())
    with pytest.raises(ValueError, match="pass the guide"):
        posterior_predictive(model.model, None, x, 3)
    with pytest.raises(ValueError, match="needs the observed batch"):
        posterior_predictive(model, None, None, 3)
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        posterior_predictive(model, None, x, 0)


def test_ppc_p_values_on_a_hand_built_case():
    observed = np.zeros((2, 1, 2, 2))
    replicated = np.ones((1, 4, 2, 1, 2, 2))
    replicated[0, 0] = 0.0  # one draw equals the data, three are brighter
    idata = az.from_dict(
        posterior_predictive={"x": replicated},
        observed_data={"x": observed},
    )
    rows = {r["statistic"]: r for r in ppc_table(idata)}
    assert rows["mean intensity"]["observed"] == 0.0
    assert rows["mean intensity"]["replicated_mean"] == 0.75
    assert rows["mean intensity"]["p_value"] == 1.0  # T(x_rep) >= T(x) in every draw
    assert rows["fraction of pixels > 0.5"]["replicated_mean"] == 0.75
