import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from pyro_vae.data import Digits, get_dataset
from pyro_vae.data.stream import BatchStream


@pytest.fixture(scope="module")
def raw():
    bunch = load_digits()
    return bunch.images.astype(np.float32) / 16.0, bunch.target


def test_registered_and_scaled_to_unit_range(raw):
    ds = get_dataset("digits", split="all")
    images, labels = raw
    assert isinstance(ds, Digits) and len(ds) == 1797
    assert ds.observation_shape == (1, 8, 8) and ds.factor_names == ("digit",)
    assert ds.factor_sizes == (10,) and ds.default_likelihood == "bernoulli"
    x, f = ds.get_batch([0, 5, 1796])
    assert x.shape == (3, 1, 8, 8) and x.dtype == torch.float32
    assert torch.equal(x[:, 0], torch.from_numpy(images[[0, 5, 1796]]))
    assert f.tolist() == [[labels[0]], [labels[5]], [labels[1796]]]
    assert float(ds.images.min()) == 0.0 and float(ds.images.max()) == 1.0
    item_x, item_f = ds[5]
    assert torch.equal(item_x, x[1]) and item_f.tolist() == [labels[5]]
    assert get_dataset("digits", split="all", flat=True)[0][0].shape == (64,)


def test_train_and_test_split_partition_the_images():
    train, test = Digits(split="train"), Digits(split="test")
    assert len(test) == round(0.2 * 1797) and len(train) + len(test) == 1797
    assert not set(train.indices) & set(test.indices)
    assert np.array_equal(Digits(split="test").indices, test.indices)  # deterministic
    other = Digits(split="test", split_seed=1)
    assert not np.array_equal(other.indices, test.indices)
    assert set(np.unique(train.labels)) == set(range(10))


def test_sample_factors_draws_existing_labels_and_observations_match_them():
    ds = Digits(split="test")
    rng = np.random.default_rng(0)
    factors = ds.sample_factors(500, rng)
    assert factors.shape == (500, 1) and factors.dtype == np.int64
    counts = np.bincount(factors[:, 0], minlength=10) / 500
    assert np.abs(counts - np.bincount(ds.labels, minlength=10) / len(ds)).max() < 0.06
    wanted = np.array([[3], [3], [7], [0]])
    x = ds.observations_from_factors(wanted, np.random.default_rng(1))
    flat_images = ds.images.reshape(len(ds), -1)
    for row, label in zip(x, wanted[:, 0], strict=True):
        match = (flat_images == row.reshape(1, -1)).all(1).nonzero().flatten().numpy()
        assert len(match) >= 1 and (ds.labels[match] == label).all()
    again = ds.observations_from_factors(wanted, np.random.default_rng(1))
    assert torch.equal(x, again)  # explicit rng: reproducible
    f1, x1 = ds.sample(20, np.random.default_rng(5))
    f2, x2 = ds.sample(20, np.random.default_rng(5))
    assert np.array_equal(f1, f2) and torch.equal(x1, x2)


def test_binarisation_fixed_and_dynamic():
    fixed = Digits(split="test", binarize="fixed", seed=3)
    assert set(torch.unique(fixed.images).tolist()) <= {0.0, 1.0}
    assert torch.equal(fixed.images, Digits(split="test", binarize="fixed", seed=3).images)
    # a Bernoulli draw of the grey values: on average it is the grey image
    assert abs(float(fixed.images.mean() - fixed.grey.mean())) < 0.01
    dynamic = Digits(split="test", binarize="dynamic")
    torch.manual_seed(0)
    a = dynamic.get_batch(np.arange(50))[0]
    b = dynamic.get_batch(np.arange(50))[0]
    assert set(torch.unique(a).tolist()) <= {0.0, 1.0} and not torch.equal(a, b)
    torch.manual_seed(0)
    assert torch.equal(a, dynamic.get_batch(np.arange(50))[0])  # torch's seeded generator
    batch = next(BatchStream(dynamic, 16, seed=0))
    assert batch[0].shape == (16, 1, 8, 8)


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="split must be one of"):
        Digits(split="validation")
    with pytest.raises(ValueError, match="binarize must be one of"):
        Digits(binarize="otsu")
    with pytest.raises(ValueError, match=r"test_fraction must lie in \(0, 1\)"):
        Digits(test_fraction=1.5)
    with pytest.raises(ValueError, match="no image with digit 12"):
        Digits().observations_from_factors(np.array([[12]]))
    with pytest.raises(IndexError):
        Digits(split="test")[400]
