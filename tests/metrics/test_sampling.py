import numpy as np
import pytest
import torch

from pyro_vae.metrics import (
    sample_beta_vae_features,
    sample_codes_factors,
    sample_factor_vae_variances,
    sample_posterior_factors,
)

from .conftest import MonotoneRepresentation, TinyGrid


def test_codes_factors_batches_and_counts(grid):
    rep = MonotoneRepresentation()
    codes, factors = sample_codes_factors(rep, grid, 250, np.random.default_rng(0), 64)
    assert codes.shape == (250, 3) and factors.shape == (250, 3)
    assert codes.dtype == np.float64 and factors.dtype == np.int64
    assert rep.calls == [64, 64, 64, 58] and grid.renders == 250
    # codes are the representation of the observations of those factors
    x = grid.observations_from_factors(factors)
    np.testing.assert_allclose(codes, MonotoneRepresentation()(x).numpy())


def test_same_generator_state_same_points_any_batch_size():
    a = sample_codes_factors(MonotoneRepresentation(), TinyGrid(), 100, np.random.default_rng(3), 7)
    b = sample_codes_factors(MonotoneRepresentation(), TinyGrid(), 100, np.random.default_rng(3))
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0])


def test_numpy_representation_and_posterior(grid):
    codes, _ = sample_codes_factors(lambda x: x.numpy()[:, :2], grid, 10, np.random.default_rng(0))
    assert codes.shape == (10, 2)
    loc, scale, f = sample_posterior_factors(
        lambda x: (x, torch.ones_like(x)), grid, 30, np.random.default_rng(0), 8
    )
    assert loc.shape == scale.shape == (30, 3) and (scale == 1).all()
    with pytest.raises(ValueError, match="pair"):
        sample_posterior_factors(lambda x: x, grid, 5, np.random.default_rng(0))


def test_beta_vae_pairs_share_the_fixed_factor(grid):
    # with the identity representation, the fixed factor's feature is exactly 0
    feats, labels = sample_beta_vae_features(
        lambda x: x, grid, 300, 5, np.random.default_rng(0), eval_batch_size=32
    )
    assert feats.shape == (300, 3) and set(np.unique(labels)) == {0, 1, 2}
    np.testing.assert_array_equal(feats[np.arange(300), labels], 0.0)
    assert (feats[np.arange(300), (labels + 1) % 3] > 0).mean() > 0.9
    assert grid.renders == 300 * 5 * 2


def test_factor_vae_batches_fix_one_factor(grid):
    var, labels = sample_factor_vae_variances(lambda x: x, grid, 300, 10, np.random.default_rng(0))
    assert var.shape == (300, 3)
    np.testing.assert_array_equal(var[np.arange(300), labels], 0.0)
    assert grid.renders == 300 * 10
    with pytest.raises(ValueError, match="batch_size"):
        sample_factor_vae_variances(lambda x: x, grid, 3, 1, np.random.default_rng(0))
