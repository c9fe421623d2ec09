import math

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from pyro_vae.metrics._utils import (
    contingency_tables,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    mutual_info_from_counts,
    resolve_factors,
    to_builtin,
)


def _dlib_style_discretize(codes, num_bins):
    """Reference: one np.histogram / np.digitize per dimension (disentanglement_lib)."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], num_bins)[1][:-1]
        out[:, j] = np.digitize(codes[:, j], edges)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_histogram_discretize_matches_histogram_digitize(dtype):
    rng = np.random.default_rng(0)
    codes = np.concatenate(
        [
            rng.normal(size=(500, 3)),
            rng.integers(0, 4, size=(500, 1)).astype(float),  # values on the edges
            np.full((500, 1), 2.5),  # constant
        ],
        axis=1,
    ).astype(dtype)
    for bins in (2, 7, 20):
        np.testing.assert_array_equal(
            histogram_discretize(codes, bins), _dlib_style_discretize(codes, bins)
        )
    labels = histogram_discretize(codes, 20)
    assert labels.min() >= 1 and labels.max() <= 20
    assert (labels[:, 4] == labels[0, 4]).all()


def test_mi_of_2x2_tables_by_hand():
    # identical binary variables: I = H = log 2
    assert mutual_info_from_counts(np.array([[2, 0], [0, 2]])) == pytest.approx(math.log(2))
    # independent: I = 0
    assert mutual_info_from_counts(np.array([[1, 1], [1, 1]])) == pytest.approx(0.0)
    # p = [[1/3, 1/6], [1/6, 1/3]], uniform marginals
    expected = (2 / 3) * math.log((1 / 3) / (1 / 4)) + (1 / 3) * math.log((1 / 6) / (1 / 4))
    assert mutual_info_from_counts(np.array([[2, 1], [1, 2]])) == pytest.approx(expected)
    # a single row: 0 by convention
    assert mutual_info_from_counts(np.array([[3, 5]])) == 0.0


def test_contingency_tables_count_pairs():
    a = np.array([[0, 1], [1, 1], [1, 0]])
    b = np.array([0, 1, 1])
    t = contingency_tables(a, b)
    np.testing.assert_array_equal(t[0], [[1, 0], [0, 2]])
    np.testing.assert_array_equal(t[1], [[0, 1], [1, 1]])


def test_vectorized_mi_equals_sklearn_per_pair():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 6, size=(400, 5))
    a[:, 3] = 7  # a constant column
    b = np.stack([rng.integers(0, s, size=400) for s in (2, 3, 9)], axis=1)
    b[:, 2] = (a[:, 0] + rng.integers(0, 2, size=400)) % 9  # dependent
    mi = discrete_mutual_info(a, b)
    for j in range(a.shape[1]):
        for k in range(b.shape[1]):
            assert mi[j, k] == pytest.approx(mutual_info_score(b[:, k], a[:, j]), abs=1e-12)


def test_discrete_entropy():
    f = np.array([[0, 1], [1, 1], [2, 1], [3, 1]])
    np.testing.assert_allclose(discrete_entropy(f), [math.log(4), 0.0])


def test_resolve_factors_and_to_builtin():
    assert resolve_factors(["b", 0], 3, ["a", "b", "c"]) == [0, 1]
    with pytest.raises(ValueError, match="unknown factor"):
        resolve_factors(["z"], 3, ["a", "b", "c"])
    with pytest.raises(ValueError, match="out of range"):
        resolve_factors([5], 3, None)
    out = to_builtin({"a": np.float32(1.5), "b": np.arange(2), "c": (np.int64(3), np.bool_(1))})
    assert out == {"a": 1.5, "b": [0, 1], "c": [3, True]}
    assert type(out["a"]) is float
