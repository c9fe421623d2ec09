import math

import pyro
import pyro.distributions as dist
import pyro.poutine as poutine
import pytest
import torch

from pyro_vae.infer import MMDELBO, imq_kernel, mmd_unbiased, rbf_kernel
from pyro_vae.infer.kernels import default_bandwidth, make_kernel
from pyro_vae.priors import LatentContext
from tests.infer.objective_helpers import (
    LaplacePrior,
    single_thread,
    small_vae,
    svi_losses,
    toy_images,
)


# ------------------------------------------------------------------- kernels
def test_kernels_by_hand():
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0, 2.0]])
    # squared distances: 4 and 2
    expected = torch.tensor([[math.exp(-1)], [math.exp(-0.5)]])
    torch.testing.assert_close(rbf_kernel(x, y, 4.0), expected)
    torch.testing.assert_close(imq_kernel(x, y, 4.0), torch.tensor([[0.5], [4 / 6]]))
    assert default_bandwidth(10) == 20.0


def test_unbiased_estimator_equals_its_definition():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 3, generator=g), torch.randn(4, 3, generator=g) + 1
    kernel = make_kernel("imq", 6.0)
    k = lambda a, b: float(kernel(a[None], b[None]))  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    yy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / (4 * 3)
    xy = sum(k(x[i], y[j]) for i in range(5) for j in range(4)) / (5 * 4)
    assert float(mmd_unbiased(x, y, kernel)) == pytest.approx(xx + yy - 2 * xy, rel=1e-5)


def _gaussian_mmd2(shift, dim, h, s=1.0):
    """Closed form MMD^2 between N(0, s^2 I) and N(shift e_1, s^2 I), RBF exp(-r^2/h)."""
    c = (h / (h + 4 * s**2)) ** (dim / 2)
    return 2 * c * (1 - math.exp(-(shift**2) / (h + 4 * s**2)))


