"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of
Disentanglement in Variational Autoencoders", NeurIPS), two estimators.

For each factor :math:`v_k` the gap between the two latent dimensions that
share the most mutual information with it, normalized by its entropy
(Chen et al. 2018, Eq. 8):

.. math::

    \\mathrm{MIG} = \\frac{1}{K} \\sum_k \\frac{1}{H(v_k)}
        \\Big( I(z_{j^{(k)}}; v_k) - \\max_{j \\ne j^{(k)}} I(z_j; v_k) \\Big),
    \\qquad j^{(k)} = \\arg\\max_j I(z_j; v_k).

* :func:`mig` -- the **binned** estimator of disentanglement_lib: mean codes
  discretized into equal-width bins, plug-in discrete MI.
* :func:`mig_sampled` -- the **sampled** estimator of Chen et al.: MI from
  samples of ``q(z|x)`` and the aggregate posterior as a mixture,
  generalized to any sample of data points (no full factor grid needed).

The two measure different things (the binned one ignores the posterior
variance) and their values are not comparable with each other.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import (
    MetricWarning,
    as_numpy,
    check_codes,
    check_factors,
    default_factor_names,
    discrete_entropy,
    discrete_mutual_info,
    encode_labels,
    histogram_discretize,
    resolve_factors,
    split_constant_factors,
    to_builtin,
    warn_constant_codes,
)
from pyro_vae.metrics.sampling import (
    DEFAULT_EVAL_BATCH_SIZE,
    PosteriorFn,
    RepresentationFn,
    sample_codes_factors,
    sample_posterior_factors,
)
from pyro_vae.metrics.seeding import make_rng

__all__ = ["mig", "mig_sampled", "mig_from_mutual_info", "compute_mig", "compute_mig_sampled"]


def mig_from_mutual_info(
    mutual_info: np.ndarray, factor_entropy: np.ndarray
) -> tuple[float, np.ndarray]:
    """MIG from a mutual information matrix ``(d, K)`` and factor entropies ``(K,)``.

    With a single latent dimension the runner-up information is taken as 0.
    Factors with zero entropy must be removed by the caller.

    :returns: ``(mig, gaps)`` with the normalized gap of each factor.
    """
    mutual_info = np.asarray(mutual_info, dtype=np.float64)
    factor_entropy = np.asarray(factor_entropy, dtype=np.float64)
    if mutual_info.shape[1] == 0:
        return 0.0, np.zeros(0)
    top = np.sort(mutual_info, axis=0)[::-1]
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    gaps = (top[0] - second) / factor_entropy
    return float(np.mean(gaps)), gaps


def _mig_result(
    estimator: str,
    mi: np.ndarray,
    entropy: np.ndarray,
    names: list[str],
    excluded: list[int],
    constant: list[int],
    collapsed: list[int],
) -> dict:
    K = mi.shape[1]
    kept = [k for k in range(K) if k not in excluded and k not in constant]
    if not kept:
        warnings.warn(
            "MIG: no factor left to score (all excluded or constant); MIG = 0",
            MetricWarning,
            stacklevel=3,
        )
    score, gaps = mig_from_mutual_info(mi[:, kept], entropy[kept])
    return {
        "mig": score,
        "estimator": estimator,
        "mig_per_factor": {names[k]: float(g) for k, g in zip(kept, gaps, strict=True)},
        "factor_names": names,
        "excluded_factors": [names[k] for k in excluded],
        "constant_factors": [names[k] for k in constant],
        "collapsed_latents": collapsed,
        "mutual_information": mi.tolist(),
        "factor_entropy": entropy.tolist(),
    }


