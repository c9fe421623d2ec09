import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm

from pyro_vae.metrics import MetricWarning, compute_mig, compute_mig_sampled, mig, mig_sampled
from pyro_vae.metrics.mig import mig_from_mutual_info, sampled_mutual_info

from .conftest import MonotoneRepresentation, monotone_codes


def _factors(n, sizes=(3, 5, 8), seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)


def test_mig_by_hand():
    f = np.array([[0], [0], [1], [1]])
    # code 0 = factor, code 1 uninformative: gap log2 / H = 1
    codes = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert mig(codes, f)["mig"] == pytest.approx(1.0)
    # mig_from_mutual_info on a hand-made matrix: gaps (0.9-0.3)/1, (0.5-0.5)/2
    score, gaps = mig_from_mutual_info(np.array([[0.9, 0.5], [0.3, 0.5]]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(gaps, [0.6, 0.0])
    assert score == pytest.approx(0.3)


def test_monotone_codes_score_one_and_random_zero():
    rng = np.random.default_rng(0)
    f = _factors(3000)
    codes, _ = monotone_codes(f, rng)
    out = mig(codes, f)
    assert out["mig"] > 0.99
    assert out["estimator"] == "binned" and out["num_bins"] == 20 and out["num_points"] == 3000
    noise = rng.normal(size=(3000, 4))
    assert mig(noise, f)["mig"] < 0.02


def test_duplicated_latent_gives_zero_and_permutation_invariance():
    rng = np.random.default_rng(1)
    f = _factors(1000)
    codes, _ = monotone_codes(f, rng)
    assert mig(np.concatenate([codes, codes], axis=1), f)["mig"] == pytest.approx(0.0)
    # duplicating only one factor's code zeroes that factor's gap
    one = mig(np.concatenate([codes, codes[:, :1]], axis=1), f, factor_names=["a", "b", "c"])
    assert sorted(one["mig_per_factor"].values())[0] == pytest.approx(0.0)
    noisy = codes + rng.normal(scale=0.3, size=codes.shape)
    perm = rng.permutation(noisy.shape[1])
    assert mig(noisy[:, perm], f)["mig"] == pytest.approx(mig(noisy, f)["mig"], abs=1e-12)


def test_exclude_factors_and_names():
    rng = np.random.default_rng(2)
    f = _factors(1000)
    codes, perm = monotone_codes(f, rng)
    codes[:, 0] = rng.normal(size=1000)  # destroy one factor's code
    names = ["shape", "scale", "position"]
    out = mig(codes, f, factor_names=names)
    lost = names[perm[0]]
    assert out["mig_per_factor"][lost] < 0.05
    excl = mig(codes, f, exclude_factors=[lost], factor_names=names)
    assert excl["excluded_factors"] == [lost]
    assert lost not in excl["mig_per_factor"]
    assert excl["mig"] > 0.95 > out["mig"]
    assert mig(codes, f, exclude_factors=[int(perm[0])])["mig"] == excl["mig"]


def test_constant_codes_and_factors_warn_no_nan():
    f = _factors(200)
    codes = np.random.default_rng(3).normal(size=(200, 3))
    codes[:, 1] = 0.7
    with pytest.warns(MetricWarning, match=r"latent dimension\(s\) \[1\] are constant"):
        out = mig(codes, f)
    assert out["collapsed_latents"] == [1] and np.isfinite(out["mig"])
    f[:, 2] = 4
    with pytest.warns(MetricWarning) as rec:
        out = mig(codes, f, factor_names=["a", "b", "c"])
    assert any("['c'] are constant in the sample" in str(w.message) for w in rec)
    assert out["constant_factors"] == ["c"] and "c" not in out["mig_per_factor"]
    with pytest.warns(MetricWarning) as rec:
        out = mig(codes, np.zeros((200, 1)))
    assert any("no factor left" in str(w.message) for w in rec)
    assert out["mig"] == 0.0


def _sampled_mi_loop(loc, scale, factors, z, idx):
    """Reference: the estimator written point by point in scipy."""
    n, d = loc.shape
    mi = np.zeros((d, factors.shape[1]))
    for m, i in enumerate(idx):
        for j in range(d):
            logq = norm.logpdf(z[m, j], loc[:, j], scale[:, j])
            marg = logsumexp(logq) - math.log(n)
            for k in range(factors.shape[1]):
                same = factors[:, k] == factors[i, k]
                mi[j, k] += logsumexp(logq[same]) - math.log(same.sum()) - marg
    return np.clip(mi / len(idx), 0, None)


def test_sampled_mi_matches_pointwise_loop():
    rng = np.random.default_rng(4)
    f = _factors(60, sizes=(2, 3))
    loc = np.stack([f[:, 0] + 0.3 * rng.normal(size=60), rng.normal(size=60)], 1)
    scale = rng.uniform(0.2, 1.0, size=(60, 2))
    mi, idx = sampled_mutual_info(loc, scale, f, np.random.default_rng(5), num_samples=25)
    # replay the same draws
    g = np.random.default_rng(5)
    sub = np.sort(g.choice(60, size=25, replace=False))
    z = loc[sub] + scale[sub] * g.standard_normal((25, 2))
    np.testing.assert_array_equal(idx, sub)
    np.testing.assert_allclose(mi, _sampled_mi_loop(loc, scale, f, z, sub), rtol=1e-9, atol=1e-12)


def test_sampled_mig_known_answers():
    rng = np.random.default_rng(6)
    f = _factors(800, sizes=(3, 4))
    # latent 1 is uninformative: posteriors close to the prior. (A latent with random
    # means and tiny scales would identify each data point, and so every factor.)
    loc = np.stack([f[:, 1] * 1.0, 0.01 * rng.normal(size=800), f[:, 0] * 1.0], 1)
    scale = np.full_like(loc, 0.01)
    scale[:, 1] = 1.0
    out = mig_sampled(loc, scale, f, np.random.default_rng(0))
    assert out["mig"] == pytest.approx(1.0, abs=0.01)
    assert out["estimator"] == "sampled" and out["num_samples"] == 800
    # random posteriors: about 0
    out = mig_sampled(rng.normal(size=(800, 3)), np.ones((800, 3)), f, rng)
    assert out["mig"] < 0.05
    # a collapsed latent (posterior = prior for every x): no information, warning
    loc[:, 1] = 0.0
    scale[:, 1] = 1.0
    with pytest.warns(MetricWarning, match="constant"):
        out = mig_sampled(loc, scale, f, rng, num_samples=300)
    assert np.array(out["mutual_information"])[1].max() < 1e-12


def test_compute_mig_on_dataset(grid):
    rep = MonotoneRepresentation()
    out = compute_mig(rep, grid, rng=0, num_points=600, eval_batch_size=100)
    assert out["mig"] > 0.95 and out["seed"] == 0 and out["representation"] == "mean"
    assert max(rep.calls) <= 100 and sum(rep.calls) == 600
    again = compute_mig(MonotoneRepresentation(), grid, rng=0, num_points=600, eval_batch_size=7)
    assert again["mig"] == out["mig"]  # independent of the batch size


def test_compute_mig_sampled_on_dataset(grid):
    def posterior(x):
        loc = MonotoneRepresentation()(x)
        return loc, torch.full_like(loc, 0.01)

    out = compute_mig_sampled(posterior, grid, rng=1, num_points=400, exclude_factors=["shape"])
    assert out["excluded_factors"] == ["shape"] and set(out["mig_per_factor"]) == {
        "scale",
        "position",
    }
    assert out["mig"] > 0.9 and out["representation"] == "sampled" and out["seed"] == 1
