r"""MIC_e and TIC_e (Reshef, Reshef, Finucane, Sabeti & Mitzenmacher 2016,
"Measuring Dependence Powerfully and Equitably", JMLR 17(212)), written
from the paper; ``minepy`` does not build on current Python/numpy.

For a sample :math:`D` of ``n`` pairs :math:`(x, y)` and grid sizes
:math:`k, \ell \ge 2`, the *equicharacteristic matrix* is (Definition 8 of
the paper)

.. math::

    [M](D)_{k,\ell} = \frac{I^{[*]}(D, k, \ell)}{\log \min(k, \ell)},

where :math:`I^{[*]}(D, k, \ell)` is the largest mutual information of
:math:`D` over :math:`k \times \ell` grids whose *larger* partition is an
equipartition (either, when :math:`k = \ell`). Then (Definitions 9 and 10)

.. math::

    \mathrm{MIC}_e(D) = \max_{k \ell \le B(n)} [M](D)_{k,\ell}, \qquad
    \mathrm{TIC}_e(D) = \sum_{k \ell \le B(n)} [M](D)_{k,\ell},
    \qquad B(n) = n^{\alpha}.

Computation (the paper's EquicharClump, Algorithm 3, built on
OptimizeXAxis of Reshef et al. 2011, SOM Algorithm 2), for each orientation
(:math:`y` equipartitioned, :math:`x` optimized, then the roles swapped):

1. Equipartition the equipartitioned axis into :math:`\ell` rows, keeping
   tied values in one row (greedy, rows as equal as the ties allow).
2. Cut the other axis into *clumps*, maximal runs of consecutive points
   (in its order) in one row; runs of tied values with several rows form
   their own clump. If there are more than :math:`\hat k = c \lfloor
   B/\ell \rfloor` clumps, merge them into :math:`\hat k` *superclumps*
   by the same equipartition (this is where the estimate is approximate).
3. A dynamic program over superclump boundaries gives, for every
   :math:`k \le \min(\ell, B/\ell)`, the partition into at most :math:`k`
   columns maximizing :math:`I = H(Q) - H(Q \mid P)`; since
   :math:`H(Q \mid P)` is a sum over columns, the best :math:`k`-column
   partition of the first :math:`t` superclumps extends a best
   :math:`(k-1)`-column one of the first :math:`s`.

As in ``minepy``, the normalization uses :math:`\log \min(k, q)` with
:math:`q` the number of rows the equipartition really has (fewer than
:math:`\ell` when there are ties, e.g. a discrete factor), and
:math:`B(n) = \max(n^\alpha, 4)`. Departure from ``minepy``: on the
diagonal :math:`k = \ell` we take the larger of the two orientations (the
definition allows both), where ``minepy`` keeps the second one it computes.

We also report :math:`\mathrm{TIC}_e` divided by the number of entries of
the matrix (``"tic_normalized"``, in :math:`[0, 1]`).
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
    check_codes,
    check_factors,
    constant_columns,
    default_factor_names,
    to_builtin,
)
from pyro_vae.metrics.sampling import (
    DEFAULT_EVAL_BATCH_SIZE,
    RepresentationFn,
    sample_codes_factors,
)
from pyro_vae.metrics.seeding import make_rng

__all__ = [
    "equicharacteristic_matrix",
    "mic_tic",
    "mic_tic_matrix",
    "mic",
    "mic_concepts",
    "compute_mic",
]


def _xlogx(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0)), 0.0)


def _equipartition(sorted_vals: np.ndarray, num_rows: int) -> tuple[np.ndarray, int]:
    """Row of each point of ``sorted_vals`` (increasing): greedy equipartition
    into at most ``num_rows`` rows that never splits tied values.

    A tie group joins the current row while that brings the row size closer
    to its target ``(points left) / (rows left)``, i.e. while
    ``size_so_far + group_size / 2 < target``; since the group midpoints
    increase, each row is one ``searchsorted``.

    :returns: ``(rows, q)``, ``q`` the number of rows used.
    """
    n = len(sorted_vals)
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    ends = np.r_[starts[1:], n]
    mids = (starts + ends) / 2.0
    rows = np.empty(n, dtype=np.int64)
    g, i, curr, G = 0, 0, 0, len(starts)
    while g < G:
        target = (n - i) / (num_rows - curr) if num_rows > curr else float(n)
        g_end = max(g + 1, int(np.searchsorted(mids, i + target, side="left")))
        stop = ends[g_end - 1]
        rows[i:stop] = curr
        i, g, curr = stop, g_end, curr + 1
    return rows, curr


def _clumps(x_sorted: np.ndarray, rows_in_x_order: np.ndarray, k_hat: int) -> np.ndarray:
    """Clump (or superclump) of each point, points in ``x`` order."""
    n = len(x_sorted)
    new_tie = np.r_[True, x_sorted[1:] != x_sorted[:-1]]
    starts = np.flatnonzero(new_tie)
    tie_id = np.cumsum(new_tie) - 1
    mixed = np.minimum.reduceat(rows_in_x_order, starts) != np.maximum.reduceat(
        rows_in_x_order, starts
    )
    label = rows_in_x_order.copy()
    mixed_pt = mixed[tie_id]
    label[mixed_pt] = -1 - tie_id[mixed_pt]  # a tie with several rows is its own clump
    clump = np.cumsum(np.r_[True, label[1:] != label[:-1]]) - 1
    if n and clump[-1] + 1 > k_hat:
        clump, _ = _equipartition(clump, k_hat)
    return clump


def _optimize_x_axis(rows: np.ndarray, q: int, clump: np.ndarray, max_cols: int) -> np.ndarray:
    """Largest MI (nats) of a partition of the clumps into at most ``k``
    columns against the fixed rows, for ``k = 2..max_cols``."""
    n = len(rows)
    p = int(clump[-1]) + 1
    if p == 1 or q == 1 or max_cols < 2:
        return np.zeros(max(0, max_cols - 1))
    counts = np.bincount(rows * p + clump, minlength=q * p).reshape(q, p).astype(np.float64)
    cum = np.concatenate([np.zeros((q, 1)), np.cumsum(counts, axis=1)], axis=1)  # (q, p+1)
    tot = cum.sum(0)
    hq = -float(np.sum(_xlogx(counts.sum(1) / n)))
    last = min(max_cols, p)
    if last == 2:
        # only the two-column partitions of all p clumps are needed
        w0 = _xlogx(cum[:, 1 : p + 1]).sum(0) - _xlogx(tot[1 : p + 1])  # W[0, s]
        rest = cum[:, p : p + 1] - cum[:, 1 : p + 1]
        w1 = _xlogx(rest).sum(0) - _xlogx(tot[p] - tot[1 : p + 1])  # W[s, p]
        best = [float(np.max(w0 + w1))]
    else:
        # W[s, t] = -(c_t - c_s) H(Q | clumps s+1..t) = sum_r xlogx(n_r) - xlogx(sum_r n_r)
        W = -_xlogx(tot[None, :] - tot[:, None])
        for r in range(q):
            W += _xlogx(cum[r][None, :] - cum[r][:, None])
        W[np.tril_indices(p + 1, -1)] = -np.inf
        G = W[0].copy()  # one column over the first t clumps
        G[0] = -np.inf
        best = []
        for ell in range(2, last + 1):
            prev = G.copy()
            prev[: ell - 1] = -np.inf  # s >= ell - 1
            G = np.max(prev[:, None] + W, axis=0)
            G[:ell] = -np.inf
            best.append(float(G[p]))
    mi = hq + np.asarray(best) / n
    if max_cols > last:
        mi = np.r_[mi, np.full(max_cols - last, mi[-1])]
    return np.clip(mi, 0.0, None)


def _one_orientation(
    eq_vals: np.ndarray, opt_vals: np.ndarray, B: float, c: float
) -> dict[tuple[int, int], float]:
    """Scores with ``eq_vals`` equipartitioned into ``ell`` rows and
    ``opt_vals`` optimized into ``k <= ell`` columns: ``{(ell, k): score}``."""
    n = len(eq_vals)
    eq_order = np.argsort(eq_vals, kind="stable")
    opt_order = np.argsort(opt_vals, kind="stable")
    eq_sorted = eq_vals[eq_order]
    opt_sorted = opt_vals[opt_order]
    out = {}
    for ell in range(2, int(B // 2) + 1):
        max_cols = min(ell, int(B // ell))
        if max_cols < 2:
            continue
        k_hat = max(int(c * int(B // ell)), 1)
        rows_eq, q = _equipartition(eq_sorted, ell)
        rows = np.empty(n, dtype=np.int64)
        rows[eq_order] = rows_eq
        rows_opt = rows[opt_order]
        clump = _clumps(opt_sorted, rows_opt, k_hat)
        mi = _optimize_x_axis(rows_opt, q, clump, max_cols)
        for k in range(2, max_cols + 1):
            denom = min(math.log(k), math.log(q)) if q > 1 else 0.0
            out[(ell, k)] = float(min(1.0, mi[k - 2] / denom)) if denom > 0 else 0.0
    return out


def equicharacteristic_matrix(
    x: np.ndarray, y: np.ndarray, alpha: float = 0.6, c: float = 15.0
) -> np.ndarray:
    """The equicharacteristic matrix ``[M](D)`` of ``(x, y)``.

    :returns: array ``M`` of shape ``(kmax + 1, kmax + 1)`` with ``M[kx, ky]``
        the entry for ``kx`` columns (x) and ``ky`` rows (y) where
        ``kx, ky >= 2`` and ``kx * ky <= B(n)``, NaN elsewhere.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if c <= 0:
        raise ValueError(f"c must be > 0, got {c}")
    n = len(x)
    B = max(n**alpha, 4.0)
    kmax = int(B // 2)
    M = np.full((kmax + 1, kmax + 1), np.nan)
    y_eq = _one_orientation(y, x, B, c)  # (rows of y, columns of x)
    x_eq = _one_orientation(x, y, B, c)  # (columns of x, rows of y)
    for (ky, kx), v in y_eq.items():
        M[kx, ky] = v
    for (kx, ky), v in x_eq.items():
        M[kx, ky] = v if np.isnan(M[kx, ky]) else max(M[kx, ky], v)
    return M


def mic_tic(
    x: np.ndarray, y: np.ndarray, alpha: float = 0.6, c: float = 15.0
) -> tuple[float, float, float]:
    """``(MIC_e, TIC_e, TIC_e / number of entries)`` of one pair of variables.

    Example::

        >>> import numpy as np
        >>> from pyro_vae.metrics.mic import mic_tic
        >>> rng = np.random.default_rng(0)
        >>> x = rng.uniform(-1.0, 1.0, 200)
        >>> mic_tic(x, x**3)[0]  # a noiseless monotone relation
        1.0
        >>> mic_tic(x, rng.uniform(size=200))[0] < 0.2  # independent
        True
    """
    M = equicharacteristic_matrix(x, y, alpha, c)
    vals = M[~np.isnan(M)]
    if vals.size == 0:
        return 0.0, 0.0, 0.0
    return float(vals.max()), float(vals.sum()), float(vals.mean())


def mic_tic_matrix(
    codes: np.ndarray, factors: np.ndarray, alpha: float = 0.6, c: float = 15.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MIC_e, TIC_e and normalized TIC_e of every (code, factor) pair, ``(d, K)`` each.

    A constant variable gets 0 (no grid has mutual information).
    """
    d, K = codes.shape[1], factors.shape[1]
    out = np.zeros((3, d, K))
    for j in range(d):
        for k in range(K):
            out[:, j, k] = mic_tic(codes[:, j], factors[:, k], alpha, c)
    return out[0], out[1], out[2]


def _warn_constant(codes: np.ndarray, factors: np.ndarray, names: list[str], metric: str):
    const_c = constant_columns(codes).tolist()
    const_f = constant_columns(factors).tolist()
    if const_c:
        warnings.warn(
            f"{metric}: latent dimension(s) {const_c} are constant (collapsed latents); "
            "their MIC/TIC are 0",
            MetricWarning,
            stacklevel=3,
        )
    if const_f:
        warnings.warn(
            f"{metric}: factor(s) {[names[k] for k in const_f]} are constant; their MIC/TIC are 0",
            MetricWarning,
            stacklevel=3,
        )
    return const_c, [names[k] for k in const_f]


def mic(
    codes: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    alpha: float = 0.6,
    c: float = 15.0,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """MIC_e and TIC_e (Reshef et al. 2016) of every (code, factor) pair.

    :param codes: ``(n, d)`` codes.
    :param factors: ``(n, K)`` factor values (discrete or continuous).
    :param float alpha: :math:`B(n) = n^\\alpha` (paper and minepy: 0.6).
    :param float c: superclumps per column, :math:`\\hat k = c B/\\ell`
        (minepy: 15).
    :returns: ``{"mic_matrix", "tic_matrix", "tic_normalized_matrix"
        (each d x K), "estimator": "MIC_e/TIC_e", "alpha", "c",
        "num_points", ...}``; aggregate with :func:`mic_concepts`.
    """
    codes = check_codes(codes).astype(np.float64)
    factors = check_factors(factors, codes.shape[0]).astype(np.float64)
    names = default_factor_names(factors.shape[1], factor_names)
    collapsed, const_f = _warn_constant(codes, factors, names, "MIC")
    m, t, tn = mic_tic_matrix(codes, factors, alpha, c)
    return to_builtin(
        {
            "estimator": "MIC_e/TIC_e",
            "alpha": float(alpha),
            "c": float(c),
            "num_points": int(codes.shape[0]),
            "factor_names": names,
            "constant_factors": const_f,
            "collapsed_latents": collapsed,
            "mic_matrix": m,
            "tic_matrix": t,
            "tic_normalized_matrix": tn,
        }
    )


def default_blocks(num_codes: int, num_concepts: int) -> list[list[int]]:
    """Contiguous equal blocks of code dimensions, one per concept (CausalVAE
    lays its latent out as ``num_concepts`` blocks of ``d / num_concepts``)."""
    if num_codes % num_concepts:
        raise ValueError(
            f"{num_codes} code dimensions do not split into {num_concepts} equal blocks; "
            "pass blocks explicitly"
        )
    size = num_codes // num_concepts
    return [list(range(k * size, (k + 1) * size)) for k in range(num_concepts)]


def mic_concepts(
    codes: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    blocks: Sequence[Sequence[int]] | None = None,
    reduce: str = "mean",
    alpha: float = 0.6,
    c: float = 15.0,
    factor_names: Sequence[str] | None = None,
) -> dict:
    """Concept-wise MIC/TIC as reported in CausalVAE's tables (Yang et al.
    2021, "CausalVAE: Disentangled Representation Learning via Neural
    Structural Causal Models", CVPR, Section 5).

    Concept ``k`` (factor column ``k``) owns the code dimensions
    ``blocks[k]`` (default: contiguous equal blocks). For each concept we
    compute MIC_e and TIC_e of every dimension of its block with the
    concept's label and reduce over the block with ``reduce``: ``"mean"``
    (mean over the block's dimensions, the default) or ``"max"`` (the best
    dimension; for MIC and TIC separately). The reported ``"mic"`` / ``"tic"``
    are the means over concepts of the reduced values; ``"tic"`` uses the
    normalized TIC_e (in [0, 1], comparable with CausalVAE's tables), with
    the raw sums under ``"tic_total_per_concept"``.

    :param blocks: code dimensions of each concept, one list per factor column.
    :param str reduce: ``"mean"`` or ``"max"`` over a block.
    """
    if reduce not in ("mean", "max"):
        raise ValueError(f"reduce must be 'mean' or 'max', got {reduce!r}")
    codes = check_codes(codes).astype(np.float64)
    factors = check_factors(factors, codes.shape[0]).astype(np.float64)
    K = factors.shape[1]
    names = default_factor_names(K, factor_names)
    blocks = default_blocks(codes.shape[1], K) if blocks is None else [list(b) for b in blocks]
    if len(blocks) != K:
        raise ValueError(f"{len(blocks)} blocks for {K} concepts")
    collapsed, const_f = _warn_constant(codes, factors, names, "MIC (concepts)")
    red = np.mean if reduce == "mean" else np.max
    per_mic, per_tic, per_tic_total = [], [], []
    for k, block in enumerate(blocks):
        vals = np.array([mic_tic(codes[:, j], factors[:, k], alpha, c) for j in block])
        per_mic.append(float(red(vals[:, 0])))
        per_tic_total.append(float(red(vals[:, 1])))
        per_tic.append(float(red(vals[:, 2])))
    return to_builtin(
        {
            "mic": float(np.mean(per_mic)),
            "tic": float(np.mean(per_tic)),
            "estimator": "MIC_e/TIC_e",
            "aggregation": f"{reduce} over block dims, mean over concepts",
            "blocks": blocks,
            "alpha": float(alpha),
            "c": float(c),
            "num_points": int(codes.shape[0]),
            "factor_names": names,
            "constant_factors": const_f,
            "collapsed_latents": collapsed,
            "mic_per_concept": dict(zip(names, per_mic, strict=True)),
            "tic_per_concept": dict(zip(names, per_tic, strict=True)),
            "tic_total_per_concept": dict(zip(names, per_tic_total, strict=True)),
        }
    )


def compute_mic(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng: np.random.Generator | int = 0,
    num_points: int = 10000,
    blocks: Sequence[Sequence[int]] | str | None = None,
    reduce: str = "mean",
    alpha: float = 0.6,
    c: float = 15.0,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict:
    """MIC_e/TIC_e on ``num_points`` i.i.d. points of ``dataset``.

    * ``blocks=None`` (default): :func:`mic` of every (code, factor) pair;
      ``"mic"`` and ``"tic"`` (normalized) are the means over factors of the
      best code dimension's value.
    * ``blocks`` given (a list per factor, or ``"contiguous"`` for equal
      contiguous blocks): the CausalVAE aggregation :func:`mic_concepts`
      with ``reduce``.

    The result names the choice under ``"aggregation"``.
    """
    gen, seed = make_rng(rng)
    codes, factors = sample_codes_factors(
        representation_fn, dataset, num_points, gen, eval_batch_size
    )
    names = list(dataset.factor_names) or None
    if blocks is None:
        out = mic(codes, factors, alpha, c, names)
        out["mic"] = float(np.mean(np.max(out["mic_matrix"], axis=0)))
        out["tic"] = float(np.mean(np.max(out["tic_normalized_matrix"], axis=0)))
        out["aggregation"] = "best dim per factor, mean over factors"
    else:
        if isinstance(blocks, str):
            if blocks != "contiguous":
                raise ValueError(f"blocks must be a list or 'contiguous', got {blocks!r}")
            blocks = None
        out = mic_concepts(codes, factors, blocks, reduce, alpha, c, names)
    out.update(representation="mean", seed=seed)
    return out
