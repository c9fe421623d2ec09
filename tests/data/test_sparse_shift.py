import numpy as np
import pytest
import torch

from pyro_vae.data import SparseMechanismShift, get_dataset
from pyro_vae.data.sparse_shift import orthogonal_layer


def _small(**kwargs):
    options = dict(
        num_actions=8, per_action=40, latent_dim=4, observed_dim=12, hidden_dim=6, seed=2
    )
    options.update(kwargs)
    return SparseMechanismShift(**options)


def test_items_shapes_and_protocol():
    ds = _small()
    assert len(ds) == 320 and ds.observation_shape == (12,) and ds.context_dim == 8
    assert ds.factor_names == ("z1", "z2", "z3", "z4") and ds.factor_sizes == (0,) * 4
    x, z, u = ds[45]
    assert x.shape == (12,) and z.shape == (4,) and u.shape == (8,) and u[1] == 1
    xb, zb, ub = ds.get_batch([0, 319])
    assert torch.equal(ub.argmax(1), torch.tensor([0, 7]))
    assert ds.default_likelihood == "gaussian"


def test_deterministic_under_seed():
    a, b, c = _small(), _small(), _small(seed=3)
    assert torch.equal(a.x, b.x) and np.array_equal(a.true_mask, b.true_mask)
    assert not torch.equal(a.x, c.x)


def test_mask_and_shifts_follow_the_recipe():
    ds = SparseMechanismShift(
        num_actions=300, per_action=2, latent_dim=6, observed_dim=10, hidden_dim=8, seed=0
    )
    targets = ds.true_mask.sum(1)
    assert targets.min() == 1 and targets.max() == 3
    assert set(np.unique(targets)) == {1, 2, 3}
    np.testing.assert_array_equal(ds.shifts != 0, ds.true_mask)
    magnitudes = np.abs(ds.shifts[ds.true_mask])
    assert magnitudes.mean() == pytest.approx(5.0, abs=0.1)
    assert magnitudes.std() == pytest.approx(0.5, abs=0.08)
    signs = np.sign(ds.shifts[ds.true_mask])
    assert 0.4 < (signs > 0).mean() < 0.6


def test_latents_are_shifted_unit_gaussians():
    ds = _small(per_action=5000)
    z = ds.factors.numpy().reshape(8, 5000, 4)
    np.testing.assert_allclose(z.mean(1), ds.shifts, atol=0.06)
    np.testing.assert_allclose(z.std(1), 1.0, atol=0.04)


def test_decoder_weights_are_orthogonalised():
    rng = np.random.default_rng(0)
    w = orthogonal_layer(3, 7, rng, slope=0.2)
    scale = np.sqrt(2 / 1.04) * np.sqrt(2 / 10)
    np.testing.assert_allclose(w @ w.T / scale**2, np.eye(3), atol=1e-12)
    tall = orthogonal_layer(7, 3, rng, slope=0.2)
    np.testing.assert_allclose(tall.T @ tall / scale**2, np.eye(3), atol=1e-12)


def test_gaussian_observations_are_standardised_decoder_output_plus_noise():
    ds = _small(noise_std=0.0)
    mean = ds.decode_mean(ds.factors.numpy())
    np.testing.assert_allclose(ds.x.numpy(), mean, atol=1e-5)
    assert ds.x.std().item() == pytest.approx(1.0, abs=0.01)
    noisy = _small(noise_std=0.3)
    assert (noisy.x - ds.x).std().item() == pytest.approx(0.3, rel=0.1)


def test_poisson_observations_are_counts_around_the_library_size():
    ds = _small(observation="poisson", library_size=500.0, per_action=200)
    x = ds.x.numpy()
    assert ds.default_likelihood == "poisson"
    assert (x >= 0).all() and np.array_equal(x, np.round(x))
    assert x.sum(1).mean() == pytest.approx(500.0, rel=0.02)
    mean = ds.decode_mean(ds.factors.numpy())
    np.testing.assert_allclose(mean.sum(1), 500.0)
    assert np.corrcoef(mean.ravel(), x.ravel())[0, 1] > 0.9


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="injective"):
        SparseMechanismShift(latent_dim=10, hidden_dim=5)
    with pytest.raises(ValueError, match="max_targets"):
        _small(max_targets=5)
    with pytest.raises(ValueError, match="observation"):
        _small(observation="binomial")
    with pytest.raises(ValueError, match="shape"):
        _small().observations_from_factors(np.zeros((2, 3)))


def test_registered_by_name():
    ds = get_dataset(
        "sparse-shift",
        num_actions=2,
        per_action=3,
        latent_dim=2,
        observed_dim=4,
        hidden_dim=3,
    )
    assert isinstance(ds, SparseMechanismShift) and len(ds) == 6
