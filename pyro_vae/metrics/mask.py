"""Precision, recall and F1 of a recovered action-to-latent mask.

Sparse-mechanism-shift models (sVAE, Lopez et al. 2022, "causal target
identification") estimate which latents each action shifts: a mask
``M_hat[a, j]`` over learned latents ``j``.  The true mask ``M[a, k]`` is over
true latents ``k``, and learned latents are identified only up to
permutation (and sign, and elementwise reparametrisation), so the masks are
compared after matching:

1. match learned latents to true latents as the MCC metric does
   (:func:`pyro_vae.metrics.mcc`): by the absolute Pearson correlation of the
   codes with the true latents (``|corr|`` makes the matching blind to sign
   flips), maximising the total with the Hungarian algorithm;
2. reorder the columns of ``M_hat`` by the matching and count, over all
   (action, true latent) pairs, true positives ``TP``, false positives ``FP``
   and false negatives ``FN``;
3. ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)``,
   ``F1 = 2 P R / (P + R)`` (each 0 when its denominator is 0).

When there are more learned than true latents, entries of unmatched learned
latents count as false positives; when there are fewer, entries of unmatched
true latents count as false negatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyro_vae.metrics.mcc import mcc


@dataclass(frozen=True)
class MaskScores:
    """Result of :func:`mask_scores`.

    :ivar precision: TP / (TP + FP).
    :ivar recall: TP / (TP + FN).
    :ivar f1: harmonic mean of precision and recall.
    :ivar matching: ``matching[k]`` is the learned latent matched to true
        latent ``k``, or -1 when none is.
    """

    precision: float
    recall: float
    f1: float
    matching: np.ndarray


def _as_2d(name: str, value) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {array.shape}")
    return array


def match_latents(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """For each true factor ``k`` the code matched to it, or -1: the matching
    of :func:`pyro_vae.metrics.mcc` (Hungarian, maximising the total absolute
    Pearson correlation; constant factors stay unmatched)."""
    factors = np.asarray(factors)
    if factors.ndim != 2:
        raise ValueError(f"factors must be a 2-D array, got shape {factors.shape}")
    matching = np.full(factors.shape[1], -1, dtype=np.int64)
    for code, factor in mcc(codes, factors)["matching"]:
        matching[factor] = code
    return matching


def mask_scores(
    learned_mask,
    true_mask,
    codes: np.ndarray | None = None,
    factors: np.ndarray | None = None,
    matching: np.ndarray | None = None,
) -> MaskScores:
    """Precision, recall and F1 of ``learned_mask`` against ``true_mask``.

    Example::

        >>> import numpy as np
        >>> from pyro_vae.metrics import mask_scores
        >>> sources = np.random.default_rng(0).normal(size=(100, 3))
        >>> codes = -sources[:, [2, 0, 1]]  # code 0 is source 2, code 1 is source 0, ...
        >>> true_mask = np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)  # (actions, sources)
        >>> learned = true_mask[:, [2, 0, 1]]  # the same mask over the codes
        >>> mask_scores(learned, true_mask, codes, sources).f1
        1.0
        >>> learned[1, 1] = True  # one false positive: action 1 shifts source 0
        >>> scores = mask_scores(learned, true_mask, codes, sources)
        >>> scores.precision, scores.recall, round(scores.f1, 4)
        (0.75, 1.0, 0.8571)

    :param learned_mask: ``(actions, num_codes)`` booleans (or 0/1), e.g.
        :meth:`pyro_vae.models.SVAE.learned_mask`.
    :param true_mask: ``(actions, num_factors)`` booleans, e.g.
        ``SparseMechanismShift.true_mask``.
    :param codes: ``(n, num_codes)`` learned representations of ``n`` examples.
    :param factors: ``(n, num_factors)`` true latents of the same examples.
    :param matching: instead of ``codes`` and ``factors``, a precomputed
        matching (``matching[k]`` = code matched to factor ``k``, -1 for none).
    :returns: :class:`MaskScores`.
    """
    learned = _as_2d("learned_mask", learned_mask).astype(bool)
    true = _as_2d("true_mask", true_mask).astype(bool)
    if learned.shape[0] != true.shape[0]:
        raise ValueError(
            f"the masks must have one row per action: learned has {learned.shape[0]} rows, "
            f"true has {true.shape[0]}"
        )
    if matching is None:
        if codes is None or factors is None:
            raise ValueError("give codes and factors (to match latents), or a matching")
        matching = match_latents(codes, factors)
    matching = np.asarray(matching, dtype=np.int64)
    if matching.shape != (true.shape[1],):
        raise ValueError(
            f"matching must have one entry per true latent ({true.shape[1]}), "
            f"got shape {matching.shape}"
        )
    matched = matching >= 0
    if (matching >= learned.shape[1]).any() or len(set(matching[matched])) < matched.sum():
        raise ValueError(f"matching must name distinct learned latents, got {matching}")
    recovered = np.zeros_like(true)
    recovered[:, matched] = learned[:, matching[matched]]
    unmatched = np.setdiff1d(np.arange(learned.shape[1]), matching[matched])
    tp = int((recovered & true).sum())
    fp = int((recovered & ~true).sum()) + int(learned[:, unmatched].sum())
    fn = int((~recovered & true).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return MaskScores(precision, recall, f1, matching)
