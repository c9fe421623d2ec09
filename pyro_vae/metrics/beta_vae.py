r"""BetaVAE score (Higgins et al. 2017, "beta-VAE: Learning Basic Visual
Concepts with a Constrained Variational Framework", ICLR, Section 3 and
Appendix A.4), as disentanglement_lib's ``beta_vae.py`` computes it.

Each training point fixes one factor :math:`k` uniformly at random, draws
``batch_size`` pairs of observations that agree on factor :math:`k` (and are
otherwise independent), and takes the feature

.. math::

    z_{\mathrm{diff}} = \frac{1}{L} \sum_{l=1}^{L} |z^{(1)}_l - z^{(2)}_l|

of their mean codes. A linear classifier predicts :math:`k` from
:math:`z_{\mathrm{diff}}`; the score is its accuracy (train and eval).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import (
    MetricWarning,
    as_numpy,
    check_codes,
    to_builtin,
    warn_single_valued_factors,
)
from pyro_vae.metrics.sampling import (
    DEFAULT_EVAL_BATCH_SIZE,
    RepresentationFn,
    sample_beta_vae_features,
)
from pyro_vae.metrics.seeding import make_rng

__all__ = ["beta_vae_features", "beta_vae_score", "compute_beta_vae"]


def beta_vae_features(
    codes1: np.ndarray | torch.Tensor, codes2: np.ndarray | torch.Tensor
) -> np.ndarray:
    """Features ``mean_l |z1_l - z2_l|`` of paired codes ``(m, L, d)`` -> ``(m, d)``."""
    c1 = np.asarray(as_numpy(codes1), dtype=np.float64)
    c2 = np.asarray(as_numpy(codes2), dtype=np.float64)
    if c1.shape != c2.shape or c1.ndim != 3:
        raise ValueError(f"paired codes must both be (m, L, d), got {c1.shape}, {c2.shape}")
    return np.abs(c1 - c2).mean(axis=1)


def beta_vae_score(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    eval_features: np.ndarray,
    eval_labels: np.ndarray,
    random_state: int = 0,
) -> dict:
    """Accuracy of a linear classifier of the fixed factor from the features.

    dlib fits ``sklearn.linear_model.LogisticRegression(random_state=...)``,
    whose default in the sklearn of its time was the liblinear one-vs-rest
    solver with ``C=1``; sklearn's default has since become multinomial
    lbfgs, so we pin the original: ``OneVsRestClassifier(
    LogisticRegression(solver="liblinear", C=1))``.

    :param train_features: ``(n, d)`` features (:func:`beta_vae_features`).
    :param train_labels: ``(n,)`` fixed factor indices.
    :param eval_features: ``(m, d)`` held-out features.
    :param eval_labels: ``(m,)`` held-out labels.
    :returns: ``{"train_accuracy", "eval_accuracy", "classifier", ...}``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    x_tr = check_codes(train_features, "train_features")
    x_ev = check_codes(eval_features, "eval_features")
    y_tr = np.asarray(train_labels).ravel()
    y_ev = np.asarray(eval_labels).ravel()
    classifier = {"model": "LogisticRegression", "solver": "liblinear", "multi_class": "ovr"}
    classifier["C"] = 1.0
    if len(np.unique(y_tr)) < 2:
        warnings.warn(
            "BetaVAE score: a single factor label in the training points; "
            "the classifier predicts it for every point",
            MetricWarning,
            stacklevel=2,
        )
        train_acc = 1.0
        eval_acc = float(np.mean(y_ev == y_tr[0]))
    else:
        clf = OneVsRestClassifier(
            LogisticRegression(C=1.0, solver="liblinear", random_state=random_state)
        )
        clf.fit(x_tr, y_tr)
        train_acc = float(clf.score(x_tr, y_tr))
        eval_acc = float(clf.score(x_ev, y_ev))
    return to_builtin(
        {
            "train_accuracy": train_acc,
            "eval_accuracy": eval_acc,
            "estimator": "linear-classifier",
            "classifier": classifier,
            "num_train": int(len(y_tr)),
            "num_eval": int(len(y_ev)),
        }
    )


def compute_beta_vae(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """BetaVAE score on ``dataset`` (dlib: batch_size 64, 10000 train and
    5000 eval points, each from ``batch_size`` pairs).

    Collapsed latents (zero feature in every training point) are listed under
    ``"collapsed_latents"`` with a warning; they do not break the classifier.

    :returns: ``{"train_accuracy", "eval_accuracy", "batch_size", ...}``
        (the score reported in papers is ``eval_accuracy``).
    """
    gen, seed = make_rng(rng)
    warn_single_valued_factors(dataset.factor_names, dataset.factor_sizes, "BetaVAE score")
    f_tr, y_tr = sample_beta_vae_features(
        representation_fn, dataset, num_train, batch_size, gen, eval_batch_size
    )
    f_ev, y_ev = sample_beta_vae_features(
        representation_fn, dataset, num_eval, batch_size, gen, eval_batch_size
    )
    random_state = seed if seed is not None else int(gen.integers(2**31 - 1))
    out = beta_vae_score(f_tr, y_tr, f_ev, y_ev, random_state)
    collapsed = np.flatnonzero((f_tr == 0).all(axis=0)).tolist()
    if collapsed:
        warnings.warn(
            f"BetaVAE score: latent dimension(s) {collapsed} never change (collapsed latents)",
            MetricWarning,
            stacklevel=2,
        )
    out.update(batch_size=int(batch_size), representation="mean", seed=seed)
    out["collapsed_latents"] = collapsed
    return out
