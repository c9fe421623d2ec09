import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import Trace_ELBO, TraceMeanField_ELBO

from pyro_vae.infer import BetaELBO, ELBOTerms
from tests.infer.linear_gaussian import closed_form_terms, make_linear_vae


def test_per_example_terms_match_closed_form_kl_and_sampled_loglik():
    vae = make_linear_vae()
    x = torch.randn(7, 3)
    terms = BetaELBO().terms(vae.model, vae.guide, x)
    assert terms.batch_size == terms.plate_size == 7
    _, kl = closed_form_terms(vae, x)
    assert torch.allclose(terms.kl("z"), kl, atol=1e-5)
    z = terms.value("z")
    mean = vae.decoder(z)
    expected = dist.Normal(mean, 0.7).log_prob(x).sum(-1)
    assert torch.allclose(terms.log_likelihood(), expected, atol=1e-5)
    loc, scale = vae.encode(x)
    log_q = dist.Normal(loc, scale).log_prob(z).sum(-1)
    log_p = dist.Normal(0.0, 1.0).log_prob(z).sum(-1)
    assert torch.allclose(terms.kl("z", analytic=False), log_q - log_p, atol=1e-5)


def test_elbo_equals_closed_form_in_expectation():
    vae = make_linear_vae()
    x = torch.randn(1, 3).expand(20000, 3)  # one example, 20000 posterior samples
    terms = BetaELBO().terms(vae.model, vae.guide, x)
    exp_loglik, kl = closed_form_terms(vae, x[:1])
    loglik = terms.log_likelihood().detach()
    se = loglik.std() / loglik.numel() ** 0.5
    assert abs(loglik.mean() - exp_loglik[0]) < 4 * se
    value = terms.elbo().detach()
    assert abs(value - (exp_loglik[0] - kl[0])) < 4 * se


@pytest.mark.parametrize("dataset_size", [None, 50])
@pytest.mark.parametrize("analytic, reference", [(True, TraceMeanField_ELBO), (False, Trace_ELBO)])
def test_beta_one_equals_pyro_elbo_divided_by_plate_size(dataset_size, analytic, reference):
    vae = make_linear_vae()
    x = torch.randn(5, 3)
    kwargs = {} if dataset_size is None else {"dataset_size": dataset_size}
    pyro.set_rng_seed(3)
    ours = BetaELBO(1.0, analytic_kl=analytic).loss(vae.model, vae.guide, x, **kwargs)
    pyro.set_rng_seed(3)
    theirs = reference().loss(vae.model, vae.guide, x, **kwargs)
    n = dataset_size or 5
    assert ours == pytest.approx(theirs / n, rel=1e-5, abs=1e-5)


def _model_with_globals(x, dataset_size=None):
    n = x.shape[0]
    shift = pyro.sample("shift", dist.Normal(0.0, 1.0))
    pyro.factor("global_penalty", -0.5 * shift**2)
    plate = pyro.plate("data", dataset_size or n, subsample=torch.arange(n))
    with plate:
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        pyro.factor("local_penalty", -0.1 * z**2)
        pyro.sample("x", dist.Normal(z + shift, 1.0), obs=x)


def _guide_with_globals(x, dataset_size=None):
    n = x.shape[0]
    loc = pyro.param("shift_loc", torch.tensor(0.3))
    pyro.sample("shift", dist.Normal(loc, 0.5))
    with pyro.plate("data", dataset_size or n, subsample=torch.arange(n)):
        pyro.sample("z", dist.Normal(0.5 * x, 0.8))


@pytest.mark.parametrize("analytic, reference", [(True, TraceMeanField_ELBO), (False, Trace_ELBO)])
def test_global_sites_and_factors(analytic, reference):
    x = torch.randn(6)
    pyro.set_rng_seed(1)
    loss = BetaELBO(1.0, analytic_kl=analytic)
    ours = loss.loss(_model_with_globals, _guide_with_globals, x, dataset_size=40)
    pyro.set_rng_seed(1)
    theirs = reference().loss(_model_with_globals, _guide_with_globals, x, dataset_size=40)
    assert ours == pytest.approx(theirs / 40, rel=1e-5)
    pyro.set_rng_seed(1)
    model_trace, guide_trace = loss._get_trace(
        _model_with_globals, _guide_with_globals, (x,), {"dataset_size": 40}
    )
    terms = ELBOTerms(model_trace, guide_trace)
    assert terms.global_latents == ["shift"] and terms.local_latents == ["z"]
    assert terms.global_factor_sites == ["global_penalty"]
    assert terms.local_factor_sites == ["local_penalty"]
    assert terms.local_observed == ["x"]
    assert torch.allclose(terms.local_factors(), -0.1 * terms.value("z") ** 2)


def test_missing_data_plate_is_a_clear_error():
    def model(x):
        pyro.sample("x", dist.Normal(0.0, 1.0).expand([3]).to_event(1), obs=x)

    def guide(x):
        pass

    with pytest.raises(ValueError, match="plate named 'data'"):
        BetaELBO().loss(model, guide, torch.zeros(3))
