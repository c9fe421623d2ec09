r"""beta-TCVAE: the ELBO with its KL split into index-code mutual information,
total correlation and dimension-wise KL (Chen et al. 2018).

Chen et al. 2018, *Isolating Sources of Disentanglement in VAEs*, eq. 2:
averaged over the data distribution p(n) = 1/N on the N training examples,

.. math::

    \mathbb{E}_{p(n)}\big[\mathrm{KL}(q(z|n)\,\|\,p(z))\big]
      = \underbrace{\mathrm{KL}(q(z,n)\,\|\,q(z)p(n))}_{\text{index-code MI}}
      + \underbrace{\mathrm{KL}(q(z)\,\|\,\textstyle\prod_d q(z_d))}_{\text{total correlation}}
      + \underbrace{\textstyle\sum_d \mathrm{KL}(q(z_d)\,\|\,p(z_d))}_{\text{dimension-wise KL}}

with the aggregate posterior :math:`q(z) = \frac1N \sum_n q(z|n)`.  Per sample
:math:`z_i \sim q(z|x_i)` the three terms are the telescoping differences of
:math:`\log q(z_i|x_i)`, :math:`\log q(z_i)`, :math:`\sum_d \log q(z_{i,d})`
and :math:`\log p(z_i)`; the two aggregate densities are estimated from the
minibatch of B examples:

* **minibatch weighted sampling** (MWS, section 3 / appendix C.1):
  :math:`\log q(z_i) \approx \log \sum_j q(z_i|x_j) - \log(NB)`, and the same
  per dimension.  It is biased: when the minibatch is the whole data set
  (N = B) it equals the exact :math:`\log q(z_i) - \log N`, its per-dimension
  product the exact one minus :math:`D \log N`, so its TC is the exact TC
  plus :math:`(D-1)\log N`.
* **minibatch stratified sampling** (MSS, appendix C.2):
  :math:`q(z_i) \approx \sum_j W_{ij}\, q(z_i|x_j)` with the importance
  weights of :func:`mss_log_weights`; the weighted mixture is unbiased for
  q(z_i) over random minibatches.
"""

from __future__ import annotations

import math

import torch

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.beta_elbo import _checked
from pyro_vae.infer.factorized import factorized_site
from pyro_vae.infer.schedules import Schedule, as_schedule
from pyro_vae.infer.terms import ELBOTerms
from pyro_vae.sites import LATENT

ESTIMATORS = ("mss", "mws")


