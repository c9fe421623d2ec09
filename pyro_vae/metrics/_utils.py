"""Shared array helpers of the metrics: input checks, label encoding,
histogram discretization and the vectorized discrete mutual information.

Everything here works on plain arrays: ``codes`` of shape ``(n, d)`` and
``factors`` of shape ``(n, K)`` (rows are data points, as everywhere in
:mod:`pyro_vae.metrics`; disentanglement_lib stores them transposed).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch


class MetricWarning(UserWarning):
    """A metric met degenerate input (collapsed latents, constant factors, ...)."""


def as_numpy(x: torch.Tensor | np.ndarray | Sequence) -> np.ndarray:
    """Convert a tensor (any device) or array-like to a numpy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_codes(codes: np.ndarray | torch.Tensor, name: str = "codes") -> np.ndarray:
    """``codes`` as a 2-D floating array ``(n, d)``; float32/float64 are kept."""
    codes = as_numpy(codes)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got {codes.shape}")
    if not np.issubdtype(codes.dtype, np.floating):
        codes = codes.astype(np.float64)
    if not np.isfinite(codes).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    return codes


def check_factors(factors: np.ndarray | torch.Tensor, n: int | None = None) -> np.ndarray:
    """``factors`` as a 2-D array ``(n, K)`` with ``n`` rows if given."""
    factors = as_numpy(factors)
    if factors.ndim == 1:
        factors = factors[:, None]
    if factors.ndim != 2:
        raise ValueError(f"factors must have shape (n, K), got {factors.shape}")
    if n is not None and factors.shape[0] != n:
        raise ValueError(f"codes have {n} rows but factors have {factors.shape[0]}")
    return factors


