import math
from fractions import Fraction

import pyro
import pyro.distributions as dist
import pytest
import torch

from pyro_vae.infer import (
    TCELBO,
    BetaELBO,
    aggregate_log_densities,
    factorized_site,
    mss_log_weights,
)
from tests.infer.objective_helpers import (
    FixedPosteriors,
    LaplacePrior,
    TwoLayer,
    single_thread,
    small_vae,
    svi_losses,
    toy_images,
)

F = Fraction


# ---------------------------------------------------------------- MSS weights
def _matrix(rows):
    return torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)


@pytest.mark.parametrize(
    "batch, n, expected",
    [
        # B = 2, M = 1: 1/N on the diagonal, (N - 1)/N for the other member
        (2, 7, [[F(1, 7), F(6, 7)], [F(6, 7), F(1, 7)]]),
        # B = 3, N = 5, M = 2: 1/5 diagonal, (5-2)/(5*2) = 3/10 next member, 1/2 otherwise
        (
            3,
            5,
            [
                [F(1, 5), F(3, 10), F(1, 2)],
                [F(1, 2), F(1, 5), F(3, 10)],
                [F(3, 10), F(1, 2), F(1, 5)],
            ],
        ),
        # B = 4, N = 10, M = 3: 1/10 diagonal, 7/30 next member, 1/3 otherwise
        (
            4,
            10,
            [
                [F(1, 10), F(7, 30), F(1, 3), F(1, 3)],
                [F(1, 3), F(1, 10), F(7, 30), F(1, 3)],
                [F(1, 3), F(1, 3), F(1, 10), F(7, 30)],
                [F(7, 30), F(1, 3), F(1, 3), F(1, 10)],
            ],
        ),
        # N = B (the minibatch is the data set): the stratum weight is 1/(NM)
        (
            3,
            3,
            [
                [F(1, 3), F(1, 6), F(1, 2)],
                [F(1, 2), F(1, 3), F(1, 6)],
                [F(1, 6), F(1, 2), F(1, 3)],
            ],
        ),
    ],
)
def test_mss_weight_matrix_entry_by_entry(batch, n, expected):
    weights = mss_log_weights(batch, n, dtype=torch.float64).exp()
    torch.testing.assert_close(weights, _matrix(expected), rtol=1e-12, atol=0)


@pytest.mark.parametrize("batch, n", [(2, 2), (5, 5), (5, 1000), (64, 737280)])
def test_mss_weight_rows_sum_to_one(batch, n):
    weights = mss_log_weights(batch, n, dtype=torch.float64).exp()
    torch.testing.assert_close(weights.sum(1), torch.ones(batch, dtype=torch.float64))
    torch.testing.assert_close(torch.diagonal(weights), torch.full((batch,), 1.0 / n).double())


def test_mss_weights_reject_bad_sizes():
    with pytest.raises(ValueError, match="batch of >= 2"):
        mss_log_weights(1, 10)
    with pytest.raises(ValueError, match="smaller than the batch"):
        mss_log_weights(8, 4)


def test_mss_mixture_is_unbiased_for_the_aggregate_posterior():
    """Over random minibatches holding the sample's own example at a random
    position, sum_j W_ij q(z | x_j) averages to the exact q(z)."""
    g = torch.Generator().manual_seed(3)
    n, batch, d, reps = 12, 5, 2, 40000
    loc, scale = torch.randn(n, d, generator=g), torch.rand(n, d, generator=g) + 0.4
    z = loc[0] + 0.3  # a point, thought of as a sample of example 0
    log_q = dist.Normal(loc, scale).log_prob(z).sum(-1)  # (n,)
    exact = log_q.exp().mean()
    others = torch.rand(reps, n - 1, generator=g).argsort(1)[:, : batch - 1] + 1
    members = torch.cat([torch.zeros(reps, 1, dtype=torch.long), others], 1)
    order = torch.rand(reps, batch, generator=g).argsort(1)
    members = members.gather(1, order)
    position = (members == 0).long().argmax(1)
    log_w = mss_log_weights(batch, n, dtype=torch.float64)[position]  # (reps, B)
    estimate = torch.logsumexp(log_w + log_q.double()[members], dim=1).exp()
    se = estimate.std() / math.sqrt(reps)
    assert abs(estimate.mean() - exact) < 4 * se
    assert se < 0.02 * exact


