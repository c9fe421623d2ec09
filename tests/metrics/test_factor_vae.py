import numpy as np
import pytest
import torch

from pyro_vae.metrics import MetricWarning, compute_factor_vae, factor_vae_score
from pyro_vae.metrics.factor_vae import factor_vae_votes

from .conftest import MonotoneRepresentation, RandomRepresentation


def _votes_loop(gv, local, labels, num_factors, active):
    """Reference: one argmin per vote over the active dimensions (disentanglement_lib)."""
    votes = np.zeros((num_factors, len(gv)), dtype=np.int64)
    act = np.flatnonzero(active)
    for v, k in zip(local, labels, strict=True):
        votes[k, act[np.argmin(v[active] / gv[active])]] += 1
    return votes


def test_votes_match_loop():
    rng = np.random.default_rng(0)
    gv = rng.uniform(0.5, 2, size=5)
    gv[3] = 1e-4
    local = rng.uniform(size=(300, 5))
    labels = rng.integers(0, 3, size=300)
    active = np.sqrt(gv) >= 0.05
    np.testing.assert_array_equal(
        factor_vae_votes(gv, local, labels, 3, active), _votes_loop(gv, local, labels, 3, active)
    )


def test_hand_built_votes():
    gv = np.array([1.0, 1.0, 4.0])
    # factor 0 fixed -> dim 1 least variable; factor 1 fixed -> dim 2 (0.5/4 < 0.2/1)
    local = np.array([[0.9, 0.1, 4.0], [0.2, 0.9, 0.5], [0.3, 0.9, 0.4], [0.9, 0.1, 4.0]])
    labels = np.array([0, 1, 1, 1])
    out = factor_vae_score(gv, local, labels, local[:2], labels[:2], num_factors=2)
    # votes: dim1 <- {0, 1}, dim2 <- {1, 1}; classifier dim1 -> 0, dim2 -> 1: 3/4 right
    assert out["votes"] == [[0, 1, 0], [0, 1, 2]]
    assert out["classifier"] == [0, 0, 1]
    assert out["train_accuracy"] == pytest.approx(0.75) and out["eval_accuracy"] == 1.0
    assert out["num_active_dims"] == 3


def test_no_active_dims_like_dlib():
    gv = np.full(3, 1e-4)
    with pytest.warns(MetricWarning, match="no active latent dimension"):
        out = factor_vae_score(gv, np.ones((4, 3)), np.zeros(4, int), np.ones((2, 3)), [0, 0], 2)
    assert out["train_accuracy"] == 0.0 and out["eval_accuracy"] == 0.0
    assert out["num_active_dims"] == 0


def test_monotone_representation_scores_one(grid):
    out = compute_factor_vae(
        MonotoneRepresentation(),
        grid,
        rng=0,
        num_train=200,
        num_eval=100,
        num_variance_estimate=500,
    )
    assert out["train_accuracy"] == 1.0 and out["eval_accuracy"] == 1.0
    assert out["num_active_dims"] == 3 and out["batch_size"] == 64
    assert out["prune_threshold"] == 0.05 and out["seed"] == 0


def test_random_representation_scores_chance(grid):
    out = compute_factor_vae(
        RandomRepresentation(dim=3),
        grid,
        rng=0,
        num_train=300,
        num_eval=300,
        num_variance_estimate=500,
    )
    # one factor per dimension at best by chance; eval accuracy about 1/3
    assert out["eval_accuracy"] < 0.5


def test_collapsed_latent_is_pruned_and_reported(grid):
    def rep(x):
        z = MonotoneRepresentation()(x)
        z[:, 1] = 0.01 * z[:, 1]  # global std below 0.05
        return z

    with pytest.warns(MetricWarning, match=r"\[1\] have global std"):
        out = compute_factor_vae(
            rep, grid, rng=1, num_train=150, num_eval=60, num_variance_estimate=300
        )
    assert out["num_active_dims"] == 2 and out["active_dims"] == [0, 2]
    assert out["collapsed_latents"] == [1]
    assert out["eval_accuracy"] == pytest.approx(2 / 3, abs=0.15)


def test_permuting_code_dimensions_keeps_the_score(grid):
    kwargs = dict(rng=2, num_train=150, num_eval=60, num_variance_estimate=300)
    rand = RandomRepresentation(dim=4, seed=3)
    a = compute_factor_vae(lambda x: rand(x) + x.sum(1, keepdim=True), grid, **kwargs)
    rand = RandomRepresentation(dim=4, seed=3)
    b = compute_factor_vae(
        lambda x: (rand(x) + x.sum(1, keepdim=True))[:, [2, 0, 3, 1]], grid, **kwargs
    )
    assert a["train_accuracy"] == b["train_accuracy"]
    assert a["eval_accuracy"] == b["eval_accuracy"]


def test_single_valued_dataset_factor_warns():
    from .conftest import TinyGrid

    class Flat(TinyGrid):
        factor_sizes = (3, 1, 8)

        def observations_from_factors(self, factors):
            factors = self._check_factors(factors)
            return torch.from_numpy(factors.astype(np.float32) / np.array([2.0, 1.0, 7.0]))

    with pytest.warns(MetricWarning) as rec:
        out = compute_factor_vae(
            MonotoneRepresentation(),
            Flat(),
            rng=0,
            num_train=60,
            num_eval=30,
            num_variance_estimate=200,
        )
    assert any("['scale'] take a single value" in str(w.message) for w in rec)
    assert np.isfinite(out["eval_accuracy"])
