r"""SAP: Separated Attribute Predictability (Kumar et al. 2018, "Variational
Inference of Disentangled Latent Concepts from Unlabeled Observations",
ICLR, Section 3), as disentanglement_lib's ``sap_score.py`` computes it.

A score matrix :math:`S \in \mathbb{R}^{d \times K}` holds how well each
single code dimension predicts each factor: for a discrete factor the test
accuracy of a linear SVM on that one dimension; for a continuous factor
the :math:`R^2` of a linear fit, :math:`\mathrm{Cov}(z_j, v_k)^2 /
(\mathrm{Var}(z_j) \mathrm{Var}(v_k))`. SAP is the mean over factors of
the gap between the two largest entries of the factor's column.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import (
    check_codes,
    check_factors,
    default_factor_names,
    split_constant_factors,
    to_builtin,
    warn_constant_codes,
)
from pyro_vae.metrics.sampling import (
    DEFAULT_EVAL_BATCH_SIZE,
    RepresentationFn,
    sample_codes_factors,
)
from pyro_vae.metrics.seeding import make_rng

__all__ = ["sap", "sap_from_score_matrix", "sap_score_matrix", "compute_sap", "SVM_PARAMS"]

#: dlib's SVM (``svm.LinearSVC(C=0.01, class_weight="balanced")``); we solve
#: the same problem in the primal (``dual=False``), see :func:`sap`.
SVM_PARAMS = {"C": 0.01, "class_weight": "balanced", "dual": False, "max_iter": 1000}


def sap_from_score_matrix(score_matrix: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over factors (columns) of the gap between the top two scores.

    With one code dimension the runner-up score is 0.

    :returns: ``(sap, gaps)``.
    """
    s = np.sort(np.asarray(score_matrix, dtype=np.float64), axis=0)
    if s.shape[1] == 0:
        return 0.0, np.zeros(0)
    second = s[-2] if s.shape[0] > 1 else np.zeros(s.shape[1])
    gaps = s[-1] - second
    return float(np.mean(gaps)), gaps


def sap_score_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray | None,
    factors_test: np.ndarray | None,
    continuous: Sequence[bool],
    random_state: int = 0,
) -> np.ndarray:
    """Score matrix ``(d, K)`` as dlib's ``compute_score_matrix``.

    Continuous factors: :math:`R^2` on the training set (0 when
    :math:`\\mathrm{Var}(z_j) \\le 10^{-12}`). Discrete factors: test accuracy of
    ``LinearSVC(**SVM_PARAMS)`` fit on one code dimension.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    d, K = codes_train.shape[1], factors_train.shape[1]
    S = np.zeros((d, K))
    for k in range(K):
        if continuous[k]:
            y = factors_train[:, k].astype(np.float64)
            cz = codes_train - codes_train.mean(0)
            cy = y - y.mean()
            n1 = len(y) - 1
            cov = cz.T @ cy / n1
            var_z = (cz**2).sum(0) / n1
            var_y = (cy**2).sum() / n1
            ok = var_z > 1e-12
            S[ok, k] = cov[ok] ** 2 / (var_z[ok] * var_y)
            continue
        if codes_test is None or factors_test is None:
            raise ValueError("discrete factors need codes_test and factors_test")
        for j in range(d):
            clf = LinearSVC(random_state=random_state, **SVM_PARAMS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(codes_train[:, j : j + 1], factors_train[:, k])
            S[j, k] = np.mean(clf.predict(codes_test[:, j : j + 1]) == factors_test[:, k])
    return S


def sap(
    codes_train: np.ndarray | torch.Tensor,
    factors_train: np.ndarray | torch.Tensor,
    codes_test: np.ndarray | torch.Tensor | None = None,
    factors_test: np.ndarray | torch.Tensor | None = None,
    continuous_factors: bool | Sequence[bool] = False,
    random_state: int = 0,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """SAP score (Kumar et al. 2018, Section 3), as dlib's ``_compute_sap``.

    Departures from dlib: ``continuous_factors`` may be given per factor
    (dlib: one flag for all); the SVM is solved in the primal
    (``dual=False``), which reaches the optimum of the same objective, where
    dlib's sklearn (dual coordinate descent, 1000 iterations) often stopped
    unconverged; constant factors are left out with a warning; with one code
    dimension the runner-up score is 0.

    Example::

        >>> import itertools, numpy as np
        >>> from pyro_vae.metrics import sap
        >>> factors = np.array(list(itertools.product(range(4), range(3))))  # the full grid
        >>> result = sap(factors.astype(float), factors, continuous_factors=True)
        >>> result["score_matrix"]  # R^2 of each code (row) for each factor (column)
        [[1.0, 0.0], [0.0, 1.0]]
        >>> result["sap"]
        1.0

    :param codes_train: ``(n, d)`` mean codes.
    :param factors_train: ``(n, K)`` factors.
    :param codes_test: ``(m, d)`` held-out codes (needed for discrete factors).
    :param factors_test: ``(m, K)`` held-out factors.
    :param continuous_factors: one flag or one per factor (dlib: ``False``).
    :returns: ``{"sap", "score_matrix", "sap_per_factor", ...}``.
    """
    codes_train = check_codes(codes_train, "codes_train")
    factors_train = check_factors(factors_train, codes_train.shape[0])
    if codes_test is not None:
        codes_test = check_codes(codes_test, "codes_test")
        factors_test = check_factors(factors_test, codes_test.shape[0])
    K = factors_train.shape[1]
    names = default_factor_names(K, factor_names)
    cont = (
        [bool(continuous_factors)] * K
        if np.isscalar(continuous_factors)
        else list(continuous_factors)
    )
    if len(cont) != K:
        raise ValueError(f"continuous_factors has {len(cont)} flags for {K} factors")
    collapsed = warn_constant_codes(codes_train, "SAP")
    kept, constant = split_constant_factors(factors_train, "SAP", names)
    S = sap_score_matrix(
        codes_train,
        factors_train[:, kept],
        codes_test,
        None if factors_test is None else factors_test[:, kept],
        [cont[k] for k in kept],
        random_state,
    )
    score, gaps = sap_from_score_matrix(S)
    out = {
        "sap": score,
        "estimator": "single-code LinearSVC accuracy (discrete) / R^2 (continuous)",
        "svm": dict(SVM_PARAMS),
        "continuous_factors": [names[k] for k in kept if cont[k]],
        "num_train": int(codes_train.shape[0]),
        "num_test": int(codes_test.shape[0]) if codes_test is not None else 0,
        "factor_names": [names[k] for k in kept],
        "constant_factors": [names[k] for k in constant],
        "collapsed_latents": collapsed,
        "score_matrix": S.tolist(),
        "sap_per_factor": {names[k]: float(g) for k, g in zip(kept, gaps, strict=True)},
    }
    return to_builtin(out)


def compute_sap(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_train: int = 10000,
    num_test: int = 5000,
    continuous_factors: bool | Sequence[bool] = False,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """SAP (:func:`sap`) on ``num_train`` + ``num_test`` i.i.d. points of
    ``dataset`` (dlib: 10000 / 5000, discrete factors)."""
    gen, seed = make_rng(rng)
    c_tr, f_tr = sample_codes_factors(representation_fn, dataset, num_train, gen, eval_batch_size)
    c_te, f_te = sample_codes_factors(representation_fn, dataset, num_test, gen, eval_batch_size)
    out = sap(
        c_tr, f_tr, c_te, f_te, continuous_factors, seed or 0, list(dataset.factor_names) or None
    )
    out.update(representation="mean", seed=seed)
    return out