@single_thread()
def _average_mmd(shift, kind="rbf", dim=4, n=64, reps=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    kernel = make_kernel(kind, default_bandwidth(dim))
    x = torch.randn(reps, n, dim, generator=g)
    y = torch.randn(reps, n, dim, generator=g)
    y[..., 0] += shift
    values = mmd_unbiased(x, y, kernel)  # one estimate per repetition
    return values.mean(), values.std() / math.sqrt(reps), values


def test_mmd_is_about_zero_for_identical_distributions_and_can_be_negative():
    mean, se, values = _average_mmd(0.0)
    assert abs(float(mean)) < 3 * float(se)
    assert float(se) < 2e-3
    assert (values < 0).any()  # unbiased: negative about half the time


@pytest.mark.parametrize("shift", [0.5, 1.0, 2.0])
def test_mmd_matches_the_gaussian_closed_form(shift):
    mean, se, _ = _average_mmd(shift)
    expected = _gaussian_mmd2(shift, 4, default_bandwidth(4))
    assert float(mean) == pytest.approx(expected, abs=4 * float(se))


@pytest.mark.parametrize("kind", ["rbf", "imq"])
def test_mmd_grows_with_a_mean_shift(kind):
    means = [float(_average_mmd(s, kind, reps=100)[0]) for s in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(means[:-1], means[1:], strict=True))
    assert means[-1] > 0.1


def test_batched_estimates_equal_one_by_one():
    x, y = torch.randn(3, 6, 2), torch.randn(3, 5, 2)
    kernel = make_kernel("rbf", 2.0)
    one_by_one = torch.stack([mmd_unbiased(x[r], y[r], kernel) for r in range(3)])
    torch.testing.assert_close(mmd_unbiased(x, y, kernel), one_by_one)


def test_mmd_rejects_bad_samples():
    kernel = make_kernel("rbf", 1.0)
    with pytest.raises(ValueError, match="at least 2 samples"):
        mmd_unbiased(torch.zeros(1, 2), torch.zeros(3, 2), kernel)
    with pytest.raises(ValueError, match=r"\(n, D\) and \(m, D\)"):
        mmd_unbiased(torch.zeros(3, 2), torch.zeros(3, 4), kernel)
    with pytest.raises(ValueError, match="kernel must be one of"):
        make_kernel("laplace", 1.0)


# ------------------------------------------------------------------ the loss
def test_loss_weights_kl_and_mmd_as_the_paper():
    vae = small_vae()
    x = toy_images()[:16]
    loss = MMDELBO(alpha=0.5, lambda_=10.0, prior=vae.prior)
    pyro.set_rng_seed(0)
    value = loss.loss(vae.model, vae.guide, x)
    t = {k: float(v) for k, v in loss.last_terms.items()}
    assert value == pytest.approx(t["recon"] + 0.5 * t["kl"] + 9.5 * t["mmd"], rel=1e-5)
    elbo = MMDELBO(alpha=0.0, lambda_=1.0)  # the ELBO: no MMD weight
    pyro.set_rng_seed(0)
    assert elbo.loss(vae.model, vae.guide, x) == pytest.approx(t["recon"] + t["kl"], rel=1e-5)


class Hierarchical(torch.nn.Module):
    """Prior w ~ N(0, 1), z | w ~ N(w, 0.1^2) per example; the guide puts w at 5,
    so the prior conditioned on the guide's w would be centred at 5."""

    def prior(self, ctx):
        with ctx.plate:
            w = pyro.sample("w", dist.Normal(torch.zeros(ctx.batch_size, 2), 1.0).to_event(1))
            return pyro.sample("z", dist.Normal(w, 0.1).to_event(1))

    def model(self, x):
        n = x.shape[0]
        plate = pyro.plate("data", n)
        z = self.prior(LatentContext(plate, n))
        with plate:
            pyro.sample("x", dist.Normal(z, 1.0).to_event(1), obs=x)

    def guide(self, x):
        with pyro.plate("data", x.shape[0]):
            pyro.sample("w", dist.Normal(torch.full_like(x, 5.0), 0.1).to_event(1))
            pyro.sample("z", dist.Normal(torch.full_like(x, 5.0), 0.1).to_event(1))


@pytest.mark.parametrize("use_prior_program", [True, False])
def test_prior_samples_come_from_a_blocked_run_of_the_marginal_prior(use_prior_program):
    net = Hierarchical()
    x = torch.zeros(2000, 2)
    loss = MMDELBO(prior=net.prior if use_prior_program else None)
    with poutine.trace() as outer:
        samples = loss.prior_samples(net.model, (x,), {}, 2000, x.device)
    assert not [n for n, s in outer.trace.nodes.items() if s["type"] == "sample"]
    assert samples.shape == (2000, 2)
    assert samples.mean(0).abs().max() < 0.1
    assert samples.var(0).sub(1.01).abs().max() < 0.12
    # in the loss, z ~ q sits at 5 and the marginal prior at 0: the MMD is large
    pyro.set_rng_seed(0)
    loss.loss(net.model, net.guide, x[:64])
    assert float(loss.last_terms["mmd"]) > 0.3


def test_prior_program_path_skips_the_decoder_and_samples_the_same_prior():
    vae = small_vae()
    calls = []
    vae.decoder.register_forward_hook(lambda *args: calls.append(1))
    x = toy_images()[:16]
    pyro.set_rng_seed(5)
    fast = MMDELBO(prior=vae.prior).loss(vae.model, vae.guide, x)
    assert len(calls) == 1  # the model's replay only
    pyro.set_rng_seed(5)
    full = MMDELBO().loss(vae.model, vae.guide, x)
    assert len(calls) == 3  # replay + the blocked prior run of the whole model
    assert fast == pytest.approx(full, rel=1e-6)


@pytest.mark.parametrize("kernel", ["rbf", "imq"])
def test_svi_decreases_the_loss(kernel):
    vae = small_vae()
    before, after = svi_losses(vae, MMDELBO(kernel=kernel, prior=vae.prior), toy_images())
    assert after < before - 10


@pytest.mark.parametrize("use_prior_program", [True, False])
def test_works_with_a_user_written_laplace_prior(use_prior_program):
    prior = LaplacePrior(3)
    vae = small_vae(prior=prior)
    loss = MMDELBO(prior=prior if use_prior_program else None, bandwidth=2 * 3 * 2.0)
    with single_thread():
        samples = loss.prior_samples(vae.model, (toy_images(),), {}, 64, torch.device("cpu"))
    # Laplace(0, 1): mean absolute value 1 (a normal's would be 0.8)
    assert samples.abs().mean().sub(1.0).abs() < 0.15
    before, after = svi_losses(vae, loss, toy_images())
    assert after < before - 10


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="alpha must be <= 1"):
        MMDELBO(alpha=2.0)
    with pytest.raises(ValueError, match="MMD weight"):
        MMDELBO(alpha=0.0, lambda_=0.5)
    with pytest.raises(ValueError, match="kernel must be one of"):
        MMDELBO(kernel="gauss")
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        MMDELBO(bandwidth=0.0)
    vae = small_vae()
    with pytest.raises(ValueError, match="no sample site 'w'"):
        MMDELBO(prior=vae.prior, site="w").prior_samples(vae.model, (), {}, 4, torch.device("cpu"))
    with pytest.raises(ValueError, match="not a local latent site"):
        MMDELBO(site="w").loss(vae.model, vae.guide, toy_images()[:4])
