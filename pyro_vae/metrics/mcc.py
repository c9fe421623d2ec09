r"""Mean correlation coefficient (MCC) of the identifiable-VAE literature
(Hyvärinen & Morioka 2016, TCL; Khemakhem et al. 2020, iVAE, Section 6;
Lachapelle et al. 2022, sparse VAEs).

With :math:`\rho_{jk}` the correlation of code :math:`z_j` with the true
source :math:`s_k` over ``n`` points, MCC is the mean absolute correlation
of the best one-to-one matching of codes to sources,

.. math::

    \mathrm{MCC} = \max_{\pi} \frac{1}{m} \sum_{(j, k) \in \pi} |\rho_{jk}|,

found with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``)
on :math:`|\rho|`; :math:`m = \min(d, K)` pairs when the numbers differ.
Pearson correlation measures identifiability up to affine maps, Spearman
(Pearson of the ranks) up to monotone maps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import (
    check_codes_factors,
    to_builtin,
)
from pyro_vae.metrics.sampling import (
    DEFAULT_EVAL_BATCH_SIZE,
    RepresentationFn,
    sample_codes_factors,
)
from pyro_vae.metrics.seeding import make_rng

__all__ = ["correlation_matrix", "mcc", "compute_mcc", "CORRELATIONS"]

CORRELATIONS = ("pearson", "spearman")


def correlation_matrix(
    codes: np.ndarray, sources: np.ndarray, correlation: str = "pearson"
) -> np.ndarray:
    """Correlations ``(d, K)`` of every code with every source, vectorized.

    A constant column has correlation 0 with everything (instead of NaN).
    """
    if correlation not in CORRELATIONS:
        raise ValueError(f"unknown correlation {correlation!r}; choose from {CORRELATIONS}")
    a = np.asarray(codes, dtype=np.float64)
    b = np.asarray(sources, dtype=np.float64)
    if correlation == "spearman":
        a, b = rankdata(a, axis=0), rankdata(b, axis=0)
    a = a - a.mean(0)
    b = b - b.mean(0)
    na, nb = np.sqrt((a**2).sum(0)), np.sqrt((b**2).sum(0))
    na, nb = np.where(na > 0, na, np.inf), np.where(nb > 0, nb, np.inf)
    return np.clip((a / na).T @ (b / nb), -1.0, 1.0)


def mcc(
    codes: np.ndarray | torch.Tensor,
    sources: np.ndarray | torch.Tensor,
    correlation: str = "pearson",
    factor_names: Sequence[str] | None = None,
) -> dict:
    """MCC of codes ``(n, d)`` against true sources ``(n, K)``.

    Constant codes correlate 0 with every source and constant sources are
    left out of the matching, both with a warning.

    Example::

        >>> import numpy as np
        >>> from pyro_vae.metrics import mcc
        >>> sources = np.random.default_rng(0).normal(size=(100, 3))
        >>> codes = 1.0 - 2.0 * sources[:, [2, 0, 1]]  # permuted, sign-flipped, rescaled
        >>> result = mcc(codes, sources)
        >>> round(result["mcc"], 6)
        1.0
        >>> result["matching"]  # [code, source]: code 1 is source 0, ...
        [[1, 0], [2, 1], [0, 2]]
        >>> [round(c, 6) for c in result["matched_correlations"]]
        [-1.0, -1.0, -1.0]
        >>> round(mcc(np.exp(codes), sources, correlation="spearman")["mcc"], 6)  # monotone
        1.0

    :param str correlation: ``"pearson"`` or ``"spearman"``.
    :returns: ``{"mcc", "correlation", "matching": [[code, source], ...],
        "matched_correlations" (signed), "correlation_matrix", ...}``; source
        indices refer to the columns of ``sources``.
    """
    codes, sources, names, collapsed, kept, constant = check_codes_factors(
        codes, sources, "MCC", factor_names
    )
    corr = correlation_matrix(codes, sources[:, kept], correlation)
    rows, cols = linear_sum_assignment(np.abs(corr), maximize=True)
    matched = corr[rows, cols]
    order = np.argsort(cols)
    return to_builtin(
        {
            "mcc": float(np.mean(np.abs(matched))) if len(matched) else 0.0,
            "correlation": correlation,
            "estimator": "hungarian",
            "num_points": int(codes.shape[0]),
            "matching": [[int(rows[i]), int(kept[cols[i]])] for i in order],
            "matched_correlations": [float(matched[i]) for i in order],
            "factor_names": [names[k] for k in kept],
            "constant_factors": [names[k] for k in constant],
            "collapsed_latents": collapsed,
            "correlation_matrix": corr,
        }
    )


def compute_mcc(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_points: int = 10000,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """MCC of ``num_points`` i.i.d. points of ``dataset`` against their factor
    values (the dataset's sources), Pearson under ``"mcc"`` and Spearman
    under ``"mcc_spearman"`` (with its own ``"matching_spearman"``)."""
    gen, seed = make_rng(rng)
    codes, factors = sample_codes_factors(
        representation_fn, dataset, num_points, gen, eval_batch_size
    )
    names = list(dataset.factor_names) or None
    out = mcc(codes, factors, "pearson", names)
    spear = mcc(codes, factors, "spearman", names)
    out.update(
        mcc_spearman=spear["mcc"],
        matching_spearman=spear["matching"],
        matched_correlations_spearman=spear["matched_correlations"],
        representation="mean",
        seed=seed,
    )
    return out
