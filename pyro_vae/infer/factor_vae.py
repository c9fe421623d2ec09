r"""FactorVAE: the ELBO minus gamma times a discriminator's estimate of the
total correlation (Kim & Mnih 2018).

Kim & Mnih 2018, *Disentangling by Factorising*, eq. 2, per example:

.. math::

    \mathcal{L} = -\mathbb{E}_{q(z|x)}[\log p(x|z)] + \mathrm{KL}(q(z|x)\,\|\,p(z))
                  + \gamma\, \mathrm{KL}(q(z)\,\|\,\bar q(z)),
    \qquad \bar q(z) = \textstyle\prod_d q(z_d),

with the total correlation estimated by the density-ratio trick,
:math:`\mathrm{KL}(q(z)\|\bar q(z)) \approx \mathbb{E}_{q(z)}[\log
\frac{D(z)}{1 - D(z)}]`, where the discriminator D outputs two logits and
:math:`\log\frac{D}{1-D}` is their difference (class 0: a sample of q(z),
class 1: a sample of :math:`\bar q(z)`).

Training (Algorithm 2), all inside :meth:`FactorVAELoss.loss_and_grads`:

1. the VAE's gradient is that of the loss above with D's parameters held
   fixed (D is evaluated with detached copies of its parameters, so no
   gradient reaches them);
2. D minimises the cross-entropy between the batch's samples z (detached,
   class 0) and a batch whose dimensions are each permuted independently
   across the batch (:func:`permute_dims`, class 1), with its own Adam.

**The second batch.**  Algorithm 2 draws a second data batch for the
permuted samples; a Pyro loss sees one batch.  We draw a second sample from
q(z | x) for the same batch (a fresh, non-reparametrized draw from the
guide's distribution at the site, no extra encoder pass) and permute that.
This keeps the full batch for the VAE's TC term and for both classes of the
discriminator (splitting the batch in halves, as some implementations do,
halves both and doubles the chance, 1/B -> 2/B, that two dimensions of a
permuted row come from the same example), and the permuted samples carry
fresh posterior noise rather than the very coordinates of the positives
(disentanglement_lib permutes the same z).  What it does not give is fresh
x's: the negatives come from the same examples as the positives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.factorized import factorized_site
from pyro_vae.infer.terms import ELBOTerms
from pyro_vae.nets import MLP
from pyro_vae.sites import LATENT


class LeakyReLU02(nn.LeakyReLU):
    """``LeakyReLU(0.2)``, disentanglement_lib's discriminator activation."""

    def __init__(self) -> None:
        super().__init__(0.2)


def factor_discriminator(latent_dim: int, hidden: int = 1000, layers: int = 6) -> nn.Module:
    """The FactorVAE discriminator of Kim & Mnih 2018 (appendix) and
    disentanglement_lib: ``layers`` fully connected layers of ``hidden``
    units with LeakyReLU(0.2), then 2 logits (class 0: q(z), class 1: the
    product of marginals)."""
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
    return MLP(latent_dim, [hidden] * layers, 2, activation=LeakyReLU02)


def permute_dims(z: torch.Tensor) -> torch.Tensor:
    """Permute each column (latent dimension) of ``z`` (shape ``(B, D)``)
    independently across the batch (Kim & Mnih 2018, Algorithm 1): every
    column keeps its values, the dependence between columns is broken.
    Uses the global torch RNG on ``z``'s device."""
    if z.dim() != 2:
        raise ValueError(f"permute_dims expects (batch, dim), got shape {tuple(z.shape)}")
    order = torch.rand(z.shape, device=z.device).argsort(dim=0)
    return torch.gather(z, 0, order)


