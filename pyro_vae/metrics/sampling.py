"""Samplers: build the arrays the metrics consume from a representation
function and a ground-truth dataset (:mod:`pyro_vae.data.base`).

A *representation function* maps a batch of observations
``(m, *observation_shape)`` to mean codes ``(m, d)`` (a tensor or an array);
a *posterior function* maps it to ``(loc, scale)`` of a diagonal Gaussian
``q(z|x)``. Both are called on batches of at most ``eval_batch_size``
observations under :func:`torch.no_grad`, and observations are rendered from
factors one batch at a time, so memory stays bounded by one batch of
observations whatever the sample size.

All randomness comes from the explicit :class:`numpy.random.Generator`
``rng``. Every sampler draws all the factor tuples it needs first, then
renders and encodes them in batches, so results do not depend on
``eval_batch_size``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import as_numpy

#: ``x -> mean codes``
RepresentationFn = Callable[[torch.Tensor], "torch.Tensor | np.ndarray"]
#: ``x -> (loc, scale)`` of a diagonal Gaussian ``q(z|x)``
PosteriorFn = Callable[
    [torch.Tensor], "tuple[torch.Tensor | np.ndarray, torch.Tensor | np.ndarray]"
]

#: default number of observations per call of the representation function
DEFAULT_EVAL_BATCH_SIZE = 256


def _encode(
    fn: Callable, dataset: GroundTruthDataset, factors: np.ndarray, eval_batch_size: int
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Render ``factors`` batch by batch and apply ``fn``; float64 output."""
    if eval_batch_size < 1:
        raise ValueError(f"eval_batch_size must be >= 1, got {eval_batch_size}")
    outs: list = []
    with torch.no_grad():
        for start in range(0, len(factors), eval_batch_size):
            x = dataset.observations_from_factors(factors[start : start + eval_batch_size])
            out = fn(x)
            if isinstance(out, tuple | list):
                outs.append(tuple(np.asarray(as_numpy(o), dtype=np.float64) for o in out))
            else:
                outs.append(np.asarray(as_numpy(out), dtype=np.float64))
    if not outs:
        raise ValueError("no points to encode")
    if isinstance(outs[0], tuple):
        return tuple(np.concatenate([o[i] for o in outs]) for i in range(len(outs[0])))
    codes = np.concatenate(outs)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.shape[0] != len(factors):
        raise ValueError(
            f"the representation function returned {codes.shape[0]} codes for "
            f"{len(factors)} observations"
        )
    return codes.reshape(len(factors), -1)


def sample_codes_factors(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    num_points: int,
    rng: np.random.Generator,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, factors)`` of ``num_points`` i.i.d. points of ``dataset``.

    The analogue of disentanglement_lib's ``generate_batch_factor_code``.

    :returns: codes ``(num_points, d)`` float64, factors ``(num_points, K)`` int64.
    """
    factors = np.asarray(dataset.sample_factors(num_points, rng), dtype=np.int64)
    codes = _encode(representation_fn, dataset, factors, eval_batch_size)
    return codes, factors


def sample_posterior_factors(
    posterior_fn: PosteriorFn,
    dataset: GroundTruthDataset,
    num_points: int,
    rng: np.random.Generator,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(loc, scale, factors)`` of ``num_points`` i.i.d. points of ``dataset``."""
    factors = np.asarray(dataset.sample_factors(num_points, rng), dtype=np.int64)
    out = _encode(posterior_fn, dataset, factors, eval_batch_size)
    if not isinstance(out, tuple) or len(out) != 2:
        raise ValueError("posterior_fn must return a pair (loc, scale)")
    loc, scale = (o.reshape(num_points, -1) for o in out)
    if loc.shape != scale.shape:
        raise ValueError(f"loc {loc.shape} and scale {scale.shape} differ in shape")
    return loc, scale, factors


#: votes whose factor tuples are drawn and encoded together (fixed, so that
#: results do not depend on ``eval_batch_size``)
VOTES_PER_CHUNK = 256


def _vote_chunks(
    num_points: int, num_factors: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The fixed factor of each of ``num_points`` votes, uniform over the factors, and the
    same labels in chunks of :data:`VOTES_PER_CHUNK`."""
    labels = rng.integers(0, num_factors, size=num_points).astype(np.int64)
    starts = range(0, num_points, VOTES_PER_CHUNK)
    return labels, [labels[start : start + VOTES_PER_CHUNK] for start in starts]


def sample_beta_vae_features(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    num_points: int,
    batch_size: int,
    rng: np.random.Generator,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Training points of the BetaVAE score (Higgins et al. 2017).

    For each of ``num_points`` points: a factor ``k`` uniform over the
    factors, ``batch_size`` pairs of factor tuples drawn independently except
    that both members of a pair share the value of factor ``k``, and the
    feature ``mean_pairs |z1 - z2|`` of their mean codes (as
    disentanglement_lib's ``beta_vae._generate_training_sample``). Pairs are
    reduced to features chunk by chunk, so memory holds one chunk of codes.

    :returns: ``(features, labels)``: ``(num_points, d)`` float64 features
        and the ``(num_points,)`` int64 fixed-factor indices.
    """
    K = dataset.num_factors
    labels, chunks = _vote_chunks(num_points, K, rng)
    feats = []
    for lab in chunks:
        m = len(lab)
        f1 = np.asarray(dataset.sample_factors(m * batch_size, rng), dtype=np.int64)
        f2 = np.asarray(dataset.sample_factors(m * batch_size, rng), dtype=np.int64)
        rows = np.arange(m * batch_size)
        cols = np.repeat(lab, batch_size)
        f2[rows, cols] = f1[rows, cols]
        both = np.stack([f1, f2], axis=1).reshape(-1, K)  # pairs side by side
        codes = _encode(representation_fn, dataset, both, eval_batch_size)
        codes = codes.reshape(m, batch_size, 2, -1)
        feats.append(np.abs(codes[:, :, 0] - codes[:, :, 1]).mean(axis=1))
    return np.concatenate(feats), labels


def sample_factor_vae_variances(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    num_points: int,
    batch_size: int,
    rng: np.random.Generator,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-factor batches of the FactorVAE score (Kim & Mnih 2018).

    For each of ``num_points`` votes: a factor ``k`` uniform over the
    factors, ``batch_size`` factor tuples that all take the value of factor
    ``k`` of the first one (as disentanglement_lib's
    ``factor_vae._generate_training_sample``), and the per-dimension variance
    (``ddof=1``) of their mean codes. Reduced chunk by chunk.

    :returns: ``(local_variances, labels)``: ``(num_points, d)`` float64 and
        the ``(num_points,)`` int64 fixed-factor indices.
    """
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2 for a variance, got {batch_size}")
    K = dataset.num_factors
    labels, chunks = _vote_chunks(num_points, K, rng)
    out = []
    for lab in chunks:
        m = len(lab)
        f = np.asarray(dataset.sample_factors(m * batch_size, rng), dtype=np.int64)
        f = f.reshape(m, batch_size, K)
        idx = np.arange(m)
        f[idx, :, lab] = f[idx, 0, lab][:, None]
        codes = _encode(representation_fn, dataset, f.reshape(-1, K), eval_batch_size)
        out.append(codes.reshape(m, batch_size, -1).var(axis=1, ddof=1))
    return np.concatenate(out), labels
