"""KL divergence per latent dimension."""

from __future__ import annotations

import torch


@torch.no_grad()
def kl_per_dim(model, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
    """Average over ``x`` of KL(q(z_j | x) || N(0, 1)) for each latent dimension j.

    Closed form for a diagonal Gaussian posterior against the standard
    normal prior: ``0.5 * (s^2 + m^2 - 1 - log s^2)``.  For other priors this
    is the KL to N(0, 1), which is still the usual ranking of active units.
    Pass the context ``u`` for models whose encoder reads it (iVAE).
    """
    x = x.to(model.device)
    loc, scale = model.encode(x) if u is None else model.encode(x, u.to(model.device))
    var = scale.pow(2)
    return (0.5 * (var + loc.pow(2) - 1.0 - var.log())).mean(0).cpu()
