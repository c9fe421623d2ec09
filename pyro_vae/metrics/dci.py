r"""DCI: disentanglement, completeness and informativeness (Eastwood &
Williams 2018, "A Framework for the Quantitative Evaluation of Disentangled
Representations", ICLR), as disentanglement_lib's ``dci.py`` computes them.

From an importance matrix :math:`R \in \mathbb{R}_{\ge 0}^{d \times K}`
(:math:`R_{jk}`: importance of code :math:`j` for predicting factor
:math:`k`), with :math:`P_{jk} = R_{jk} / \sum_{k'} R_{jk'}` and
:math:`\tilde P_{jk} = R_{jk} / \sum_{j'} R_{j'k}`:

.. math::

    D_j = 1 - H_K(P_{j\cdot}), \quad D = \sum_j \rho_j D_j,
    \quad \rho_j = \frac{\sum_k R_{jk}}{\sum_{jk} R_{jk}}
    \qquad \text{(Eq. 2)}

    C_k = 1 - H_d(\tilde P_{\cdot k}), \quad C = \sum_k \tilde\rho_k C_k,
    \quad \tilde\rho_k = \frac{\sum_j R_{jk}}{\sum_{jk} R_{jk}}
    \qquad \text{(Eq. 3)}

where :math:`H_b` is the entropy in base :math:`b`. Informativeness is the
prediction accuracy of the per-factor regressors (dlib reports accuracy,
not the paper's error).
"""

from __future__ import annotations

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

__all__ = [
    "dci",
    "dci_from_importance",
    "disentanglement",
    "completeness",
    "importance_matrix",
    "compute_dci",
    "IMPORTANCE_ESTIMATORS",
]

IMPORTANCE_ESTIMATORS = ("gbt", "lasso", "random-forest")

#: dlib adds this to every entry before the entropies (``scipy.stats.entropy``)
_EPS = 1e-11


