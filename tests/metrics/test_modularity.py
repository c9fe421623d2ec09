import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer, label_binarize

from pyro_vae.metrics import (
    MetricWarning,
    compute_modularity_explicitness,
    explicitness,
    modularity,
    modularity_explicitness,
)
from pyro_vae.metrics.modularity import (
    macro_roc_auc,
    modularity_from_mutual_info,
    ovr_logistic_proba,
)

from .conftest import MonotoneRepresentation, monotone_codes


def _factors(n, seed=0, sizes=(3, 5, 4)):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)


def test_modularity_by_hand():
    mi = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 1.0]])
    # codes: 1 (one factor), 0 (two equal), 0 (no information), 1 - 1/4
    score, per_code = modularity_from_mutual_info(mi)
    np.testing.assert_allclose(per_code, [1.0, 0.0, 0.0, 0.75])
    assert score == pytest.approx(1.75 / 4)
    # a single factor: every informative code is modular
    np.testing.assert_allclose(modularity_from_mutual_info(np.array([[0.5], [0.0]]))[1], [1, 0])


def test_monotone_codes_and_permutations():
    f = _factors(2000)
    codes, _ = monotone_codes(f, np.random.default_rng(0))
    out = modularity(codes, f)
    assert out["modularity"] > 0.99 and out["num_bins"] == 20
    rng = np.random.default_rng(1)
    noisy = codes + 0.2 * rng.normal(size=codes.shape)
    p = rng.permutation(3)
    assert modularity(noisy[:, p], f)["modularity"] == pytest.approx(
        modularity(noisy, f)["modularity"], abs=1e-12
    )


def test_random_codes_are_not_explicit():
    # modularity of random codes is *not* about 0: every code has a little
    # (biased) information, mostly about the factor with most values, so the
    # per-code deviation is small. Explicitness is about chance (AUC 0.5).
    rng = np.random.default_rng(2)
    f_tr, f_te = _factors(1000, 3), _factors(500, 4)
    out = explicitness(rng.normal(size=(1000, 3)), f_tr, rng.normal(size=(500, 3)), f_te)
    assert out["explicitness_test"] == pytest.approx(0.5, abs=0.05)


def test_auc_matches_sklearn():
    rng = np.random.default_rng(3)
    n = 600
    y = rng.integers(0, 4, size=n)
    x = np.stack([y + rng.normal(size=n), rng.normal(size=n), (y == 2) + rng.normal(size=n)], 1)
    classes, (proba,) = ovr_logistic_proba(x, y, [x])
    proba = np.round(proba, 2)  # ties
    auc = roc_auc_score(label_binarize(y, classes=classes), proba)
    assert macro_roc_auc(y, classes, proba) == pytest.approx(auc, abs=1e-12)
    # a class missing from the labels is skipped (sklearn / dlib would fail)
    keep = y != 3
    auc3 = roc_auc_score(label_binarize(y[keep], classes=classes)[:, :3], proba[keep, :3])
    assert macro_roc_auc(y[keep], classes, proba[keep]) == pytest.approx(auc3, abs=1e-12)


def _dlib_style_explicitness(c_tr, f_tr, c_te, f_te):
    """Reference: dlib's explicitness_per_factor loop with the liblinear OvR model."""
    mean, std = c_tr.mean(0), c_tr.std(0)
    x_tr, x_te = (c_tr - mean) / std, (c_te - mean) / std
    tr, te = [], []
    for k in range(f_tr.shape[1]):
        clf = OneVsRestClassifier(LogisticRegression(solver="liblinear")).fit(x_tr, f_tr[:, k])
        mlb = MultiLabelBinarizer()
        tr.append(roc_auc_score(mlb.fit_transform(f_tr[:, k : k + 1]), clf.predict_proba(x_tr)))
        te.append(roc_auc_score(mlb.fit_transform(f_te[:, k : k + 1]), clf.predict_proba(x_te)))
    return np.mean(tr), np.mean(te)


def test_explicitness_matches_dlib_loop():
    f_tr, f_te = _factors(500, 5), _factors(250, 6)
    rng = np.random.default_rng(5)
    c_tr, _ = monotone_codes(f_tr, np.random.default_rng(9))
    c_te, _ = monotone_codes(f_te, np.random.default_rng(9))
    c_tr, c_te = c_tr + 0.3 * rng.normal(size=c_tr.shape), c_te + 0.3 * rng.normal(size=c_te.shape)
    out = explicitness(c_tr, f_tr, c_te, f_te)
    tr, te = _dlib_style_explicitness(c_tr, f_tr, c_te, f_te)
    assert out["explicitness_train"] == pytest.approx(tr, abs=1e-12)
    assert out["explicitness_test"] == pytest.approx(te, abs=1e-12)
    assert 0.6 < out["explicitness_test"] < 1.0


def test_modularity_explicitness_warns_once_per_problem():
    rng = np.random.default_rng(6)
    f_tr, f_te = _factors(300, 7), _factors(100, 8)
    c_tr, c_te = rng.normal(size=(300, 3)), rng.normal(size=(100, 3))
    c_tr[:, 2] = c_te[:, 2] = -1.0
    f_tr[:, 0] = f_te[:, 0] = 0
    with pytest.warns(MetricWarning) as rec:
        out = modularity_explicitness(c_tr, f_tr, c_te, f_te)
    assert len(rec) == 2
    assert out["collapsed_latents"] == [2] and out["constant_factors"] == ["factor_0"]
    assert np.isfinite([out["modularity"], out["explicitness_test"]]).all()


def test_compute_modularity_explicitness_on_dataset(grid):
    out = compute_modularity_explicitness(
        MonotoneRepresentation(), grid, rng=0, num_train=600, num_test=200
    )
    assert out["modularity"] > 0.95 and out["explicitness_test"] > 0.85
    assert out["num_train"] == 600 and out["num_test"] == 200 and out["seed"] == 0