def _classification(
    discriminator: nn.Module, z: torch.Tensor, z_permuted: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    logits = discriminator(torch.cat([z, z_permuted]))
    labels = torch.cat(
        [
            torch.zeros(z.shape[0], dtype=torch.long, device=z.device),
            torch.ones(z_permuted.shape[0], dtype=torch.long, device=z.device),
        ]
    )
    per_sample = F.cross_entropy(logits, labels, reduction="none")
    n = z.shape[0]
    loss = 0.5 * (per_sample[:n].mean() + per_sample[n:].mean())
    with torch.no_grad():
        hits = (logits.argmax(-1) == labels).float()
        accuracy = 0.5 * (hits[:n].mean() + hits[n:].mean())
    return loss, accuracy


def discriminator_loss(
    discriminator: nn.Module, z: torch.Tensor, z_permuted: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the discriminator: ``z`` is class 0, ``z_permuted`` class 1,
    each class's mean weighted 1/2 (disentanglement_lib's ``discr_loss``)."""
    return _classification(discriminator, z, z_permuted)[0]


class FactorVAELoss(PerExampleLoss):
    r"""The FactorVAE objective (Kim & Mnih 2018, eq. 2 and Algorithm 2).

    ``loss = recon + KL + gamma * TC`` per example, with ``TC`` the batch
    mean of the discriminator's logit difference at the guide's samples of
    ``site``; see :mod:`pyro_vae.infer.factor_vae` for the training scheme
    and the choice of the permuted batch.  Other local latent sites get their
    plain KL; global latents and factors enter unweighted.

    * :meth:`loss_and_grads` (what ``SVI.step`` and ``fit`` call) computes the
      VAE gradient, then takes one step of the discriminator's optimizer; the
      step counter advances once.  :meth:`loss` trains nothing.  If you drive
      :meth:`differentiable_loss` yourself, call :meth:`update_discriminator`
      (before or after your ``backward()``) and :meth:`advance`.
    * The discriminator is not registered in Pyro's param store, so the
      VAE's optimizer never sees it; it lives in :attr:`discriminator` with
      its optimizer :attr:`disc_optimizer`, both in :meth:`state_dict`, and
      :meth:`to` moves them.

    Logged terms: ``recon``, ``kl``, ``tc`` (the estimate, before gamma),
    ``disc_loss`` and ``disc_acc`` (accuracy on the two classes).

    :param float gamma: TC weight (disentanglement_lib sweeps 10, 20, 30, 40,
        50, 100 on dSprites).
    :param discriminator: a module mapping ``(B, D)`` to ``(B, 2)`` logits;
        default :func:`factor_discriminator` (needs ``latent_dim``).
    :param float disc_lr: the discriminator's Adam learning rate (1e-4).
    :param disc_betas: its Adam betas ((0.5, 0.9), as the paper and
        disentanglement_lib).
    :param str site: the latent site (its value is flattened to ``(B, D)``).
    :param int latent_dim: D, for the default discriminator.
    """

    def __init__(
        self,
        gamma: float = 40.0,
        discriminator: nn.Module | None = None,
        *,
        disc_lr: float = 1e-4,
        disc_betas: Sequence[float] = (0.5, 0.9),
        site: str = LATENT,
        latent_dim: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not gamma >= 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        if discriminator is None:
            if latent_dim is None:
                raise ValueError(
                    "FactorVAELoss needs latent_dim=D to build its default discriminator "
                    "(or pass discriminator=...)"
                )
            discriminator = factor_discriminator(latent_dim)
        if not disc_lr > 0:
            raise ValueError(f"disc_lr must be > 0, got {disc_lr}")
        self.gamma = float(gamma)
        self.site = site
        self.discriminator = discriminator
        self.disc_optimizer = torch.optim.Adam(
            discriminator.parameters(), lr=disc_lr, betas=tuple(disc_betas)
        )
        self.last_discriminator_batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self._pending: list[torch.Tensor] = []

    # ------------------------------------------------------------------ VAE
    def _frozen_logits(self, z: torch.Tensor) -> torch.Tensor:
        """D(z) with a detached copy of D's parameters: gradients reach z only, and
        stepping the discriminator before the VAE's backward pass cannot invalidate
        the saved tensors (a plain ``detach`` shares the version counter)."""
        params = {k: v.detach().clone() for k, v in self.discriminator.named_parameters()}
        return functional_call(self.discriminator, params, (z,))

    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        posterior = factorized_site(terms, self.site)
        z = posterior.flat(posterior.value)
        logits = self._frozen_logits(z)
        tc = (logits[:, 0] - logits[:, 1]).mean()
        log_lik = terms.log_likelihood().mean()
        kl = terms.local_kl(self.analytic_kl).mean()
        elbo = terms.elbo(1.0, self.analytic_kl)

        # the discriminator's batch: detached samples vs. a permuted second draw
        z_real = z.detach()
        z_perm = permute_dims(posterior.sample().detach())
        self.last_discriminator_batch = (z_real, z_perm)
        disc_loss, acc = _classification(self.discriminator, z_real, z_perm)
        if torch.is_grad_enabled():
            self._pending.append(disc_loss / self.num_particles)
        logs = {"recon": -log_lik, "kl": kl, "tc": tc, "disc_loss": disc_loss, "disc_acc": acc}
        return -(elbo - self.gamma * tc), logs

    # ------------------------------------------------------- discriminator
    def differentiable_loss(self, model, guide, *args, **kwargs) -> torch.Tensor:
        self._pending = []
        return super().differentiable_loss(model, guide, *args, **kwargs)

    def loss_and_grads(self, model, guide, *args, **kwargs) -> float:
        """VAE gradients (into the model's parameters), then one discriminator step."""
        value = super().loss_and_grads(model, guide, *args, **kwargs)
        self.update_discriminator()
        return value

    def update_discriminator(self) -> float | None:
        """One Adam step of the discriminator on the batches of the last
        :meth:`differentiable_loss` (with gradients enabled); returns its loss,
        or ``None`` when there was nothing to train on or the loss was not finite."""
        pending, self._pending = self._pending, []
        if not pending:
            return None
        loss = torch.stack(pending).sum()
        if not torch.isfinite(loss):
            return None
        self.disc_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.disc_optimizer.step()
        return float(loss.detach())

    # --------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "disc_optimizer": self.disc_optimizer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.discriminator.load_state_dict(state["discriminator"])
        self.disc_optimizer.load_state_dict(state["disc_optimizer"])

    def to(self, device: str | torch.device) -> FactorVAELoss:
        """Move the discriminator and its optimizer state to ``device``."""
        self.discriminator.to(device)
        # re-loading casts the optimizer's state to its parameters' device
        self.disc_optimizer.load_state_dict(self.disc_optimizer.state_dict())
        return self