def encode_labels(factors: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Each column's values as labels ``0..C_k-1`` (sorted order of the values).

    :returns: ``(labels, sizes)``: an int64 array like ``factors`` and the
        number of distinct values ``C_k`` of each column.
    """
    labels = np.empty(factors.shape, dtype=np.int64)
    sizes = []
    n = factors.shape[0]
    for k in range(factors.shape[1]):
        col = factors[:, k]
        if n and np.issubdtype(col.dtype, np.integer) and col.min() >= 0 and col.max() < 4 * n:
            # small non-negative integers: an O(n) lookup table instead of a sort
            present = np.bincount(col) > 0
            labels[:, k] = (np.cumsum(present) - 1)[col]
        else:
            _, labels[:, k] = np.unique(col, return_inverse=True)
        sizes.append(int(labels[:, k].max()) + 1 if n else 0)
    return labels, sizes


def constant_columns(x: np.ndarray) -> np.ndarray:
    """Indices of the columns of ``x`` that take a single value."""
    if len(x) == 0:
        return np.arange(x.shape[1])
    return np.flatnonzero((x == x[:1]).all(axis=0))


def warn_constant_codes(codes: np.ndarray, metric: str, stacklevel: int = 3) -> list[int]:
    """Warn about collapsed (constant) latent dimensions; returns their indices."""
    const = constant_columns(codes).tolist()
    if const:
        warnings.warn(
            f"{metric}: latent dimension(s) {const} are constant (collapsed latents); "
            "they carry no information and score as such",
            MetricWarning,
            stacklevel=stacklevel,
        )
    return const


def split_constant_factors(
    factors: np.ndarray,
    metric: str,
    factor_names: Sequence[str] | None = None,
    stacklevel: int = 3,
) -> tuple[list[int], list[int]]:
    """Split factor columns into ``(kept, constant)`` index lists, warning about
    constant ones, which every metric leaves out of its averages."""
    const = constant_columns(factors).tolist()
    kept = [k for k in range(factors.shape[1]) if k not in const]
    if const:
        named = [factor_names[k] for k in const] if factor_names is not None else const
        warnings.warn(
            f"{metric}: factor(s) {named} are constant in the sample; they carry no "
            "information and are left out of the score",
            MetricWarning,
            stacklevel=stacklevel,
        )
    return kept, const


def check_codes_factors(
    codes: np.ndarray | torch.Tensor,
    factors: np.ndarray | torch.Tensor,
    metric: str,
    factor_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[int], list[int], list[int]]:
    """The checks a score of ``codes`` against ``factors`` starts with: both as 2-D arrays
    with the same rows (:func:`check_codes`, :func:`check_factors`), the factor names, and a
    warning for constant codes and for constant factors (warnings point at the metric's
    caller).

    :returns: ``(codes, factors, names, collapsed, kept, constant)``: the indices of the
        constant codes, of the factors kept and of the constant factors.
    """
    codes = check_codes(codes)
    factors = check_factors(factors, codes.shape[0])
    names = default_factor_names(factors.shape[1], factor_names)
    collapsed = warn_constant_codes(codes, metric, stacklevel=4)
    kept, constant = split_constant_factors(factors, metric, names, stacklevel=4)
    return codes, factors, names, collapsed, kept, constant


def warn_single_valued_factors(
    factor_names: Sequence[str], factor_sizes: Sequence[int], metric: str
):
    """Warn about dataset factors with a single value (they can never vary)."""
    single = [name for name, size in zip(factor_names, factor_sizes, strict=False) if size <= 1]
    if single:
        warnings.warn(
            f"{metric}: factor(s) {single} take a single value in the dataset; fixing them "
            "changes nothing, so their votes cannot be classified",
            MetricWarning,
            stacklevel=3,
        )
    return single


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Bin each code dimension into ``num_bins`` equal-width bins.

    The same bins as disentanglement_lib's ``histogram_discretize``: per
    dimension, the edges of ``np.histogram(codes[:, j], num_bins)`` (equal
    width between the minimum and maximum, or ``min - 0.5 .. max + 0.5`` for
    a constant dimension), and ``np.digitize`` against all but the last edge,
    so labels run ``1..num_bins`` and the maximum falls in the last bin.
    Edges are computed in the codes' floating dtype, as ``np.histogram`` does.

    :param codes: ``(n, d)`` array.
    :param num_bins: number of bins per dimension.
    :returns: ``(n, d)`` int64 bin labels in ``1..num_bins``.
    """
    codes = check_codes(codes)
    lo = codes.min(axis=0)
    hi = codes.max(axis=0)
    const = lo == hi
    lo = np.where(const, lo - 0.5, lo)
    hi = np.where(const, hi + 0.5, hi)
    # np.linspace with array endpoints does the same arithmetic per column as
    # np.histogram's scalar call, so the edges are bitwise identical.
    edges = np.linspace(lo, hi, num_bins + 1, dtype=codes.dtype)  # (num_bins + 1, d)
    labels = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        labels[:, j] = np.searchsorted(edges[:-1, j], codes[:, j], side="right")
    return labels


def _xlogx(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    pos = x > 0
    out[pos] = x[pos] * np.log(x[pos])
    return out


def contingency_tables(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Joint counts of every column of ``a`` with one label vector ``b``.

    :param a: ``(n, d)`` labels in ``0..A-1``.
    :param b: ``(n,)`` labels in ``0..B-1``.
    :returns: ``(d, A, B)`` int64 counts, from one ``np.bincount``.
    """
    n, d = a.shape
    A = int(a.max()) + 1 if a.size else 1
    B = int(b.max()) + 1 if b.size else 1
    flat = (np.arange(d)[None, :] * A + a) * B + b[:, None]
    return np.bincount(flat.ravel(), minlength=d * A * B).reshape(d, A, B)


def mutual_info_from_counts(counts: np.ndarray) -> np.ndarray:
    """Mutual information (nats) of contingency tables ``(..., A, B)``.

    Same conventions as ``sklearn.metrics.mutual_info_score``: plug-in
    estimate, ``0 log 0 = 0``, clipped at 0, and exactly 0 when either
    variable takes a single value.
    """
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum(axis=(-2, -1))
    rows = counts.sum(axis=-1)
    cols = counts.sum(axis=-2)
    # I = [sum n_ab log n_ab - sum n_a log n_a - sum n_b log n_b + n log n] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        mi = (
            _xlogx(counts).sum(axis=(-2, -1))
            - _xlogx(rows).sum(axis=-1)
            - _xlogx(cols).sum(axis=-1)
            + _xlogx(n)
        ) / np.where(n > 0, n, 1.0)
    single = ((rows > 0).sum(axis=-1) <= 1) | ((cols > 0).sum(axis=-1) <= 1)
    mi = np.where(single, 0.0, mi)
    return np.clip(mi, 0.0, None)


def discrete_mutual_info(codes_labels: np.ndarray, factor_labels: np.ndarray) -> np.ndarray:
    """Mutual information matrix ``(d, K)`` (nats) of all code/factor pairs.

    Equals ``sklearn.metrics.mutual_info_score(factor_labels[:, k],
    codes_labels[:, j])`` for every pair (up to float rounding), computed
    with one bincount per factor instead of ``d * K`` calls.

    :param codes_labels: ``(n, d)`` non-negative integer labels (e.g. from
        :func:`histogram_discretize`).
    :param factor_labels: ``(n, K)`` integer labels (any values; they are
        re-encoded with :func:`encode_labels`).
    """
    a = np.asarray(codes_labels)
    n = a.shape[0]
    if not (np.issubdtype(a.dtype, np.integer) and n and a.min() >= 0 and a.max() < 4 * n):
        a, _ = encode_labels(a)  # bin labels are used as they are; empty bins add nothing
    a = np.ascontiguousarray(a)
    b, _ = encode_labels(np.asarray(factor_labels))
    out = np.empty((a.shape[1], b.shape[1]))
    for k in range(b.shape[1]):
        out[:, k] = mutual_info_from_counts(contingency_tables(a, b[:, k]))
    return out


def discrete_entropy(labels: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of each column of ``labels`` ``(n, K)``."""
    labels, sizes = encode_labels(check_factors(labels))
    out = np.empty(labels.shape[1])
    n = labels.shape[0]
    for k in range(labels.shape[1]):
        p = np.bincount(labels[:, k], minlength=sizes[k]) / n
        p = p[p > 0]
        out[k] = float(-(p * np.log(p)).sum())
    return np.clip(out, 0.0, None)


def resolve_factors(
    exclude: Sequence[int | str] | None, num_factors: int, factor_names: Sequence[str] | None
) -> list[int]:
    """Indices of the factors to exclude, given as indices or names."""
    if not exclude:
        return []
    out = []
    for f in exclude:
        if isinstance(f, str):
            if factor_names is None or f not in factor_names:
                raise ValueError(f"unknown factor {f!r}; factor names are {factor_names}")
            out.append(list(factor_names).index(f))
        else:
            if not 0 <= int(f) < num_factors:
                raise ValueError(f"factor index {f} out of range for {num_factors} factors")
            out.append(int(f))
    return sorted(set(out))


def default_factor_names(num_factors: int, factor_names: Sequence[str] | None) -> list[str]:
    if factor_names is None:
        return [f"factor_{k}" for k in range(num_factors)]
    if len(factor_names) != num_factors:
        raise ValueError(f"{len(factor_names)} factor names for {num_factors} factors")
    return list(factor_names)


def to_builtin(x):
    """Recursively convert numpy scalars/arrays in ``x`` to plain Python."""
    if isinstance(x, dict):
        return {str(k): to_builtin(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_builtin(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_builtin(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x
