r"""Modularity and explicitness (Ridgeway & Mozer 2018, "Learning Deep
Disentangled Embeddings With the F-Statistic Loss", NeurIPS, Section 3), as
disentanglement_lib's ``modularity_explicitness.py`` computes them.

**Modularity.** With :math:`m_{jk} = I(z_j; v_k)` from codes discretized
into equal-width bins (as for the binned MIG), :math:`\theta_j = \max_k
m_{jk}` and :math:`K` factors, each code scores (Eq. 2 of the paper, with
dlib's squared deviations from the ideal one-factor template)

.. math::

    \delta_j = \frac{\sum_k m_{jk}^2 - \theta_j^2}{\theta_j^2 (K - 1)},
    \qquad \mathrm{modularity}_j = 1 - \delta_j,

a code with no information scores 0, and modularity is the mean over codes.

**Explicitness.** For each factor a one-vs-rest L2 logistic regression
(:math:`C = 1`) on the z-scored codes; explicitness is the ROC-AUC of the
predicted class probabilities, macro-averaged over classes, then averaged
over factors (train and test).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from scipy.stats import rankdata

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import (
    MetricWarning,
    check_codes,
    check_codes_factors,
    check_factors,
    default_factor_names,
    discrete_mutual_info,
    histogram_discretize,
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
    "modularity",
    "modularity_from_mutual_info",
    "explicitness",
    "modularity_explicitness",
    "compute_modularity_explicitness",
    "ovr_logistic_proba",
    "macro_roc_auc",
]


def modularity_from_mutual_info(mutual_info: np.ndarray) -> tuple[float, np.ndarray]:
    """Modularity from a mutual information matrix ``(d, K)`` (dlib's
    ``modularity``). With one factor every informative code scores 1 (dlib
    divides by ``K - 1 = 0``).

    :returns: ``(modularity, per_code)``.
    """
    sq = np.square(np.asarray(mutual_info, dtype=np.float64))
    if sq.shape[1] == 0:
        return 0.0, np.zeros(sq.shape[0])
    mx = sq.max(axis=1)
    num = sq.sum(axis=1) - mx
    den = mx * (sq.shape[1] - 1.0)
    delta = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    per_code = np.where(mx > 0, 1.0 - delta, 0.0)
    return float(per_code.mean()), per_code


def modularity(
    codes: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    num_bins: int = 20,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """Modularity (Ridgeway & Mozer 2018, Eq. 2) of ``(codes, factors)``.

    Mutual information as :func:`~pyro_vae.metrics.mig.mig` computes it
    (``num_bins`` equal-width bins, plug-in MI, one bincount per factor).
    Constant factors are left out with a warning (dlib keeps them, which
    only adds zero columns but changes :math:`K - 1`).

    Example::

        >>> import itertools, numpy as np
        >>> from pyro_vae.metrics import modularity
        >>> factors = np.array(list(itertools.product(range(4), range(3))))  # the full grid
        >>> modularity(factors.astype(float), factors)["modularity"]  # one factor per code
        1.0
        >>> mixed = np.stack([factors[:, 0] * 3 + factors[:, 1], factors[:, 1]], axis=1)
        >>> modularity(mixed.astype(float), factors)["modularity"] < 1.0  # code 0 sees both
        True

    :returns: ``{"modularity", "num_bins", "num_points",
        "modularity_per_code", "mutual_information", ...}``.
    """
    codes, factors, names, collapsed, kept, constant = check_codes_factors(
        codes, factors, "modularity", factor_names
    )
    mi = discrete_mutual_info(histogram_discretize(codes, num_bins), factors[:, kept])
    score, per_code = modularity_from_mutual_info(mi)
    return to_builtin(
        {
            "modularity": score,
            "estimator": "binned",
            "num_bins": int(num_bins),
            "num_points": int(codes.shape[0]),
            "factor_names": [names[k] for k in kept],
            "constant_factors": [names[k] for k in constant],
            "collapsed_latents": collapsed,
            "modularity_per_code": per_code,
            "mutual_information": mi,
        }
    )


def ovr_logistic_proba(
    x_train: np.ndarray, y_train: np.ndarray, x_eval: Sequence[np.ndarray], C: float = 1.0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Class probabilities of one-vs-rest L2 logistic regression with liblinear.

    ``OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear"))``: what
    ``LogisticRegression()`` fit in the sklearn of disentanglement_lib's time
    (sklearn now defaults to multinomial lbfgs and no longer runs liblinear
    on more than two classes itself).

    :returns: ``(classes, [predict_proba(x) for x in x_eval])``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    clf = OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear"))
    clf.fit(x_train, y_train)
    return clf.classes_, [clf.predict_proba(x) for x in x_eval]


def macro_roc_auc(labels: np.ndarray, classes: np.ndarray, proba: np.ndarray) -> float:
    """Macro-averaged one-vs-rest ROC-AUC, vectorized over classes.

    Column ``c`` of ``proba`` scores ``labels == classes[c]``; the AUC is the
    Mann-Whitney statistic with ties counted 1/2, which equals
    ``sklearn.metrics.roc_auc_score``. Classes without positives or negatives
    among ``labels`` have no AUC and are skipped (dlib's binarizer fails).
    """
    y = labels[:, None] == classes[None, :]
    ranks = rankdata(proba, axis=0)
    npos = y.sum(0).astype(np.float64)
    nneg = len(labels) - npos
    valid = (npos > 0) & (nneg > 0)
    if not valid.any():
        return 0.5
    auc = ((ranks * y).sum(0)[valid] - npos[valid] * (npos[valid] + 1) / 2) / (
        npos[valid] * nneg[valid]
    )
    return float(auc.mean())


def explicitness(
    codes_train: np.ndarray | torch.Tensor,
    factors_train: np.ndarray | torch.Tensor,
    codes_test: np.ndarray | torch.Tensor,
    factors_test: np.ndarray | torch.Tensor,
    C: float = 1.0,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """Explicitness (Ridgeway & Mozer 2018, Section 3) as dlib's
    ``explicitness_per_factor``.

    Codes are z-scored with the training mean and standard deviation (a
    constant dimension is divided by 1 instead of 0). dlib ran sklearn
    ``LogisticRegression()`` whose default at the time was liblinear
    one-vs-rest; we pin it (:func:`ovr_logistic_proba`) and score with
    :func:`macro_roc_auc`. Constant factors are left out with a warning.

    :param float C: inverse regularization strength (dlib: 1).
    :returns: ``{"explicitness_train", "explicitness_test", ...}``.
    """
    codes_train = check_codes(codes_train, "codes_train").astype(np.float64)
    codes_test = check_codes(codes_test, "codes_test").astype(np.float64)
    factors_train = check_factors(factors_train, codes_train.shape[0])
    factors_test = check_factors(factors_test, codes_test.shape[0])
    names = default_factor_names(factors_train.shape[1], factor_names)
    collapsed = warn_constant_codes(codes_train, "explicitness")
    kept, constant = split_constant_factors(factors_train, "explicitness", names)
    mean, std = codes_train.mean(0), codes_train.std(0)
    std = np.where(std > 0, std, 1.0)
    x_tr, x_te = (codes_train - mean) / std, (codes_test - mean) / std
    train, test = [], []
    for k in kept:
        classes, (p_tr, p_te) = ovr_logistic_proba(x_tr, factors_train[:, k], [x_tr, x_te], C=C)
        train.append(macro_roc_auc(factors_train[:, k], classes, p_tr))
        test.append(macro_roc_auc(factors_test[:, k], classes, p_te))
    if not kept:
        warnings.warn("explicitness: no factor left to score", MetricWarning, stacklevel=2)
    return to_builtin(
        {
            "explicitness_train": float(np.mean(train)) if kept else 0.0,
            "explicitness_test": float(np.mean(test)) if kept else 0.0,
            "classifier": {
                "model": "LogisticRegression",
                "solver": "liblinear",
                "multi_class": "ovr",
                "C": C,
            },
            "num_train": int(codes_train.shape[0]),
            "num_test": int(codes_test.shape[0]),
            "factor_names": [names[k] for k in kept],
            "constant_factors": [names[k] for k in constant],
            "collapsed_latents": collapsed,
            "explicitness_train_per_factor": train,
            "explicitness_test_per_factor": test,
        }
    )


def modularity_explicitness(
    codes_train: np.ndarray | torch.Tensor,
    factors_train: np.ndarray | torch.Tensor,
    codes_test: np.ndarray | torch.Tensor,
    factors_test: np.ndarray | torch.Tensor,
    num_bins: int = 20,
    C: float = 1.0,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """Modularity on the training codes and explicitness, as dlib's
    ``compute_modularity_explicitness`` (see :func:`modularity` and
    :func:`explicitness`)."""
    with warnings.catch_warnings():
        # warn once for the pair, below
        warnings.simplefilter("ignore", MetricWarning)
        mod = modularity(codes_train, factors_train, num_bins, factor_names)
        exp = explicitness(codes_train, factors_train, codes_test, factors_test, C, factor_names)
    codes = check_codes(codes_train)
    warn_constant_codes(codes, "modularity/explicitness")
    split_constant_factors(
        check_factors(factors_train, codes.shape[0]), "modularity/explicitness", factor_names
    )
    mod.update({k: v for k, v in exp.items() if k not in mod})
    return mod


def compute_modularity_explicitness(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_train: int = 10000,
    num_test: int = 5000,
    num_bins: int = 20,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """Modularity and explicitness on ``num_train`` + ``num_test`` i.i.d.
    points of ``dataset`` (dlib: 10000 / 5000, 20 bins)."""
    gen, seed = make_rng(rng)
    c_tr, f_tr = sample_codes_factors(representation_fn, dataset, num_train, gen, eval_batch_size)
    c_te, f_te = sample_codes_factors(representation_fn, dataset, num_test, gen, eval_batch_size)
    out = modularity_explicitness(
        c_tr,
        f_tr,
        c_te,
        f_te,
        num_bins,
        factor_names=list(dataset.factor_names) or None,
    )
    out.update(representation="mean", seed=seed)
    return out
