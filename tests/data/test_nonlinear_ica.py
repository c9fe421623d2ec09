import numpy as np
import pytest
import torch

from pyro_vae.data import NonlinearICA, get_dataset
from pyro_vae.data.nonlinear_ica import condition_threshold


def _small(**kwargs):
    options = dict(num_segments=6, per_segment=50, latent_dim=3, cond_samples=500, seed=3)
    options.update(kwargs)
    return NonlinearICA(**options)


def test_items_shapes_and_protocol():
    ds = _small()
    assert len(ds) == 300 and ds.observation_shape == (3,) and ds.context_dim == 6
    assert ds.factor_names == ("s1", "s2", "s3") and ds.factor_sizes == (0, 0, 0)
    x, s, u = ds[7]
    assert x.shape == (3,) and s.shape == (3,) and u.shape == (6,)
    assert x.dtype == s.dtype == u.dtype == torch.float32
    assert u.sum() == 1 and u[0] == 1  # item 7 is in segment 0
    xb, sb, ub = ds.get_batch([0, 299, 60])
    assert xb.shape == (3, 3) and torch.equal(ub.argmax(1), torch.tensor([0, 5, 1]))
    assert torch.equal(xb[1], ds[299][0]) and torch.equal(ds[-1][1], sb[1])
    with pytest.raises(IndexError):
        ds[300]


def test_deterministic_under_seed_and_different_across_seeds():
    a, b, c = _small(), _small(), _small(seed=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.factors, b.factors)
    assert not torch.equal(a.x, c.x)
    rng1, rng2 = np.random.default_rng(0), np.random.default_rng(0)
    s1, l1 = a.sample_with_context(20, rng1)
    s2, l2 = a.sample_with_context(20, rng2)
    assert np.array_equal(s1, s2) and np.array_equal(l1, l2)


def test_sources_are_piecewise_stationary_with_the_drawn_stds():
    ds = NonlinearICA(num_segments=3, per_segment=20_000, latent_dim=2, cond_samples=200, seed=0)
    s = ds.factors.numpy().reshape(3, 20_000, 2)
    assert np.all((ds.segment_stds >= 0.5) & (ds.segment_stds <= 3.0))
    np.testing.assert_allclose(s.std(1), ds.segment_stds, rtol=0.03)
    np.testing.assert_allclose(s.mean(1), 0.0, atol=0.06)
    means = NonlinearICA(num_segments=3, per_segment=10, latent_dim=2, segment_means=True)
    assert np.all(np.abs(means.segment_means) <= 5) and np.abs(means.segment_means).max() > 0


@pytest.mark.parametrize("layers, observed_dim", [(1, None), (3, None), (4, 5)])
def test_mixing_is_invertible(layers, observed_dim):
    ds = _small(mixing_layers=layers, observed_dim=observed_dim)
    assert ds.x.shape == (300, observed_dim or 3)
    recovered = ds.unmix(ds.x)
    np.testing.assert_allclose(recovered, ds.factors.numpy(), atol=1e-3)
    # each layer: unit-norm columns and a condition number under the threshold
    for mat in ds.mixing:
        np.testing.assert_allclose(np.linalg.norm(mat, axis=0), 1.0)
    assert np.linalg.cond(ds.mixing[-1]) < 10


def test_mixing_is_nonlinear():
    ds = _small(mixing_layers=3)
    s = np.random.default_rng(0).standard_normal((4, 3))
    # no biases: f is positively homogeneous, but not odd (nor additive)
    np.testing.assert_allclose(ds.mix(2 * s), 2 * ds.mix(s))
    assert not np.allclose(ds.mix(-s), -ds.mix(s), atol=1e-3)
    linear = _small(mixing_layers=1)
    np.testing.assert_allclose(linear.mix(-s), -linear.mix(s))


def test_condition_threshold_is_the_percentile_of_random_matrices():
    rng = np.random.default_rng(0)
    low = condition_threshold(3, 3, rng, samples=2000, percentile=25)
    high = condition_threshold(3, 3, rng, samples=2000, percentile=75)
    assert 1.0 < low < high


def test_observations_from_factors_and_noise():
    ds = _small()
    x = ds.observations_from_factors(ds.factors[:5].numpy())
    torch.testing.assert_close(x, ds.x[:5], atol=1e-5, rtol=1e-5)
    noisy = _small(noise_std=0.5)
    assert (noisy.x - ds.x).std() == pytest.approx(0.5, rel=0.15)
    with pytest.raises(ValueError, match="shape"):
        ds.observations_from_factors(np.zeros((2, 4)))


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="observed_dim"):
        NonlinearICA(latent_dim=3, observed_dim=2)
    with pytest.raises(ValueError, match="slope"):
        NonlinearICA(slope=1.5)
    with pytest.raises(ValueError, match="mixing_layers"):
        NonlinearICA(mixing_layers=0)


def test_registered_by_name():
    ds = get_dataset("nonlinear-ica", num_segments=2, per_segment=5, latent_dim=2)
    assert isinstance(ds, NonlinearICA) and len(ds) == 10