def _entropy_rows(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy in ``base`` of each row of ``p + 1e-11``, normalized per row
    (``scipy.stats.entropy(p.T + 1e-11, base=base)`` in dlib)."""
    q = p + _EPS
    q = q / q.sum(axis=1, keepdims=True)
    return -(q * np.log(q)).sum(axis=1) / np.log(base)


def disentanglement_per_code(importance: np.ndarray) -> np.ndarray:
    """:math:`D_j` of each code (Eq. 2); 1 for every code when there is a
    single factor (the base-1 entropy is undefined; dlib divides by 0)."""
    importance = np.asarray(importance, dtype=np.float64)
    if importance.shape[1] == 1:
        return np.ones(importance.shape[0])
    return 1.0 - _entropy_rows(importance, importance.shape[1])


def disentanglement(importance: np.ndarray) -> float:
    """Disentanglement :math:`D` (Eq. 2) of an importance matrix ``(d, K)``.

    An all-zero matrix gives uniform code weights, as in dlib.
    """
    importance = np.asarray(importance, dtype=np.float64)
    per_code = disentanglement_per_code(importance)
    weights = importance if importance.sum() > 0 else np.ones_like(importance)
    rho = weights.sum(axis=1) / weights.sum()
    return float(np.sum(per_code * rho))


def completeness_per_factor(importance: np.ndarray) -> np.ndarray:
    """:math:`C_k` of each factor (Eq. 3); 1 for every factor with one code."""
    importance = np.asarray(importance, dtype=np.float64)
    if importance.shape[0] == 1:
        return np.ones(importance.shape[1])
    return 1.0 - _entropy_rows(importance.T, importance.shape[0])


def completeness(importance: np.ndarray) -> float:
    """Completeness :math:`C` (Eq. 3) of an importance matrix ``(d, K)``."""
    importance = np.asarray(importance, dtype=np.float64)
    per_factor = completeness_per_factor(importance)
    weights = importance if importance.sum() > 0 else np.ones_like(importance)
    rho = weights.sum(axis=0) / weights.sum()
    return float(np.sum(per_factor * rho))


def dci_from_importance(importance: np.ndarray) -> dict:
    """Disentanglement and completeness of a hand-made importance matrix.

    Example::

        >>> import numpy as np
        >>> from pyro_vae.metrics import dci_from_importance
        >>> perfect = dci_from_importance(np.eye(3))
        >>> round(perfect["disentanglement"], 6), round(perfect["completeness"], 6)
        (1.0, 1.0)
        >>> uniform = dci_from_importance(np.ones((3, 3)))  # every code predicts every factor
        >>> round(uniform["disentanglement"], 6), round(uniform["completeness"], 6)
        (0.0, 0.0)
    """
    importance = np.abs(np.asarray(importance, dtype=np.float64))
    return {
        "disentanglement": disentanglement(importance),
        "completeness": completeness(importance),
        "disentanglement_per_code": disentanglement_per_code(importance).tolist(),
        "completeness_per_factor": completeness_per_factor(importance).tolist(),
    }


def _estimator(importance: str, random_state: int, **params):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import Lasso

    if importance == "gbt":
        return GradientBoostingClassifier(random_state=random_state, **params)
    if importance == "random-forest":
        params.setdefault("n_estimators", 100)
        params.setdefault("max_features", None)  # all codes at every split, as a regressor
        return RandomForestClassifier(random_state=random_state, **params)
    if importance == "lasso":
        params.setdefault("alpha", 0.02)
        return Lasso(random_state=random_state, **params)
    raise ValueError(f"unknown importance {importance!r}; choose from {IMPORTANCE_ESTIMATORS}")


def importance_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    importance: str = "gbt",
    random_state: int = 0,
    **params,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Importance matrix ``(d, K)`` and per-factor train/test informativeness.

    * ``"gbt"`` (dlib's ``compute_importance_gbt``): one
      ``sklearn.ensemble.GradientBoostingClassifier`` (default parameters:
      100 stages, depth 3, learning rate 0.1) per factor; importances are its
      ``feature_importances_``; informativeness is classification accuracy.
    * ``"random-forest"``: ``RandomForestClassifier`` (100 trees, every code
      considered at each split, as the regression forests Eastwood & Williams
      used; sklearn's classifier default ``"sqrt"`` would force splits on
      irrelevant codes and blur the importances) likewise.
    * ``"lasso"`` (Eastwood & Williams): ``Lasso(alpha=0.02)`` from codes
      standardized with the training mean/std to the standardized factor
      value; importances ``|coef|``; informativeness is :math:`R^2`.

    ``params`` go to the estimator.
    """
    d, K = codes_train.shape[1], factors_train.shape[1]
    R = np.zeros((d, K))
    train, test = np.zeros(K), np.zeros(K)
    if importance == "lasso":
        mu, sd = codes_train.mean(0), codes_train.std(0)
        sd = np.where(sd > 0, sd, 1.0)
        x_tr, x_te = (codes_train - mu) / sd, (codes_test - mu) / sd
    else:
        x_tr, x_te = codes_train, codes_test
    for k in range(K):
        model = _estimator(importance, random_state, **params)
        y_tr, y_te = factors_train[:, k], factors_test[:, k]
        if importance == "lasso":
            fm, fs = y_tr.mean(), y_tr.std()
            fs = fs if fs > 0 else 1.0
            y_tr, y_te = (y_tr - fm) / fs, (y_te - fm) / fs
            model.fit(x_tr, y_tr)
            R[:, k] = np.abs(model.coef_)
            train[k], test[k] = model.score(x_tr, y_tr), model.score(x_te, y_te)
        else:
            model.fit(x_tr, y_tr)
            R[:, k] = np.abs(model.feature_importances_)
            train[k] = np.mean(model.predict(x_tr) == y_tr)
            test[k] = np.mean(model.predict(x_te) == y_te)
    return R, train, test


def dci(
    codes_train: np.ndarray | torch.Tensor,
    factors_train: np.ndarray | torch.Tensor,
    codes_test: np.ndarray | torch.Tensor,
    factors_test: np.ndarray | torch.Tensor,
    importance: str = "gbt",
    random_state: int = 0,
    factor_names: list[str] | None = None,
    **params,
) -> dict:
    """DCI scores (Eastwood & Williams 2018, Eqs. 2-3) as dlib's ``_compute_dci``.

    Departures from dlib: the estimator gets ``random_state`` (dlib leaves
    it unset, so its GBT runs are not reproducible); factors constant in the
    training sample are left out with a warning (the classifiers cannot be
    fit; dlib fails); a single factor or a single code has disentanglement
    or completeness 1 (dlib divides by ``log 1``).

    Example::

        >>> import itertools, numpy as np
        >>> from pyro_vae.metrics import dci
        >>> factors = np.array(list(itertools.product(range(4), range(3))))  # the full grid
        >>> codes = factors.astype(float)  # one code per factor
        >>> result = dci(codes, factors, codes, factors)
        >>> result["importance_matrix"]
        [[1.0, 0.0], [0.0, 1.0]]
        >>> round(result["disentanglement"], 6), round(result["completeness"], 6)
        (1.0, 1.0)
        >>> result["informativeness_test"]
        1.0

    :param codes_train: ``(n, d)`` mean codes to fit the regressors.
    :param factors_train: ``(n, K)`` factor classes.
    :param codes_test: ``(m, d)`` held-out codes for test informativeness.
    :param factors_test: ``(m, K)`` held-out factors.
    :param str importance: ``"gbt"`` (dlib, default), ``"random-forest"`` or
        ``"lasso"`` (see :func:`importance_matrix`).
    :param int random_state: seed of the estimators.
    :returns: ``{"disentanglement", "completeness", "informativeness_train",
        "informativeness_test", "importance_matrix", ...}``; informativeness
        is accuracy for the classifiers and :math:`R^2` for the lasso.
    """
    codes_train = check_codes(codes_train, "codes_train")
    codes_test = check_codes(codes_test, "codes_test")
    factors_train = check_factors(factors_train, codes_train.shape[0])
    factors_test = check_factors(factors_test, codes_test.shape[0])
    if importance not in IMPORTANCE_ESTIMATORS:
        raise ValueError(f"unknown importance {importance!r}; choose from {IMPORTANCE_ESTIMATORS}")
    K = factors_train.shape[1]
    names = default_factor_names(K, factor_names)
    collapsed = warn_constant_codes(codes_train, "DCI")
    kept, constant = split_constant_factors(factors_train, "DCI", names)
    R = np.zeros((codes_train.shape[1], len(kept)))
    train = test = np.zeros(0)
    if kept:
        R, train, test = importance_matrix(
            codes_train,
            factors_train[:, kept],
            codes_test,
            factors_test[:, kept],
            importance,
            random_state,
            **params,
        )
    scores = dci_from_importance(R) if kept else {}
    out = {
        "disentanglement": scores.get("disentanglement", 0.0),
        "completeness": scores.get("completeness", 0.0),
        "informativeness_train": float(np.mean(train)) if kept else 0.0,
        "informativeness_test": float(np.mean(test)) if kept else 0.0,
        "estimator": importance,
        "informativeness_measure": "r2" if importance == "lasso" else "accuracy",
        "estimator_params": {"random_state": random_state, **params},
        "num_train": int(codes_train.shape[0]),
        "num_test": int(codes_test.shape[0]),
        "factor_names": [names[k] for k in kept],
        "constant_factors": [names[k] for k in constant],
        "collapsed_latents": collapsed,
        "importance_matrix": R.tolist(),
        "informativeness_train_per_factor": train.tolist(),
        "informativeness_test_per_factor": test.tolist(),
        "disentanglement_per_code": scores.get("disentanglement_per_code", []),
        "completeness_per_factor": scores.get("completeness_per_factor", []),
    }
    return to_builtin(out)


def compute_dci(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_train: int = 10000,
    num_test: int = 5000,
    importance: str = "gbt",
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
    **params,
) -> dict:
    """DCI (:func:`dci`) on ``num_train`` + ``num_test`` i.i.d. points of
    ``dataset`` (dlib: 10000 / 5000, GBT)."""
    gen, seed = make_rng(rng)
    c_tr, f_tr = sample_codes_factors(representation_fn, dataset, num_train, gen, eval_batch_size)
    c_te, f_te = sample_codes_factors(representation_fn, dataset, num_test, gen, eval_batch_size)
    random_state = seed if seed is not None else int(gen.integers(2**31 - 1))
    out = dci(
        c_tr,
        f_tr,
        c_te,
        f_te,
        importance,
        random_state,
        list(dataset.factor_names) or None,
        **params,
    )
    out.update(representation="mean", seed=seed)
    return out
