import numpy as np
import pytest
from sklearn.svm import LinearSVC

from pyro_vae.metrics import MetricWarning, compute_sap, sap
from pyro_vae.metrics.sap import sap_from_score_matrix

from .conftest import MonotoneRepresentation


def _factors(n, seed=0, sizes=(2, 4, 3)):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)


def test_hand_built_score_matrix():
    s = np.array([[0.9, 0.2], [0.5, 0.6], [0.1, 0.1]])
    score, gaps = sap_from_score_matrix(s)
    np.testing.assert_allclose(gaps, [0.4, 0.4])
    assert score == pytest.approx(0.4)
    assert sap_from_score_matrix(np.array([[0.7, 0.2]]))[0] == pytest.approx(0.45)  # one code


def test_continuous_r2_by_hand_and_known_answers():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(400, 2))
    codes = np.stack([3 * f[:, 1] + 1, -f[:, 0], rng.normal(size=400)], 1)
    out = sap(codes, f, continuous_factors=True)
    s = np.array(out["score_matrix"])
    for j in range(3):
        for k in range(2):
            assert s[j, k] == pytest.approx(np.corrcoef(codes[:, j], f[:, k])[0, 1] ** 2)
    assert out["sap"] > 0.98
    assert out["continuous_factors"] == ["factor_0", "factor_1"]
    # duplicated latent: top two scores equal
    dup = sap(np.concatenate([codes, codes], 1), f, continuous_factors=True)
    assert dup["sap"] == pytest.approx(0.0, abs=1e-12)
    assert sap(rng.normal(size=(400, 3)), f, continuous_factors=True)["sap"] < 0.05


def test_discrete_matches_linear_svc_loop_and_is_permutation_invariant():
    rng = np.random.default_rng(1)
    f_tr, f_te = _factors(300, 1), _factors(150, 2)
    c_tr = np.stack([f_tr[:, 0] + 0.1 * rng.normal(size=300), rng.normal(size=300)], 1)
    c_te = np.stack([f_te[:, 0] + 0.1 * rng.normal(size=150), rng.normal(size=150)], 1)
    out = sap(c_tr, f_tr, c_te, f_te)
    ref = np.zeros((2, 3))
    for j in range(2):
        for k in range(3):
            clf = LinearSVC(C=0.01, class_weight="balanced", dual=False, random_state=0)
            clf.fit(c_tr[:, [j]], f_tr[:, k])
            ref[j, k] = np.mean(clf.predict(c_te[:, [j]]) == f_te[:, k])
    np.testing.assert_array_equal(np.array(out["score_matrix"]), ref)
    assert out["svm"] == {"C": 0.01, "class_weight": "balanced", "dual": False, "max_iter": 1000}
    # the binary factor is read off its code: gap about 0.5 (1.0 vs chance)
    assert out["sap_per_factor"]["factor_0"] > 0.4
    perm = sap(c_tr[:, ::-1], f_tr, c_te[:, ::-1], f_te)
    assert perm["sap"] == out["sap"]


def test_constant_inputs_warn_no_nan():
    rng = np.random.default_rng(2)
    f = _factors(200, 3)
    codes = rng.normal(size=(200, 2))
    codes[:, 1] = 0.0
    f[:, 2] = 1
    with pytest.warns(MetricWarning) as rec:
        out = sap(codes, f, codes, f)
    text = " ".join(str(w.message) for w in rec)
    assert "collapsed" in text and "constant in the sample" in text
    assert np.isfinite(out["sap"]) and out["constant_factors"] == ["factor_2"]
    with pytest.raises(ValueError, match="codes_test"), pytest.warns(MetricWarning):
        sap(codes, f[:, :2])


def test_compute_sap_on_dataset(grid):
    out = compute_sap(MonotoneRepresentation(), grid, rng=3, num_train=300, num_test=150)
    assert 0.0 <= out["sap"] <= 1.0 and out["num_train"] == 300 and out["seed"] == 3
    cont = compute_sap(
        MonotoneRepresentation(), grid, rng=3, num_train=300, continuous_factors=True
    )
    assert cont["sap"] > 0.8  # codes are monotone in the factor values