def mss_log_weights(
    batch_size: int,
    dataset_size: int,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Log importance weights of minibatch stratified sampling (Chen et al.
    2018, appendix C.2), a ``(B, B)`` matrix ``log W``.

    The paper's estimator for the sample of example :math:`n^*` uses the
    other :math:`M = B - 1` members :math:`n_1, \dots, n_M` of the minibatch:

    .. math::

        q(z) \approx \frac1N q(z|n^*) + \frac1M \sum_{m=1}^{M-1} q(z|n_m)
                     + \frac{N-M}{NM} q(z|n_M).

    Row ``i`` holds the weights for the sample of example ``i``:
    ``W[i, i] = 1/N``; ``W[i, (i+1) mod B] = (N-M)/(NM)`` (the paper's
    :math:`n_M`, the member standing for the stratum of the N - 1 - (M-1)N/M
    examples outside the minibatch); every other entry ``1/M``.  Each row sums
    to one.  (The authors' code fills these with strided writes whose stride
    is one short of the diagonal's, which puts 1/N down the first column
    instead of the diagonal; this matrix follows the definition.)

    Example::

        >>> from pyro_vae.infer import mss_log_weights
        >>> w = mss_log_weights(batch_size=4, dataset_size=10).exp()
        >>> w.diagonal()  # 1 / N
        tensor([0.1000, 0.1000, 0.1000, 0.1000])
        >>> w[0]  # 1/N, (N - M) / (N M), then 1/M, with M = B - 1 = 3
        tensor([0.1000, 0.2333, 0.3333, 0.3333])
        >>> bool(w.sum(dim=1).sub(1.0).abs().max() < 1e-6)  # each row sums to one
        True

    :param int batch_size: B >= 2.
    :param int dataset_size: N >= B.
    """
    if batch_size < 2:
        raise ValueError(f"minibatch stratified sampling needs a batch of >= 2, got {batch_size}")
    if dataset_size < batch_size:
        raise ValueError(f"dataset_size ({dataset_size}) is smaller than the batch ({batch_size})")
    n, m = float(dataset_size), float(batch_size - 1)
    weights = torch.full((batch_size, batch_size), 1.0 / m, dtype=torch.float64)
    rows = torch.arange(batch_size)
    weights[rows, (rows + 1) % batch_size] = (n - m) / (n * m)
    weights[rows, rows] = 1.0 / n
    return weights.log().to(device=device, dtype=dtype)


def aggregate_log_densities(
    pairwise: torch.Tensor, dataset_size: int, estimator: str = "mss"
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Minibatch estimates of :math:`\log q(z_i)` and :math:`\sum_d \log q(z_{i,d})`.

    :param pairwise: ``pairwise[i, j, d] = log q(z_{i,d} | x_j)``, shape ``(B, B, D)``.
    :param int dataset_size: N, the number of training examples.
    :param str estimator: ``"mss"`` or ``"mws"``.
    :returns: ``(log_qz, log_prod_qzd)``, each of shape ``(B,)``.
    """
    batch = pairwise.shape[0]
    if estimator == "mws":
        log_norm = math.log(batch * dataset_size)
        log_qz = torch.logsumexp(pairwise.sum(-1), dim=1) - log_norm
        log_prod = (torch.logsumexp(pairwise, dim=1) - log_norm).sum(-1)
    elif estimator == "mss":
        log_w = mss_log_weights(batch, dataset_size, pairwise.device, pairwise.dtype)
        log_qz = torch.logsumexp(log_w + pairwise.sum(-1), dim=1)
        log_prod = torch.logsumexp(log_w.unsqueeze(-1) + pairwise, dim=1).sum(-1)
    else:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    return log_qz, log_prod


class TCELBO(PerExampleLoss):
    r"""The beta-TCVAE objective (Chen et al. 2018, eq. 4), per example:

    .. math::

        \mathcal{L} = -\mathbb{E}[\log p(x|z)] + \alpha\, I_q(z; n)
            + \beta\, \mathrm{TC}(z) + \gamma \sum_d \mathrm{KL}(q(z_d)\,\|\,p(z_d))

    estimated on the minibatch with MSS or MWS (see :mod:`pyro_vae.infer.tc_elbo`)
    from the guide's distribution at ``site``, which must factorize over
    dimensions (e.g. ``Normal(loc, scale).to_event(1)``).  ``alpha = beta =
    gamma = 1`` gives the ELBO with a one-sample KL (``BetaELBO(1,
    analytic_kl=False)``) exactly.  Other local latent sites get their plain
    KL; global latents and ``pyro.factor`` sites enter unweighted.  With a
    prior that does not factorize over dimensions the last term is
    :math:`\mathbb{E}[\sum_d \log q(z_d) - \log p(z)]`, which still
    completes the sum.

    The estimators need the training set size N (``dataset_size``), not the
    data plate's: per-example terms are unaffected by subsampling the plate,
    and ``pyro_vae.train.fit`` passes ``dataset_size=len(dataset)`` to the
    model and guide, the presets pass it here.

    Logged terms: ``recon``, ``kl`` (the sampled MI + TC + dim-KL, plus other
    sites' KL), ``mi``, ``tc``, ``dim_kl``.

    Example::

        >>> import math, pyro, torch
        >>> from pyro_vae.infer import BetaELBO, TCELBO
        >>> from pyro_vae.models import VAE
        >>> vae = VAE.mlp((6,), latent_dim=2, hidden_dims=(8,))
        >>> x = torch.rand(4, 6)
        >>> pyro.set_rng_seed(0)  # the same draw of z for both losses
        >>> tc = TCELBO(alpha=1.0, beta=1.0, gamma=1.0, dataset_size=10)
        >>> tc_loss = tc.loss(vae.model, vae.guide, x)
        >>> pyro.set_rng_seed(0)
        >>> elbo_loss = BetaELBO(1.0, analytic_kl=False).loss(vae.model, vae.guide, x)
        >>> math.isclose(tc_loss, elbo_loss, rel_tol=1e-5)  # MI + TC + dim-KL = KL
        True
        >>> sorted(tc.last_terms)
        ['dim_kl', 'kl', 'loss', 'mi', 'recon', 'tc']

    :param alpha: weight of the index-code MI (a number or schedule).
    :param beta: weight of the total correlation (Chen et al. use 6 on
        dSprites; disentanglement_lib sweeps 1, 2, 4, 6, 8, 10).
    :param gamma: weight of the dimension-wise KL.
    :param int dataset_size: N, the number of training examples (required).
    :param str estimator: ``"mss"`` (default) or ``"mws"``.  (disentanglement_lib's
        ``BetaTCVAE`` uses MWS without the log(NB) constants: same gradient, but
        its TC value is off by (D - 1) log(NB).)
    :param str site: the latent site whose KL is decomposed.
    """

    def __init__(
        self,
        alpha: float | Schedule = 1.0,
        beta: float | Schedule = 6.0,
        gamma: float | Schedule = 1.0,
        *,
        dataset_size: int | None = None,
        estimator: str = "mss",
        site: str = LATENT,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if dataset_size is None:
            raise ValueError(
                "TCELBO needs dataset_size=N, the number of training examples: the total "
                "correlation estimator weights the minibatch by it (fit() and the presets "
                "use len(dataset))"
            )
        if int(dataset_size) != dataset_size or dataset_size < 2:
            raise ValueError(f"dataset_size must be an integer >= 2, got {dataset_size}")
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        self.alpha = as_schedule(alpha, "alpha", minimum=0.0)
        self.beta = as_schedule(beta, "beta", minimum=0.0)
        self.gamma = as_schedule(gamma, "gamma", minimum=0.0)
        self.dataset_size = int(dataset_size)
        self.estimator = estimator
        self.site = site

    def decomposition(self, terms: ELBOTerms) -> dict[str, torch.Tensor]:
        """Per-example ``mi``, ``tc`` and ``dim_kl`` (each of shape ``(B,)``) at the site.

        Their sum is the one-sample KL ``log q(z|x) - log p(z)``.
        """
        posterior = factorized_site(terms, self.site)
        batch = posterior.batch_size
        if batch > self.dataset_size:
            raise ValueError(
                f"the batch ({batch}) is larger than dataset_size ({self.dataset_size}); "
                "pass the number of training examples as dataset_size"
            )
        log_qz, log_prod = aggregate_log_densities(
            posterior.pairwise_log_prob(), self.dataset_size, self.estimator
        )
        log_qzx = terms.log_guide(self.site)
        log_pz = terms.log_prior(self.site)
        return {"mi": log_qzx - log_qz, "tc": log_qz - log_prod, "dim_kl": log_prod - log_pz}

    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        alpha = _checked(self.alpha, self.step, "alpha")
        beta = _checked(self.beta, self.step, "beta")
        gamma = _checked(self.gamma, self.step, "gamma")
        parts = {k: v.mean() for k, v in self.decomposition(terms).items()}
        other_kl = terms.local_kl(self.analytic_kl, exclude=(self.site,)).mean()
        log_lik = terms.log_likelihood().mean()
        penalty = alpha * parts["mi"] + beta * parts["tc"] + gamma * parts["dim_kl"]
        elbo = log_lik + terms.local_factors().mean() - penalty - other_kl
        if terms.has_globals:
            elbo = elbo + terms.global_term(self.analytic_kl)
        kl = parts["mi"] + parts["tc"] + parts["dim_kl"] + other_kl
        return -elbo, {"recon": -log_lik, "kl": kl, **parts}
