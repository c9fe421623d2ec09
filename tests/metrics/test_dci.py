import numpy as np
import pytest
import scipy.stats

from pyro_vae.metrics import MetricWarning, compute_dci, dci, dci_from_importance
from pyro_vae.metrics.dci import completeness, disentanglement

from .conftest import MonotoneRepresentation, monotone_codes


def _dlib_style(importance):
    """Reference: disentanglement/completeness written as in disentanglement_lib."""
    per_code = 1.0 - scipy.stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    w = importance if importance.sum() else np.ones_like(importance)
    d = np.sum(per_code * w.sum(1) / w.sum())
    per_factor = 1.0 - scipy.stats.entropy(importance + 1e-11, base=importance.shape[0])
    c = np.sum(per_factor * w.sum(0) / w.sum())
    return d, c


def _factors(n, seed=0, sizes=(3, 5, 4)):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)


def test_hand_built_importance_matrices():
    # one code per factor: perfect
    out = dci_from_importance(np.eye(3))
    assert out["disentanglement"] == pytest.approx(1.0) and out["completeness"] == pytest.approx(
        1.0
    )
    # one code important for both factors, the other unused:
    # D = D_0 = 1 - H_2(1/2, 1/2) = 0; C = 1 (each factor uses a single code)
    r = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert disentanglement(r) == pytest.approx(0.0, abs=1e-9)
    assert completeness(r) == pytest.approx(1.0)
    # two codes for one factor equally: D = 1, C = (weight 1) * (1 - H_2(1/2,1/2)) = 0
    r = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert disentanglement(r) == pytest.approx(1.0)
    assert completeness(r) == pytest.approx(0.0, abs=1e-9)
    # mixed: code weights 3/4, 1/4; D_0 = 1 - H_2(2/3, 1/3), D_1 = 1
    r = np.array([[2.0, 1.0], [0.0, 1.0]])
    h = -(2 / 3 * np.log2(2 / 3) + 1 / 3 * np.log2(1 / 3))
    assert disentanglement(r) == pytest.approx(0.75 * (1 - h) + 0.25, abs=1e-9)


def test_matches_dlib_formulas_on_random_matrices():
    rng = np.random.default_rng(0)
    for shape in [(5, 3), (2, 7), (10, 10)]:
        r = rng.exponential(size=shape) * (rng.uniform(size=shape) > 0.3)
        d, c = _dlib_style(r)
        assert disentanglement(r) == pytest.approx(d, abs=1e-12)
        assert completeness(r) == pytest.approx(c, abs=1e-12)
    zero = np.zeros((3, 2))
    assert disentanglement(zero) == pytest.approx(_dlib_style(zero)[0], abs=1e-12)


def test_single_factor_or_code():
    assert disentanglement(np.array([[1.0], [2.0]])) == 1.0
    assert completeness(np.array([[1.0, 2.0]])) == 1.0


def test_monotone_codes_and_random_codes():
    rng = np.random.default_rng(1)
    f_tr, f_te = _factors(500, 1), _factors(250, 2)
    c_tr, perm = monotone_codes(f_tr, np.random.default_rng(7))
    c_te, _ = monotone_codes(f_te, np.random.default_rng(7))
    out = dci(c_tr, f_tr, c_te, f_te)
    assert out["disentanglement"] > 0.95 and out["completeness"] > 0.95
    assert out["informativeness_test"] == pytest.approx(1.0)
    assert out["estimator"] == "gbt" and out["num_train"] == 500 and out["num_test"] == 250
    # the importance mass of each factor sits on its own code
    r = np.array(out["importance_matrix"])
    np.testing.assert_array_equal(r.argmax(0), np.argsort(perm))
    # permuting the codes permutes the importance matrix and keeps the scores
    p = rng.permutation(3)
    out_p = dci(c_tr[:, p], f_tr, c_te[:, p], f_te)
    assert out_p["disentanglement"] == pytest.approx(out["disentanglement"], abs=1e-9)
    assert out_p["completeness"] == pytest.approx(out["completeness"], abs=1e-9)
    np.testing.assert_allclose(np.array(out_p["importance_matrix"]), r[p], atol=1e-12)
    noise = dci(rng.normal(size=(500, 3)), f_tr, rng.normal(size=(250, 3)), f_te)
    assert noise["disentanglement"] < 0.1 and noise["completeness"] < 0.1


@pytest.mark.parametrize("importance", ["lasso", "random-forest"])
def test_other_importance_estimators(importance):
    f_tr, f_te = _factors(300, 3), _factors(150, 4)
    c_tr, _ = monotone_codes(f_tr, np.random.default_rng(7))
    c_te, _ = monotone_codes(f_te, np.random.default_rng(7))
    params = {"n_estimators": 20} if importance == "random-forest" else {}
    out = dci(c_tr, f_tr, c_te, f_te, importance=importance, **params)
    assert out["disentanglement"] > 0.8 and out["completeness"] > 0.8
    assert out["informativeness_measure"] == ("r2" if importance == "lasso" else "accuracy")
    with pytest.raises(ValueError, match="unknown importance"):
        dci(c_tr, f_tr, c_te, f_te, importance="xgboost")


def test_constant_codes_and_factors_warn():
    rng = np.random.default_rng(5)
    f_tr, f_te = _factors(200, 5), _factors(100, 6)
    c_tr, c_te = rng.normal(size=(200, 3)), rng.normal(size=(100, 3))
    c_tr[:, 0] = c_te[:, 0] = 1.0
    f_tr[:, 1] = f_te[:, 1] = 2
    with pytest.warns(MetricWarning) as rec:
        out = dci(c_tr, f_tr, c_te, f_te, importance="random-forest", n_estimators=5)
    messages = " ".join(str(w.message) for w in rec)
    assert "collapsed" in messages and "constant in the sample" in messages
    assert out["constant_factors"] == ["factor_1"] and out["collapsed_latents"] == [0]
    assert all(np.isfinite([out["disentanglement"], out["completeness"]]))
    with pytest.warns(MetricWarning, match="constant"):
        out = dci(c_tr, np.zeros((200, 1)), c_te, np.zeros((100, 1)))
    assert out["disentanglement"] == 0.0


def test_compute_dci_on_dataset(grid):
    out = compute_dci(
        MonotoneRepresentation(),
        grid,
        rng=0,
        num_train=300,
        num_test=100,
        importance="random-forest",
        n_estimators=10,
    )
    assert out["disentanglement"] > 0.9 and out["factor_names"] == list(grid.factor_names)
    assert out["seed"] == 0 and out["representation"] == "mean"
