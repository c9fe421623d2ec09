r"""DIP-VAE: the ELBO plus a penalty pushing the covariance of the aggregate
posterior towards the identity (Kumar et al. 2018).

Kumar, Sattigeri & Balakrishnan 2018, *Variational Inference of Disentangled
Latent Concepts from Unlabeled Observations*.  With :math:`\mu(x)` and
:math:`\Sigma(x) = \mathrm{diag}\,\sigma^2(x)` the guide's mean and variance,

* DIP-VAE-I (eq. 5-6): :math:`C = \mathrm{Cov}_{p(x)}[\mu(x)]`;
* DIP-VAE-II (eq. 7): :math:`C = \mathrm{Cov}_{q(z)}[z]
  = \mathbb{E}_{p(x)}[\Sigma(x)] + \mathrm{Cov}_{p(x)}[\mu(x)]`;

and the penalty is

.. math::

    \lambda_{od} \sum_{i \ne j} C_{ij}^2 + \lambda_d \sum_i (C_{ii} - 1)^2 .

Both expectations over p(x) are taken over the minibatch: the covariance is
over the batch axis (B examples) of the ``(B, D)`` means, a ``(D, D)``
matrix, with the 1/B normalisation of disentanglement_lib.
"""

from __future__ import annotations

import torch

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.factorized import factorized_site
from pyro_vae.infer.terms import ELBOTerms
from pyro_vae.sites import LATENT

KINDS = ("i", "ii")


def batch_covariance(x: torch.Tensor) -> torch.Tensor:
    """Covariance over the batch axis of ``x`` (shape ``(B, D)``), normalised
    by B: a ``(D, D)`` matrix."""
    if x.dim() != 2:
        raise ValueError(f"batch_covariance expects (batch, dim), got shape {tuple(x.shape)}")
    centred = x - x.mean(dim=0, keepdim=True)
    return centred.T @ centred / x.shape[0]


def dip_covariance(mean: torch.Tensor, variance: torch.Tensor, kind: str) -> torch.Tensor:
    """The matrix DIP-VAE regularises: Cov over the batch of the means (``"i"``),
    plus the batch mean of the diagonal posterior variances (``"ii"``).

    :param mean: posterior means, ``(B, D)``.
    :param variance: posterior variances, ``(B, D)``.
    """
    cov = batch_covariance(mean)
    if kind == "ii":
        cov = cov + torch.diag_embed(variance.mean(dim=0))
    elif kind != "i":
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return cov


def dip_penalty(cov: torch.Tensor, lambda_od: float, lambda_d: float) -> torch.Tensor:
    """``lambda_od * sum_{i != j} C_ij^2 + lambda_d * sum_i (C_ii - 1)^2``."""
    diag = torch.diagonal(cov)
    off = cov - torch.diag_embed(diag)
    return lambda_od * off.pow(2).sum() + lambda_d * (diag - 1.0).pow(2).sum()


class DIPELBO(PerExampleLoss):
    r"""The DIP-VAE objective (Kumar et al. 2018, eq. 6 (I) and 7 (II)), per example:

    .. math::

        \mathcal{L} = -\mathbb{E}_{q(z|x)}[\log p(x|z)] + \mathrm{KL}(q(z|x)\,\|\,p(z))
            + \lambda_{od} \sum_{i \ne j} C_{ij}^2 + \lambda_d \sum_i (C_{ii} - 1)^2

    with ``C`` from :func:`dip_covariance` on the guide's means and variances
    at ``site`` (read from its distribution, which must factorize over
    dimensions).  The penalty is a batch-level quantity and is added once to
    the per-example loss, as in disentanglement_lib.

    Logged terms: ``recon``, ``kl``, ``dip`` (the penalty), ``cov_offdiag``
    (sum of squared off-diagonal entries), ``cov_diag`` (sum of squared
    deviations of the diagonal from 1).

    :param str kind: ``"i"`` or ``"ii"``.
    :param float lambda_od: off-diagonal weight (disentanglement_lib sweeps
        1, 2, 5, 10, 20, 50 on dSprites).
    :param float lambda_d: diagonal weight; default ``10 * lambda_od`` for
        DIP-VAE-I and ``lambda_od`` for DIP-VAE-II (disentanglement_lib's
        ``lambda_d_factor``).
    :param str site: the latent site.
    """

    def __init__(
        self,
        kind: str = "i",
        lambda_od: float = 10.0,
        lambda_d: float | None = None,
        *,
        site: str = LATENT,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        kind = str(kind).lower()
        if kind not in KINDS:
            raise ValueError(f"kind must be 'i' (DIP-VAE-I) or 'ii' (DIP-VAE-II), got {kind!r}")
        if not lambda_od >= 0:
            raise ValueError(f"lambda_od must be >= 0, got {lambda_od}")
        if lambda_d is None:
            lambda_d = 10.0 * lambda_od if kind == "i" else float(lambda_od)
        if not lambda_d >= 0:
            raise ValueError(f"lambda_d must be >= 0, got {lambda_d}")
        self.kind = kind
        self.lambda_od = float(lambda_od)
        self.lambda_d = float(lambda_d)
        self.site = site

    def covariance(self, terms: ELBOTerms) -> torch.Tensor:
        """The regularised ``(D, D)`` matrix for the traced batch."""
        posterior = factorized_site(terms, self.site)
        if posterior.batch_size < 2:
            raise ValueError("DIP-VAE estimates a covariance over the batch; use a batch of >= 2")
        return dip_covariance(posterior.mean, posterior.variance, self.kind)

    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cov = self.covariance(terms)
        off_diag = dip_penalty(cov, 1.0, 0.0)
        diag = dip_penalty(cov, 0.0, 1.0)
        penalty = self.lambda_od * off_diag + self.lambda_d * diag
        log_lik = terms.log_likelihood().mean()
        kl = terms.local_kl(self.analytic_kl).mean()
        elbo = terms.elbo(1.0, self.analytic_kl)
        logs = {"recon": -log_lik, "kl": kl, "dip": penalty, "cov_offdiag": off_diag}
        logs["cov_diag"] = diag
        return -elbo + penalty, logs