# ------------------------------------------------ brute force, N = M = dataset
def _posteriors(n=16, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.rand(n, d, generator=g) * 0.8 + 0.4


@single_thread()
def _estimates(estimator, particles=250, n=16, d=3):
    """Per particle: all n examples in a random order (a random minibatch that is
    the whole data set), the loss's estimates and the exact (brute-force mixture)
    values on the same samples, each per example."""
    loc, scale = _posteriors(n, d)
    fixed = FixedPosteriors(loc, scale)
    loss = TCELBO(dataset_size=n, estimator=estimator)
    rows = []
    for _ in range(particles):
        idx = torch.randperm(n)
        terms = loss.terms(fixed.model, fixed.guide, idx)
        parts = loss.decomposition(terms)
        exact_qz, exact_prod = fixed.exact_log_densities(terms.value("z"))
        log_qzx, log_pz = terms.log_guide("z"), terms.log_prior("z")
        est = dict(parts, log_qz=log_qzx - parts["mi"], log_prod=log_pz + parts["dim_kl"])
        exact = {
            "mi": log_qzx - exact_qz,
            "tc": exact_qz - exact_prod,
            "dim_kl": exact_prod - log_pz,
            "log_qz": exact_qz,
            "log_prod": exact_prod,
            "kl": log_qzx - log_pz,
            "analytic_kl": terms.kl("z", analytic=True),
        }
        rows.append({"est": est, "exact": exact, "terms": terms})
    return rows


def _mean(rows, side, key):
    return torch.stack([r[side][key].mean() for r in rows])


def test_mss_matches_brute_force_within_monte_carlo_tolerance():
    rows = _estimates("mss")
    for key in ("log_qz", "log_prod", "mi", "tc", "dim_kl"):
        # paired on the same samples: the difference is the estimator's error only
        diff = _mean(rows, "est", key) - _mean(rows, "exact", key)
        se = diff.std() / math.sqrt(len(rows))
        assert abs(diff.mean()) < 0.03 + 3 * se, key
    # the brute force itself: MI + TC + dim-KL is E[KL(q(z|x) || p(z))], known in closed form
    exact = {k: _mean(rows, "exact", k) for k in ("mi", "tc", "dim_kl", "kl", "analytic_kl")}
    total = exact["mi"] + exact["tc"] + exact["dim_kl"]
    torch.testing.assert_close(total, exact["kl"], rtol=1e-5, atol=1e-4)
    se = (exact["kl"] - exact["analytic_kl"]).std() / math.sqrt(len(rows))
    assert abs(float((exact["kl"] - exact["analytic_kl"]).mean())) < 4 * se
    assert exact["tc"].mean() > 0.05 and exact["mi"].mean() > 0.5  # not a degenerate case


def test_decomposition_telescopes_to_the_sampled_kl():
    for estimator in ("mss", "mws"):
        for row in _estimates(estimator, particles=3):
            est, terms = row["est"], row["terms"]
            total = est["mi"] + est["tc"] + est["dim_kl"]
            torch.testing.assert_close(total, row["exact"]["kl"], rtol=1e-5, atol=1e-4)
            torch.testing.assert_close(total, terms.kl("z", analytic=False), rtol=1e-5, atol=1e-4)


def test_mws_is_exact_minus_log_n_when_the_batch_is_the_dataset():
    n, d = 16, 3
    log_n = math.log(n)
    shifts = {"log_qz": -log_n, "log_prod": -d * log_n, "mi": log_n, "tc": (d - 1) * log_n}
    shifts["dim_kl"] = -d * log_n
    for row in _estimates("mws", particles=5, n=n, d=d):
        for key, shift in shifts.items():
            torch.testing.assert_close(
                row["est"][key], row["exact"][key] + shift, rtol=1e-5, atol=1e-4
            )
        pairwise = factorized_site(row["terms"], "z").pairwise_log_prob()
        log_qz, _ = aggregate_log_densities(pairwise, n, "mws")
        torch.testing.assert_close(log_qz, row["exact"]["log_qz"] - log_n, rtol=1e-5, atol=1e-4)


# ------------------------------------------------------------- the loss itself
def test_unit_weights_give_the_sampled_elbo_exactly():
    vae = small_vae()
    x = toy_images()[:16]
    for estimator in ("mss", "mws"):
        pyro.set_rng_seed(4)
        tc = TCELBO(1.0, 1.0, 1.0, dataset_size=64, estimator=estimator).loss(
            vae.model, vae.guide, x
        )
        pyro.set_rng_seed(4)
        ref = BetaELBO(1.0, analytic_kl=False).loss(vae.model, vae.guide, x)
        assert tc == pytest.approx(ref, rel=1e-5)


def test_weights_multiply_their_terms():
    vae = small_vae()
    x = toy_images()[:16]
    loss = TCELBO(alpha=0.5, beta=7.0, gamma=2.0, dataset_size=64)
    pyro.set_rng_seed(2)
    value = loss.loss(vae.model, vae.guide, x)
    t = {k: float(v) for k, v in loss.last_terms.items()}
    expected = t["recon"] + 0.5 * t["mi"] + 7.0 * t["tc"] + 2.0 * t["dim_kl"]
    assert value == pytest.approx(expected, rel=1e-5)
    assert t["kl"] == pytest.approx(t["mi"] + t["tc"] + t["dim_kl"], rel=1e-5)


def test_subsampled_data_plate_gives_the_same_per_example_loss():
    loc, scale = _posteriors(8, 3)
    idx = torch.arange(8)
    loss = TCELBO(beta=6.0, dataset_size=100)
    pyro.set_rng_seed(0)
    plain = loss.loss(FixedPosteriors(loc, scale).model, FixedPosteriors(loc, scale).guide, idx)
    plain_terms = dict(loss.last_terms)
    sub = FixedPosteriors(loc, scale, dataset_size=100)
    pyro.set_rng_seed(0)
    assert loss.loss(sub.model, sub.guide, idx) == pytest.approx(plain, rel=1e-6)
    for key, value in plain_terms.items():
        assert float(loss.last_terms[key]) == pytest.approx(float(value), rel=1e-5, abs=1e-6)
    # the VAE with fit()'s dataset_size keyword agrees as well
    vae = small_vae()
    x = toy_images()[:16]
    pyro.set_rng_seed(3)
    a = loss.loss(vae.model, vae.guide, x)
    pyro.set_rng_seed(3)
    assert loss.loss(vae.model, vae.guide, x, dataset_size=100) == pytest.approx(a, rel=1e-6)


def test_upper_layer_site_of_a_hierarchy_and_plain_kl_for_the_others():
    torch.manual_seed(0)
    net = TwoLayer()
    x = torch.randn(10, 4)
    loss = TCELBO(alpha=1.0, beta=3.0, gamma=1.0, dataset_size=50, site="z2")
    pyro.set_rng_seed(1)
    value = loss.loss(net.model, net.guide, x)
    t = {k: float(v) for k, v in loss.last_terms.items()}
    pyro.set_rng_seed(1)
    terms = loss.terms(net.model, net.guide, x)
    kl_z1 = float(terms.kl("z1").mean().detach())  # analytic: q(z1|x) vs p(z1|z2)
    assert value == pytest.approx(t["recon"] + t["mi"] + 3 * t["tc"] + t["dim_kl"] + kl_z1)
    assert t["kl"] == pytest.approx(t["mi"] + t["tc"] + t["dim_kl"] + kl_z1, rel=1e-5)
    one = TCELBO(1.0, 1.0, 1.0, dataset_size=50, site="z2", analytic_kl=False)
    pyro.set_rng_seed(1)
    ref = BetaELBO(1.0, analytic_kl=False).loss(net.model, net.guide, x)
    pyro.set_rng_seed(1)
    assert one.loss(net.model, net.guide, x) == pytest.approx(ref, rel=1e-5)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="needs dataset_size"):
        TCELBO()
    with pytest.raises(ValueError, match="estimator must be one of"):
        TCELBO(dataset_size=10, estimator="exact")
    vae = small_vae()
    x = toy_images()[:16]
    with pytest.raises(ValueError, match="larger than dataset_size"):
        TCELBO(dataset_size=8).loss(vae.model, vae.guide, x)
    with pytest.raises(ValueError, match="not a local latent site"):
        TCELBO(dataset_size=64, site="w").loss(vae.model, vae.guide, x)

    def mvn_guide(x):
        with pyro.plate("data", x.shape[0]):
            pyro.sample("z", dist.MultivariateNormal(torch.zeros(x.shape[0], 3), torch.eye(3)))

    with pytest.raises(ValueError, match="does not factorize"):
        TCELBO(dataset_size=64).loss(vae.model, mvn_guide, x)


