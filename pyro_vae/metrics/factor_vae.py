r"""FactorVAE score (Kim & Mnih 2018, "Disentangling by Factorising", ICML,
Section 4), as disentanglement_lib's ``factor_vae.py`` computes it.

1. Global variance :math:`s_j^2` of each code dimension over
   ``num_variance_estimate`` random points (``ddof=1``); dimensions with
   :math:`s_j < 0.05` are *inactive* (collapsed) and pruned.
2. Each vote fixes one factor :math:`k` uniformly at random, draws
   ``batch_size`` points sharing the value of factor :math:`k`, and votes
   for the active dimension of least normalized variance

   .. math::

       j^* = \arg\min_{j\ \mathrm{active}} \mathrm{Var}_{\mathrm{batch}}(z_j) / s_j^2 .

3. The majority-vote classifier maps each dimension to the factor that
   voted for it most often (ties: lowest factor index); the score is the
   fraction of votes it gets right, on training and on held-out votes.
"""

from __future__ import annotations

import warnings

import numpy as np

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import (
    MetricWarning,
    check_codes,
    to_builtin,
    warn_single_valued_factors,
)
from pyro_vae.metrics.sampling import (
    DEFAULT_EVAL_BATCH_SIZE,
    RepresentationFn,
    sample_codes_factors,
    sample_factor_vae_variances,
)
from pyro_vae.metrics.seeding import make_rng

__all__ = ["factor_vae_votes", "factor_vae_score", "compute_factor_vae"]


def factor_vae_votes(
    global_variances: np.ndarray,
    local_variances: np.ndarray,
    labels: np.ndarray,
    num_factors: int,
    active: np.ndarray,
) -> np.ndarray:
    """Vote matrix ``(num_factors, d)``: how often fixing factor ``k`` made
    dimension ``j`` the active one of least normalized variance (all votes
    at once; dlib computes one ``argmin`` per vote in a Python loop).

    :param global_variances: ``(d,)``.
    :param local_variances: ``(m, d)`` variance of each vote's batch.
    :param labels: ``(m,)`` fixed factor of each vote.
    :param active: ``(d,)`` boolean mask of the active dimensions.
    """
    act = np.flatnonzero(active)
    ratio = local_variances[:, act] / global_variances[act]
    winners = act[np.argmin(ratio, axis=1)]
    votes = np.zeros((num_factors, len(global_variances)), dtype=np.int64)
    np.add.at(votes, (np.asarray(labels, dtype=np.int64), winners), 1)
    return votes


def factor_vae_score(
    global_variances: np.ndarray,
    train_local_variances: np.ndarray,
    train_labels: np.ndarray,
    eval_local_variances: np.ndarray,
    eval_labels: np.ndarray,
    num_factors: int,
    threshold: float = 0.05,
) -> dict:
    """FactorVAE score from variances (dlib's ``compute_factor_vae`` after sampling).

    If no dimension is active (every global std below ``threshold``) the
    score is 0 for train and eval with ``num_active_dims = 0``, as dlib
    returns, plus a warning. Departure from dlib: ``num_active_dims`` is the
    number of active dimensions (dlib reports ``len`` of its boolean mask,
    i.e. every dimension).

    :param global_variances: ``(d,)`` variances over random points (``ddof=1``).
    :param train_local_variances: ``(m, d)`` per-vote batch variances.
    :param train_labels: ``(m,)`` fixed factor indices.
    :param eval_local_variances: ``(m', d)`` held-out votes.
    :param eval_labels: ``(m',)``.
    :param int num_factors: number of factors ``K``.
    :param float threshold: prune dimensions with global std below it (dlib: 0.05).
    :returns: ``{"train_accuracy", "eval_accuracy", "num_active_dims",
        "active_dims", "votes", "classifier", ...}``.
    """
    gv = np.asarray(global_variances, dtype=np.float64).ravel()
    tr = check_codes(train_local_variances, "train_local_variances")
    ev = check_codes(eval_local_variances, "eval_local_variances")
    active = np.sqrt(gv) >= threshold
    out = {
        "estimator": "majority-vote",
        "prune_threshold": float(threshold),
        "num_train": int(len(tr)),
        "num_eval": int(len(ev)),
        "num_active_dims": int(active.sum()),
        "active_dims": np.flatnonzero(active).tolist(),
        "collapsed_latents": np.flatnonzero(~active).tolist(),
    }
    if not active.any():
        warnings.warn(
            f"FactorVAE score: no active latent dimension (every global std < {threshold}; "
            "all latents collapsed); score 0 as in disentanglement_lib",
            MetricWarning,
            stacklevel=2,
        )
        out.update(train_accuracy=0.0, eval_accuracy=0.0, votes=[], classifier=[])
        return to_builtin(out)
    if (~active).any():
        warnings.warn(
            f"FactorVAE score: latent dimension(s) {out['collapsed_latents']} have global "
            f"std < {threshold} (collapsed latents) and are pruned",
            MetricWarning,
            stacklevel=2,
        )
    train_votes = factor_vae_votes(gv, tr, train_labels, num_factors, active)
    eval_votes = factor_vae_votes(gv, ev, eval_labels, num_factors, active)
    classifier = np.argmax(train_votes, axis=0)
    cols = np.arange(train_votes.shape[1])
    out.update(
        train_accuracy=float(train_votes[classifier, cols].sum() / max(1, train_votes.sum())),
        eval_accuracy=float(eval_votes[classifier, cols].sum() / max(1, eval_votes.sum())),
        votes=train_votes,
        classifier=[int(c) if active[j] else None for j, c in enumerate(classifier)],
    )
    return to_builtin(out)


def compute_factor_vae(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    threshold: float = 0.05,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """FactorVAE score on ``dataset`` (dlib: batch_size 64, 10000 train and
    5000 eval votes, 10000 points for the global variances, threshold 0.05).

    :returns: see :func:`factor_vae_score` (papers report ``eval_accuracy``).
    """
    gen, seed = make_rng(rng)
    warn_single_valued_factors(dataset.factor_names, dataset.factor_sizes, "FactorVAE score")
    codes, _ = sample_codes_factors(
        representation_fn, dataset, num_variance_estimate, gen, eval_batch_size
    )
    gv = codes.var(axis=0, ddof=1)
    v_tr, y_tr = sample_factor_vae_variances(
        representation_fn, dataset, num_train, batch_size, gen, eval_batch_size
    )
    v_ev, y_ev = sample_factor_vae_variances(
        representation_fn, dataset, num_eval, batch_size, gen, eval_batch_size
    )
    out = factor_vae_score(gv, v_tr, y_tr, v_ev, y_ev, dataset.num_factors, threshold)
    out.update(
        batch_size=int(batch_size),
        num_variance_estimate=int(num_variance_estimate),
        representation="mean",
        seed=seed,
    )
    return out
