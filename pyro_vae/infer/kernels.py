r"""Positive-definite kernels on latent codes and the unbiased MMD^2 estimator.

Gretton et al. 2012, *A Kernel Two-Sample Test*, Lemma 6: for samples
:math:`x_1..x_n \sim P` and :math:`y_1..y_m \sim Q`,

.. math::

    \widehat{\mathrm{MMD}}^2_u = \frac{1}{n(n-1)} \sum_{i \ne i'} k(x_i, x_{i'})
        + \frac{1}{m(m-1)} \sum_{j \ne j'} k(y_j, y_{j'})
        - \frac{2}{nm} \sum_{i, j} k(x_i, y_j)

is unbiased for :math:`\mathrm{MMD}^2(P, Q)`; being unbiased, it is
negative about half the time when P = Q.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

KERNELS = ("rbf", "imq")


def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``out[..., i, j] = ||x_i - y_j||^2`` for ``x`` ``(..., n, D)`` and ``y`` ``(..., m, D)``."""
    return (x.unsqueeze(-2) - y.unsqueeze(-3)).pow(2).sum(-1)


def rbf_kernel(x: torch.Tensor, y: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """Gaussian kernel ``exp(-||x - y||^2 / bandwidth)``, an ``(..., n, m)`` matrix."""
    return torch.exp(-squared_distances(x, y) / bandwidth)


def imq_kernel(x: torch.Tensor, y: torch.Tensor, scale: float) -> torch.Tensor:
    """Inverse multiquadratic kernel ``C / (C + ||x - y||^2)`` (Tolstikhin et al.
    2018, WAE), an ``(..., n, m)`` matrix."""
    return scale / (scale + squared_distances(x, y))


def default_bandwidth(dim: int, prior_variance: float = 1.0) -> float:
    """``2 * D * sigma^2``, with sigma^2 the prior's per-dimension variance: the
    IMQ constant C of the WAE paper (Tolstikhin et al. 2018, section 4), also
    used as the RBF bandwidth by common MMD-VAE implementations."""
    return 2.0 * dim * prior_variance


def make_kernel(
    kind: str, bandwidth: float
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``kind`` ``"rbf"`` or ``"imq"`` with its bandwidth / constant."""
    if not bandwidth > 0:
        raise ValueError(f"the kernel bandwidth must be > 0, got {bandwidth}")
    if kind == "rbf":
        return lambda x, y: rbf_kernel(x, y, bandwidth)
    if kind == "imq":
        return lambda x, y: imq_kernel(x, y, bandwidth)
    raise ValueError(f"kernel must be one of {KERNELS}, got {kind!r}")


def _off_diagonal_mean(k: torch.Tensor) -> torch.Tensor:
    n = k.shape[-1]
    total = k.sum((-2, -1)) - torch.diagonal(k, dim1=-2, dim2=-1).sum(-1)
    return total / (n * (n - 1))


def mmd_unbiased(
    x: torch.Tensor,
    y: torch.Tensor,
    kernel: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """The unbiased estimator of MMD^2 between the samples ``x`` ``(n, D)`` and
    ``y`` ``(m, D)`` (Gretton et al. 2012, Lemma 6); may be slightly negative.
    Leading batch dimensions ``(..., n, D)`` give one estimate each.

    :raises ValueError: fewer than 2 samples on a side, or mismatched dimensions.
    """
    if x.dim() < 2 or y.dim() < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"mmd_unbiased expects (n, D) and (m, D) samples, got {tuple(x.shape)} and "
            f"{tuple(y.shape)}"
        )
    if x.shape[-2] < 2 or y.shape[-2] < 2:
        raise ValueError("the unbiased MMD estimator needs at least 2 samples on each side")
    return (
        _off_diagonal_mean(kernel(x, x))
        + _off_diagonal_mean(kernel(y, y))
        - 2.0 * kernel(x, y).mean((-2, -1))
    )