def test_evaluation_does_not_advance_the_schedule():
    vae = small_vae()
    x = toy_images()[:8]
    loss = TCELBO(beta=lambda step: 1.0 + step, dataset_size=64)
    for _ in range(3):
        loss.loss(vae.model, vae.guide, x)
    assert loss.step == 0
    loss.loss_and_grads(vae.model, vae.guide, x)
    assert loss.step == 1


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_svi_decreases_the_loss(estimator):
    vae = small_vae()
    before, after = svi_losses(vae, TCELBO(dataset_size=64, estimator=estimator), toy_images())
    assert after < before - 10


def test_works_with_a_user_written_laplace_prior():
    vae = small_vae(prior=LaplacePrior(3))
    loss = TCELBO(dataset_size=64)
    x = toy_images()
    pyro.set_rng_seed(0)
    loss.loss(vae.model, vae.guide, x)
    terms = loss.terms(vae.model, vae.guide, x)
    assert isinstance(terms.model_fn("z").base_dist, dist.Laplace)
    parts = loss.decomposition(terms)
    total = parts["mi"] + parts["tc"] + parts["dim_kl"]
    torch.testing.assert_close(total, terms.log_guide("z") - terms.log_prior("z"))
    before, after = svi_losses(vae, loss, x)
    assert after < before - 10
