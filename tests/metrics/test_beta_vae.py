import numpy as np
import pytest

from pyro_vae.metrics import MetricWarning, beta_vae_features, beta_vae_score, compute_beta_vae

from .conftest import MonotoneRepresentation, RandomRepresentation


def test_features_by_hand():
    c1 = np.array([[[0.0, 1.0], [2.0, 2.0]]])
    c2 = np.array([[[1.0, 1.0], [0.0, 3.0]]])
    np.testing.assert_allclose(beta_vae_features(c1, c2), [[1.5, 0.5]])
    with pytest.raises(ValueError):
        beta_vae_features(c1[0], c2[0])


def test_hand_separable_features():
    # the fixed factor's feature is 0: a linear classifier separates them
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=300)
    feats = rng.uniform(0.5, 1.0, size=(300, 3))
    feats[np.arange(300), labels] = 0.0
    out = beta_vae_score(feats[:200], labels[:200], feats[200:], labels[200:])
    assert out["train_accuracy"] == 1.0 and out["eval_accuracy"] == 1.0
    assert out["classifier"]["solver"] == "liblinear"
    assert out["num_train"] == 200 and out["num_eval"] == 100


def test_monotone_and_random(grid):
    out = compute_beta_vae(MonotoneRepresentation(), grid, rng=0, num_train=150, num_eval=60)
    assert out["eval_accuracy"] == 1.0 and out["batch_size"] == 64 and out["seed"] == 0
    rnd = compute_beta_vae(RandomRepresentation(dim=3), grid, rng=0, num_train=300, num_eval=300)
    assert rnd["eval_accuracy"] < 0.5  # chance is 1/3


def test_permutation_and_collapsed_latent(grid):
    kw = dict(rng=1, num_train=150, num_eval=60, batch_size=8)
    base = compute_beta_vae(MonotoneRepresentation(), grid, **kw)
    perm = compute_beta_vae(lambda x: MonotoneRepresentation()(x)[:, [2, 0, 1]], grid, **kw)
    assert perm["train_accuracy"] == base["train_accuracy"]
    assert perm["eval_accuracy"] == base["eval_accuracy"]

    def collapsed(x):
        z = MonotoneRepresentation()(x)
        z[:, 0] = 0.0
        return z

    with pytest.warns(MetricWarning, match=r"\[0\] never change"):
        out = compute_beta_vae(collapsed, grid, **kw)
    assert out["collapsed_latents"] == [0] and np.isfinite(out["eval_accuracy"])
