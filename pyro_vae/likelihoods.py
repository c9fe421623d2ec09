"""Observation models p(x | z) as Pyro distributions.

A likelihood turns the decoder's output into a distribution over one batch
of observations, with every observation dimension in the event shape, and
knows which data it can score.  This module is the one place that knows the
data range rules:

==================  ==================================  ==================
likelihood          decoder output                      valid data
==================  ==================================  ==================
:class:`Bernoulli`  logits                              values in [0, 1]
:class:`Gaussian`   location (scale fixed or learned)   any finite value
:class:`Laplace`    location (scale fixed or learned)   any finite value
:class:`Poisson`    log-rate                            counts (integers >= 0)
==================  ==================================  ==================

:class:`Bernoulli` scores grey values in [0, 1] with the binary cross-entropy
``x log p + (1 - x) log(1 - p)``, as disentanglement_lib does for dSprites and
3dshapes; for values strictly inside (0, 1) this is not a normalised density
(the continuous Bernoulli is), which is the convention the published numbers
use.
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
from torch import nn


class Likelihood(nn.Module):
    """Base class: ``likelihood(params, event_dim)`` returns a distribution."""

    #: the name used by the CLI and in error messages
    name = "likelihood"

    def forward(self, params: torch.Tensor, event_dim: int) -> dist.TorchDistribution:
        raise NotImplementedError

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The expected observation under the distribution built from ``params``."""
        raise NotImplementedError

    def validate(self, x: torch.Tensor) -> None:
        """Raise :class:`ValueError` when ``x`` is not data this likelihood can score."""
        if x.numel() == 0:
            raise ValueError(
                f"the data batch is empty (shape {tuple(x.shape)}); pass at least one example"
            )
        if not torch.isfinite(x).all():
            bad = (~torch.isfinite(x)).sum().item()
            raise ValueError(
                f"the data contain {bad} non-finite values (NaN or inf); "
                "clean or impute them before training"
            )


class Bernoulli(Likelihood):
    """Bernoulli on logits, for binary or [0, 1]-valued images.

    Example::

        >>> import torch
        >>> from pyro_vae.likelihoods import Bernoulli
        >>> likelihood = Bernoulli()
        >>> d = likelihood(torch.zeros(2, 3), event_dim=1)  # logits 0: probability 1/2
        >>> d.event_shape, d.log_prob(torch.ones(2, 3))  # 3 * log(1/2) per example
        (torch.Size([3]), tensor([-2.0794, -2.0794]))
        >>> likelihood.validate(torch.tensor([0.0, 0.5, 1.0]))  # grey values are fine
        >>> likelihood.validate(torch.tensor([0.0, 255.0]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: the Bernoulli likelihood needs data in [0, 1], but the data range is [0, 255]...
    """

    name = "bernoulli"

    def forward(self, params: torch.Tensor, event_dim: int) -> dist.TorchDistribution:
        # validate_args=False: grey values in (0, 1) are allowed (see module docs).
        return dist.Bernoulli(logits=params, validate_args=False).to_event(event_dim)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)

    def validate(self, x: torch.Tensor) -> None:
        super().validate(x)
        lo, hi = x.min().item(), x.max().item()
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"the Bernoulli likelihood needs data in [0, 1], but the data range is "
                f"[{lo:.4g}, {hi:.4g}]; rescale the data to [0, 1] or use the 'gaussian' "
                "or 'laplace' likelihood for real-valued data"
            )


class _LocationScale(Likelihood):
    """Shared code of the Gaussian and Laplace likelihoods."""

    def __init__(self, scale: float | str = 1.0) -> None:
        super().__init__()
        if scale == "learned":
            self.log_scale = nn.Parameter(torch.zeros(()))
            self.fixed_scale = None
        elif isinstance(scale, int | float) and scale > 0 and math.isfinite(scale):
            self.log_scale = None
            self.fixed_scale = float(scale)
        else:
            raise ValueError(
                f"{self.name} scale must be a positive number or 'learned', got {scale!r}"
            )

    def scale(self) -> torch.Tensor | float:
        return self.fixed_scale if self.log_scale is None else self.log_scale.exp()

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params


class Gaussian(_LocationScale):
    """Gaussian with the decoder output as mean and a fixed or learned scalar scale.

    :param scale: a positive float, or ``"learned"`` for one learned scale.
    """

    name = "gaussian"

    def forward(self, params: torch.Tensor, event_dim: int) -> dist.TorchDistribution:
        return dist.Normal(params, self.scale()).to_event(event_dim)


class Laplace(_LocationScale):
    """Laplace with the decoder output as location and a fixed or learned scale.

    :param scale: a positive float, or ``"learned"`` for one learned scale.
    """

    name = "laplace"

    def forward(self, params: torch.Tensor, event_dim: int) -> dist.TorchDistribution:
        return dist.Laplace(params, self.scale()).to_event(event_dim)


class Poisson(Likelihood):
    """Poisson on the log-rate, for count data (e.g. gene expression counts)."""

    name = "poisson"

    def forward(self, params: torch.Tensor, event_dim: int) -> dist.TorchDistribution:
        return dist.Poisson(params.exp()).to_event(event_dim)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params.exp()

    def validate(self, x: torch.Tensor) -> None:
        super().validate(x)
        if (x < 0).any() or (x != x.round()).any():
            raise ValueError(
                "the Poisson likelihood needs counts (integers >= 0), but the data contain "
                "negative or fractional values; use the 'gaussian' likelihood for real values"
            )


LIKELIHOODS: dict[str, type[Likelihood]] = {
    cls.name: cls for cls in (Bernoulli, Gaussian, Laplace, Poisson)
}


def get_likelihood(name: str | Likelihood, **kwargs) -> Likelihood:
    """Build a likelihood from its name (``bernoulli``, ``gaussian``, ``laplace``, ``poisson``).

    Example::

        >>> from pyro_vae.likelihoods import get_likelihood
        >>> get_likelihood("gaussian", scale=0.5).scale()
        0.5
        >>> get_likelihood("normal")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: unknown likelihood 'normal'; choose one of ['bernoulli', 'gaussian', ...]
    """
    if isinstance(name, Likelihood):
        return name
    try:
        return LIKELIHOODS[name](**kwargs)
    except KeyError:
        raise ValueError(
            f"unknown likelihood {name!r}; choose one of {sorted(LIKELIHOODS)}"
        ) from None
