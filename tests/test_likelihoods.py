import pytest
import torch
import torch.nn.functional as F

from pyro_vae.likelihoods import Bernoulli, Gaussian, Laplace, Poisson, get_likelihood


def test_bernoulli_log_prob_is_negative_bce_summed_over_pixels():
    logits = torch.randn(4, 1, 5, 5)
    x = torch.rand(4, 1, 5, 5)  # grey values are allowed
    lp = Bernoulli()(logits, 3).log_prob(x)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum((1, 2, 3))
    assert lp.shape == (4,)
    assert torch.allclose(lp, -bce, atol=1e-5)


def test_bernoulli_rejects_data_outside_unit_interval_and_names_fix():
    with pytest.raises(ValueError, match="gaussian"):
        Bernoulli().validate(torch.tensor([0.0, 1.5]))
    with pytest.raises(ValueError, match="non-finite"):
        Bernoulli().validate(torch.tensor([0.0, float("nan")]))
    Bernoulli().validate(torch.tensor([0.0, 0.3, 1.0]))


def test_gaussian_and_laplace_scales():
    loc = torch.zeros(2, 3)
    x = torch.ones(2, 3)
    g = Gaussian(2.0)(loc, 1).log_prob(x)
    expected = torch.distributions.Normal(0.0, 2.0).log_prob(torch.ones(3)).sum()
    assert torch.allclose(g, expected.expand(2))
    learned = Gaussian("learned")
    assert [n for n, _ in learned.named_parameters()] == ["log_scale"]
    lap = Laplace(0.5)(loc, 1).log_prob(x)
    assert torch.allclose(lap, torch.distributions.Laplace(0.0, 0.5).log_prob(x).sum(-1))
    with pytest.raises(ValueError, match="positive"):
        Gaussian(-1.0)
    with pytest.raises(ValueError, match="non-finite"):
        Gaussian().validate(torch.tensor([float("inf")]))


def test_get_likelihood_by_name():
    assert isinstance(get_likelihood("laplace"), Laplace)
    with pytest.raises(ValueError, match="bernoulli"):
        get_likelihood("poisson-ish")


def test_poisson_log_prob_mean_and_count_check():
    log_rate = torch.randn(3, 4)
    x = torch.tensor([[0.0, 1.0, 2.0, 5.0]]).expand(3, 4)
    lp = Poisson()(log_rate, 1).log_prob(x)
    rate = log_rate.exp()
    expected = (x * log_rate - rate - torch.lgamma(x + 1)).sum(-1)  # log of r^x e^-r / x!
    assert lp.shape == (3,) and torch.allclose(lp, expected, atol=1e-5)
    assert torch.allclose(Poisson().mean(log_rate), rate)
    assert isinstance(get_likelihood("poisson"), Poisson)
    Poisson().validate(x)
    with pytest.raises(ValueError, match="counts"):
        Poisson().validate(torch.tensor([0.5, 2.0]))
    with pytest.raises(ValueError, match="counts"):
        Poisson().validate(torch.tensor([-1.0]))


@pytest.mark.parametrize("likelihood", [Bernoulli(), Gaussian(), Laplace(), Poisson()])
def test_every_likelihood_rejects_an_empty_batch_with_a_clear_error(likelihood):
    with pytest.raises(ValueError, match="empty"):
        likelihood.validate(torch.zeros(0, 1, 4, 4))