def mig(
    codes: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    num_bins: int = 20,
    exclude_factors: Sequence[int | str] | None = None,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """Binned MIG, as disentanglement_lib's ``mig._compute_mig``.

    Each code dimension is discretized into ``num_bins`` equal-width bins
    (:func:`~pyro_vae.metrics._utils.histogram_discretize`, identical bins
    to dlib's ``histogram_discretize``); :math:`I(z_j; v_k)` is the plug-in
    MI of the contingency table (``sklearn.metrics.mutual_info_score``
    conventions, nats) and :math:`H(v_k)` the plug-in entropy of the factor
    values; factor values are treated as class labels. All ``d * K`` tables
    come from one ``np.bincount`` per factor.

    Departures from dlib: factors listed in ``exclude_factors`` (Chen et al.
    exclude dSprites' shape) and constant factors (zero entropy, where dlib
    divides by zero) are left out of the mean, with a warning for the
    latter; with one latent dimension the runner-up MI is 0 (dlib fails).

    Example::

        >>> import itertools, numpy as np
        >>> from pyro_vae.metrics import mig
        >>> factors = np.array(list(itertools.product(range(4), range(3))))  # the full grid
        >>> mig(factors.astype(float), factors)["mig"]  # one code per factor: the maximum
        1.0
        >>> mig(factors[:, [0, 0]].astype(float), factors)["mig"]  # a duplicated code: no gap
        0.0

    :param codes: ``(n, d)`` mean codes.
    :param factors: ``(n, K)`` factor values (classes).
    :param int num_bins: bins per code dimension (dlib: 20).
    :param exclude_factors: factor indices or names to leave out of the mean.
    :param factor_names: names of the ``K`` factors, for the result and
        for ``exclude_factors``.
    :returns: ``{"mig", "estimator": "binned", "num_bins", "num_points",
        "mig_per_factor", "mutual_information" (d x K, nats),
        "factor_entropy", ...}``.
    """
    codes = check_codes(codes)
    factors = check_factors(factors, codes.shape[0])
    K = factors.shape[1]
    names = default_factor_names(K, factor_names)
    excluded = resolve_factors(exclude_factors, K, names)
    collapsed = warn_constant_codes(codes, "MIG")
    _, constant = split_constant_factors(factors, "MIG", names)
    mi = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)
    entropy = discrete_entropy(factors)
    out = _mig_result("binned", mi, entropy, names, excluded, constant, collapsed)
    out.update(num_bins=int(num_bins), num_points=int(codes.shape[0]))
    return to_builtin(out)


def _log_normal(
    z: torch.Tensor, loc: torch.Tensor, inv_scale: torch.Tensor, log_norm: torch.Tensor
) -> torch.Tensor:
    """``log N(z_m | loc_i, scale_i)`` per dimension, ``(m, n, d)``, with
    ``inv_scale = 1 / scale`` and ``log_norm = log(scale) + log(2 pi) / 2``
    (one allocation, then in place)."""
    out = z[:, None, :] - loc[None]
    out.mul_(inv_scale).square_().mul_(-0.5)
    return out.sub_(log_norm)


