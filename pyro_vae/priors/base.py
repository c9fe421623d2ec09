"""The prior-program contract.

A **prior** is a Pyro program over the latent variables: a
:class:`torch.nn.Module` (a ``PyroModule`` works too) or any callable
``prior(ctx) -> Tensor`` that

1. receives a :class:`LatentContext` ``ctx`` -- the data plate (``ctx.plate``,
   a ``pyro.plate`` over the examples of the batch), the batch size, and the
   observed context ``ctx.u`` when the model has one (iVAE segments, sVAE
   actions, CausalVAE concept labels), or ``None``;
2. issues its ``pyro.sample`` statements: **local** sites (one value per
   example) inside ``with ctx.plate:``, **global** sites (a spike-and-slab
   probability per action, an adjacency matrix) outside it;
3. returns the tensor the decoder reads, shape ``(B, latent_dim)``.

Everything a prior may need fits this shape:

* conditional on ``u`` -- read ``ctx.u`` (:class:`~pyro_vae.priors.StandardNormal`
  ignores it);
* global sites -- sample them before entering ``ctx.plate``; if they are
  latent, give the prior a ``guide(ctx)`` method sampling the same sites, and
  the model's guide calls it;
* several sites per example (e.g. exogenous ``eps`` and endogenous ``z``) --
  sample them all inside the plate; a model whose guide covers them all
  (CausalVAE) provides that guide;
* a top-down hierarchy -- sample ``z{L}`` down to ``z1`` inside the plate and
  return ``z1``; the prior's networks are ordinary sub-modules, so a ladder
  guide can call the same networks (one set of parameters for model and guide).

**Learnable parameters** of a prior must be ``nn.Parameter``\\ s of the prior
module (or of any module the model owns), so that they move with
``model.to(device)``, are saved in checkpoints and are registered under the
model's unique name; bare ``pyro.param`` statements are refused by
:func:`pyro_vae.train.fit`.

A minimal user-written prior, a standard Laplace::

    class LaplacePrior(torch.nn.Module):
        def __init__(self, latent_dim):
            super().__init__()
            self.latent_dim = latent_dim
            self.register_buffer("loc", torch.zeros(latent_dim))

        def forward(self, ctx):
            with ctx.plate:
                return pyro.sample(
                    "z", dist.Laplace(self.loc, 1.0).to_event(1))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyro
import torch


@dataclass
class LatentContext:
    """What a prior program receives.

    :ivar plate: the ``pyro.plate`` over the examples of the batch; enter it
        (``with ctx.plate:``) for per-example sites.
    :ivar int batch_size: number of examples in the batch.
    :ivar u: observed context per example, or ``None``.
    :ivar extras: model-specific values (e.g. a hierarchy level to return).
    """

    plate: pyro.plate
    batch_size: int
    u: torch.Tensor | None = None
    device: torch.device | None = None
    extras: dict[str, Any] | None = None


@runtime_checkable
class PriorProgram(Protocol):
    """Anything callable as ``prior(ctx) -> latent``."""

    def __call__(self, ctx: LatentContext) -> torch.Tensor: ...
