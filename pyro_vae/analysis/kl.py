"""KL divergence per latent dimension."""

from __future__ import annotations

import torch

from pyro_vae.analysis.interface import (
    Inputs,
    TraversalInterface,
    inputs_to,
    trace_interface,
    traversal_interface,
)


@torch.no_grad()
def kl_per_dim(
    model,
    x: torch.Tensor,
    site: str | None = None,
    inputs: Inputs | None = None,
    num_particles: int = 1,
    interface: TraversalInterface | None = None,
) -> torch.Tensor:
    """Batch average of KL(q(z_j | x) || p(z_j)) for each element j of a latent site.

    The per-dimension KL whose average over the data ranks the active latent
    dimensions (Burgess et al. 2018, "Understanding disentangling in
    beta-VAE", Sec. 4, Fig. 2).  For a diagonal Gaussian posterior and the
    standard normal prior it is ``0.5 * (s^2 + m^2 - 1 - log s^2)`` per
    dimension; in general it is computed against the model's own prior at
    the site (see :mod:`pyro_vae.analysis.interface`: closed form when
    registered with ``torch.distributions.kl_divergence``, else a Monte Carlo
    estimate; conditional priors of a hierarchy are evaluated at sampled
    parents).

    :param model: a model/guide pair.
    :param x: a batch of observations.
    :param str site: the latent site (default: the model's latent site).
    :param inputs: further model/guide arguments for the batch (e.g. ``{"u": u}``).
    :param int num_particles: guide draws averaged.
    :param interface: a ready :class:`TraversalInterface` (then ``site`` is ignored).
    :returns: a tensor of the site's per-example shape, e.g. ``(latent_dim,)``, in nats.
    """
    interface = interface or traversal_interface(
        model, site, _first(inputs), num_particles=num_particles
    )
    device = getattr(model, "device", None)
    x = x.to(device) if device is not None else x
    kw = inputs_to(inputs, x.device)
    kl = interface.kl
    if kl is None:  # a model's own interface without kl: the generic estimate
        kl = trace_interface(model, interface.site, _first(kw), num_particles=num_particles).kl
    return kl(x, **kw).detach().cpu()


def _first(inputs: Inputs | None) -> dict | None:
    """The first example of batched inputs (for discovering sites on a batch of one)."""
    if not inputs:
        return None
    return {k: (v[:1] if torch.is_tensor(v) else v) for k, v in inputs.items()}
