import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from pyro_vae.metrics import MetricWarning, compute_mcc, mcc
from pyro_vae.metrics.mcc import correlation_matrix

from .conftest import MonotoneRepresentation, monotone_codes


def test_matching_by_hand():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(200, 2))
    codes = np.stack([s[:, 1], -s[:, 0]], 1)
    out = mcc(codes, s)
    assert out["mcc"] == pytest.approx(1.0)
    assert out["matching"] == [[1, 0], [0, 1]]  # [code, source], sorted by source
    np.testing.assert_allclose(out["matched_correlations"], [-1.0, 1.0])


def test_correlations_match_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(100, 3)), rng.normal(size=(100, 2))
    b[:, 0] += a[:, 2]
    for kind, ref in (("pearson", pearsonr), ("spearman", spearmanr)):
        c = correlation_matrix(a, b, kind)
        for j in range(3):
            for k in range(2):
                assert c[j, k] == pytest.approx(ref(a[:, j], b[:, k])[0], abs=1e-12)


def test_monotone_codes_and_random_codes():
    rng = np.random.default_rng(2)
    s = rng.uniform(size=(1000, 3))
    codes, perm = monotone_codes(s, rng)
    assert mcc(codes, s, "spearman")["mcc"] == pytest.approx(1.0)
    out = mcc(codes, s, "pearson")
    assert out["mcc"] > 0.95
    assert [c for c, _ in out["matching"]] == list(np.argsort(perm))
    assert mcc(rng.normal(size=(1000, 3)), s)["mcc"] < 0.1
    # more codes than sources: min(d, K) pairs
    more = mcc(np.concatenate([rng.normal(size=(1000, 2)), codes], 1), s, "spearman")
    assert more["mcc"] == pytest.approx(1.0) and len(more["matching"]) == 3


def test_permutation_invariance_and_constant_inputs():
    rng = np.random.default_rng(3)
    s = rng.normal(size=(300, 3))
    codes = s @ rng.normal(size=(3, 3)) + 0.1 * rng.normal(size=(300, 3))
    assert mcc(codes[:, [2, 0, 1]], s)["mcc"] == pytest.approx(mcc(codes, s)["mcc"], abs=1e-12)
    codes[:, 0] = 3.0
    s[:, 1] = 0.0
    with pytest.warns(MetricWarning) as rec:
        out = mcc(codes, s)
    assert {"collapsed" in str(w.message) or "constant" in str(w.message) for w in rec} == {True}
    assert np.isfinite(out["mcc"]) and out["constant_factors"] == ["factor_1"]
    assert all(src != 1 for _, src in out["matching"])


def test_compute_mcc_on_dataset(grid):
    out = compute_mcc(MonotoneRepresentation(), grid, rng=0, num_points=500)
    assert out["mcc_spearman"] == pytest.approx(1.0) and out["mcc"] > 0.95
    assert out["correlation"] == "pearson" and out["num_points"] == 500 and out["seed"] == 0