def sampled_mutual_info(
    loc: np.ndarray | torch.Tensor,
    scale: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    rng: np.random.Generator,
    num_samples: int | None = None,
    max_chunk_elements: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo :math:`I(z_j; v_k)` (nats) from a diagonal Gaussian
    posterior on ``n`` data points. See :func:`mig_sampled` for the estimator.

    :returns: ``(mutual_info (d, K), sample_indices)``.
    """
    loc_t = torch.as_tensor(as_numpy(loc), dtype=torch.float64)
    scale_t = torch.as_tensor(as_numpy(scale), dtype=torch.float64)
    n, d = loc_t.shape
    labels, sizes = encode_labels(check_factors(factors, n))
    K = labels.shape[1]
    m_total = n if num_samples is None else min(int(num_samples), n)
    subset = rng.choice(n, size=m_total, replace=False) if m_total < n else np.arange(n)
    idx = np.sort(subset)
    eps = torch.as_tensor(rng.standard_normal((m_total, d)))
    z = loc_t[idx] + scale_t[idx] * eps
    all_labels = torch.as_tensor(labels)  # (n, K)
    log_counts = [
        torch.bincount(all_labels[:, k], minlength=sizes[k]).to(torch.float64).log()
        for k in range(K)
    ]
    sample_labels = all_labels[idx]
    inv_scale = 1.0 / scale_t
    log_norm = scale_t.log() + 0.5 * math.log(2 * math.pi)
    chunk = max(1, max_chunk_elements // max(1, n * max(d, K)))
    mi_sum = torch.zeros(d, K, dtype=torch.float64)
    for start in range(0, m_total, chunk):
        zc = z[start : start + chunk]
        dens = _log_normal(zc, loc_t, inv_scale, log_norm)  # log q(z_m | x_i), (m, n, d)
        mx = dens.max(dim=1).values  # (m, d)
        dens.sub_(mx[:, None, :]).exp_()
        log_marginal = dens.sum(1).log() + mx - math.log(n)  # log q(z_j), (m, d)
        lab = sample_labels[start : start + chunk]  # (m, K)
        # mixtures over the points that share the sample's value of each factor:
        # one batched product reads the densities once for all factors
        same = (all_labels.T[None] == lab[:, :, None]).to(torch.float64)  # (m, K, n)
        group = torch.bmm(same, dens)  # (m, K, d)
        log_n_c = torch.stack([log_counts[k][lab[:, k]] for k in range(K)], 1)  # (m, K)
        log_cond = group.log() + mx[:, None, :] - log_n_c[:, :, None]
        mi_sum += (log_cond - log_marginal[:, None, :]).sum(0).T
    return (mi_sum / m_total).clamp(min=0).numpy(), idx


def mig_sampled(
    loc: np.ndarray | torch.Tensor,
    scale: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    rng: np.random.Generator,
    num_samples: int | None = None,
    exclude_factors: Sequence[int | str] | None = None,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """Sampled MIG: Chen et al. (2018), Section 4.1 and Appendix C, estimator
    generalized from the full dSprites grid to any sample of data points.

    Given ``n`` data points with posteriors :math:`q(z|x_i) = N(\\mu_i,
    \\mathrm{diag}\\,\\sigma_i^2)` and factor values :math:`v_i`, the aggregate
    posterior is the mixture :math:`\\hat q(z_j) = \\frac1n \\sum_i
    q(z_j|x_i)` and the factor-conditional one the mixture over the points
    with the same value, :math:`\\hat q(z_j | v_k = c) = \\frac{1}{n_c}
    \\sum_{i: v_{ik} = c} q(z_j|x_i)`. With a subset :math:`S` of ``M``
    points (all of them by default) and one draw :math:`z_m \\sim q(z|x_m)`
    for each :math:`m \\in S`,

    .. math::

        \\hat I(z_j; v_k) = \\frac{1}{M} \\sum_{m \\in S}
            \\Big[\\log \\hat q(z_{mj} \\mid v_k = v_{mk}) - \\log \\hat q(z_{mj})\\Big]
            = \\hat H(z_j) - \\hat H(z_j \\mid v_k),

    clipped at 0, and :math:`H(v_k)` is the plug-in entropy of the ``n``
    factor values (Chen et al. use :math:`\\log` of the grid size, which is
    the same for a uniformly sampled grid). As in Chen et al.'s
    ``estimate_entropies``, the mixtures include the point a sample was drawn
    from. Computed exactly (no further subsampling) in float64 torch, in
    chunks of samples.

    :param loc: ``(n, d)`` posterior means.
    :param scale: ``(n, d)`` posterior standard deviations (> 0).
    :param factors: ``(n, K)`` discrete factor values.
    :param rng: draws the subset and the posterior samples.
    :param num_samples: ``M``; ``None`` uses every point once.
    :param exclude_factors: factor indices or names to leave out of the mean.
    :param factor_names: names of the ``K`` factors.
    """
    loc = check_codes(loc, "loc").astype(np.float64)
    scale = check_codes(scale, "scale").astype(np.float64)
    if loc.shape != scale.shape:
        raise ValueError(f"loc {loc.shape} and scale {scale.shape} differ in shape")
    if (scale <= 0).any():
        raise ValueError("scale must be positive")
    factors = check_factors(factors, loc.shape[0])
    K = factors.shape[1]
    names = default_factor_names(K, factor_names)
    excluded = resolve_factors(exclude_factors, K, names)
    collapsed = warn_constant_codes(loc, "MIG (sampled)")
    _, constant = split_constant_factors(factors, "MIG (sampled)", names)
    mi, idx = sampled_mutual_info(loc, scale, factors, rng, num_samples)
    entropy = discrete_entropy(factors)
    out = _mig_result("sampled", mi, entropy, names, excluded, constant, collapsed)
    out.update(num_points=int(loc.shape[0]), num_samples=int(len(idx)))
    return to_builtin(out)


def compute_mig(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_points: int = 10000,
    num_bins: int = 20,
    exclude_factors: Sequence[int | str] | None = None,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """Binned MIG (:func:`mig`) of ``num_points`` i.i.d. points of ``dataset``
    encoded by ``representation_fn`` (dlib: 10000 points, 20 bins).

    :param rng: a generator or an integer seed (recorded in the result).
    """
    gen, seed = make_rng(rng)
    codes, factors = sample_codes_factors(
        representation_fn, dataset, num_points, gen, eval_batch_size
    )
    out = mig(codes, factors, num_bins, exclude_factors, dataset.factor_names or None)
    out.update(representation="mean", seed=seed)
    return out


def compute_mig_sampled(
    posterior_fn: PosteriorFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_points: int = 10000,
    num_samples: int | None = None,
    exclude_factors: Sequence[int | str] | None = None,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """Sampled MIG (:func:`mig_sampled`) of ``num_points`` i.i.d. points of
    ``dataset`` with posteriors from ``posterior_fn`` (``x -> (loc, scale)``).

    :param rng: a generator or an integer seed (recorded in the result).
    """
    gen, seed = make_rng(rng)
    loc, scale, factors = sample_posterior_factors(
        posterior_fn, dataset, num_points, gen, eval_batch_size
    )
    out = mig_sampled(
        loc, scale, factors, gen, num_samples, exclude_factors, dataset.factor_names or None
    )
    out.update(representation="sampled", seed=seed)
    return out
