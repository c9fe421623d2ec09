r"""InfoVAE / MMD-VAE: the ELBO with a re-weighted KL and a maximum mean
discrepancy between the aggregate posterior and the prior (Zhao et al. 2019).

Zhao, Song & Ermon 2019, *InfoVAE: Balancing Learning and Inference in
Variational Autoencoders*, eq. 6-7 with D = MMD:

.. math::

    \mathcal{L}_{\mathrm{InfoVAE}} = \mathbb{E}_{p(x)}\mathbb{E}_{q(z|x)}[\log p(x|z)]
        - (1 - \alpha)\, \mathbb{E}_{p(x)}\mathrm{KL}(q(z|x)\,\|\,p(z))
        - (\alpha + \lambda - 1)\, \mathrm{MMD}(q(z)\,\|\,p(z)).

``alpha = 0, lambda = 1`` is the ELBO; ``alpha = 1`` drops the KL (the
"MMD-VAE").  The MMD term compares the **aggregate** posterior q(z) with the
**marginal** prior p(z): the minibatch's posterior samples (one per example)
against as many samples of the prior, with the unbiased MMD^2 estimator of
:mod:`pyro_vae.infer.kernels`.  (Pyro's ``Trace_MMD`` is a different thing:
it compares whole batches per particle and is not used here.)

**Prior samples.**  They come from a separate run of the prior, hidden from
every outer handler (``poutine.block``) and not replayed against the guide,
so hierarchical priors give samples of their marginal, not of the prior
conditioned on the guide's upper-layer samples:

* with ``prior=`` (a prior program, see :mod:`pyro_vae.priors.base`; the
  presets pass ``model.prior``) only the prior program runs, with a fresh
  :class:`~pyro_vae.priors.LatentContext` of the batch's size (and the
  model's ``u`` when given) -- no decoder pass;
* otherwise the whole model runs with the loss's arguments and the site's
  value is read from its trace (correct for any model; it also runs the
  decoder).
"""

from __future__ import annotations

from collections.abc import Callable

import pyro
import pyro.poutine as poutine
import torch

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.kernels import KERNELS, default_bandwidth, make_kernel, mmd_unbiased
from pyro_vae.infer.terms import ELBOTerms
from pyro_vae.priors.base import LatentContext
from pyro_vae.sites import LATENT


class MMDELBO(PerExampleLoss):
    r"""The InfoVAE objective (Zhao et al. 2019, eq. 6-7, MMD divergence), per example:

    .. math::

        \mathcal{L} = -\mathbb{E}[\log p(x|z)] + (1 - \alpha)\,\mathrm{KL}(q(z|x)\,\|\,p(z))
            + (\alpha + \lambda - 1)\,\widehat{\mathrm{MMD}}^2_u(q(z), p(z))

    The KL is over every local latent site; the MMD at ``site``.  The MMD
    term is a batch-level estimate added once to the per-example loss.  The
    unbiased estimator is slightly negative when q(z) and p(z) agree well.

    Logged terms: ``recon``, ``kl``, ``mmd``.

    :param float alpha: the paper's alpha (<= 1).
    :param float lambda_: the paper's lambda; the MMD weight is
        ``alpha + lambda_ - 1`` (>= 0).
    :param str kernel: ``"rbf"`` (``exp(-||x-y||^2 / h)``) or ``"imq"``
        (``C / (C + ||x-y||^2)``).
    :param float bandwidth: ``h`` or ``C``; default ``2 * D`` (2 D sigma^2 for
        a unit-variance prior; pass your own for other priors).
    :param prior: the model's prior program, to sample the prior without the
        decoder; default: run the whole model.
    :param str site: the latent site compared.
    """

    def __init__(
        self,
        alpha: float = 0.0,
        lambda_: float = 1000.0,
        kernel: str = "rbf",
        bandwidth: float | None = None,
        *,
        prior: Callable[[LatentContext], torch.Tensor] | None = None,
        site: str = LATENT,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not alpha <= 1:
            raise ValueError(
                f"alpha must be <= 1, got {alpha}: the KL weight 1 - alpha would be negative"
            )
        if not alpha + lambda_ - 1 >= 0:
            raise ValueError(
                f"alpha + lambda_ - 1 must be >= 0 (the MMD weight), got alpha={alpha}, "
                f"lambda_={lambda_}"
            )
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        if bandwidth is not None and not bandwidth > 0:
            raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
        self.alpha = float(alpha)
        self.lambda_ = float(lambda_)
        self.kernel = kernel
        self.bandwidth = None if bandwidth is None else float(bandwidth)
        self.prior = prior
        self.site = site
        self._call: tuple | None = None

    @property
    def kl_weight(self) -> float:
        return 1.0 - self.alpha

    @property
    def mmd_weight(self) -> float:
        return self.alpha + self.lambda_ - 1.0

    # ---------------------------------------------------------- prior samples
    def prior_samples(self, model, args, kwargs, batch_size: int, device) -> torch.Tensor:
        """``batch_size`` samples of the marginal prior at :attr:`site`, ``(B, D)``,
        from a blocked, unreplayed run of the prior program (or of ``model``)."""
        with poutine.block(), poutine.trace() as tracer:
            if self.prior is not None:
                ctx = LatentContext(
                    plate=pyro.plate(self.data_plate, batch_size, device=device),
                    batch_size=batch_size,
                    u=kwargs.get("u"),
                    device=device,
                )
                self.prior(ctx)
            else:
                model(*args, **kwargs)
        trace = tracer.trace
        if self.site not in trace.nodes:
            source = "prior program" if self.prior is not None else "model"
            raise ValueError(f"the {source} has no sample site {self.site!r}; pass site=...")
        value = trace.nodes[self.site]["value"]
        return value.reshape(value.shape[0], -1)

    def differentiable_loss(self, model, guide, *args, **kwargs) -> torch.Tensor:
        self._call = (model, args, kwargs)
        try:
            return super().differentiable_loss(model, guide, *args, **kwargs)
        finally:
            self._call = None

    # ---------------------------------------------------------------- loss
    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self._call is None:
            raise RuntimeError("MMDELBO.loss_from_terms needs the model; call it through a loss")
        if self.site not in terms.local_latents:
            raise ValueError(
                f"site {self.site!r} is not a local latent site; local latent sites: "
                f"{terms.local_latents}. Pass site=..."
            )
        value = terms.value(self.site)
        z = value.reshape(value.shape[0], -1)
        model, args, kwargs = self._call
        z_prior = self.prior_samples(model, args, kwargs, z.shape[0], z.device)
        bandwidth = self.bandwidth or default_bandwidth(z.shape[1])
        mmd = mmd_unbiased(z, z_prior.to(z.dtype), make_kernel(self.kernel, bandwidth))
        log_lik = terms.log_likelihood().mean()
        kl = terms.local_kl(self.analytic_kl).mean()
        objective = terms.elbo(self.kl_weight, self.analytic_kl) - self.mmd_weight * mmd
        return -objective, {"recon": -log_lik, "kl": kl, "mmd": mmd}
