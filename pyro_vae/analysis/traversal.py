"""Latent traversals: decode a code while sweeping one dimension at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torchvision.utils import make_grid

from pyro_vae.analysis.images import as_images
from pyro_vae.analysis.kl import kl_per_dim


@dataclass
class Traversal:
    """Result of :func:`traverse`.

    :ivar grid: the image grid ``(C, H, W)``: one row per traversed dimension,
        one column per value.
    :ivar dims: the latent dimension of each row.
    :ivar values: the values swept, shape ``(steps,)``.
    :ivar latents: the decoded codes, shape ``(len(dims), steps, latent_dim)``.
    :ivar kl: average KL per dimension used for ordering (or ``None``).
    """

    grid: torch.Tensor
    dims: list[int]
    values: torch.Tensor
    latents: torch.Tensor
    kl: torch.Tensor | None = None


@torch.no_grad()
def traverse(
    model,
    x: torch.Tensor | None = None,
    dims: str | Sequence[int] = "all",
    span: tuple[float, float] = (-3.0, 3.0),
    steps: int = 10,
    order: str = "kl",
    seed_index: int = 0,
    u: torch.Tensor | None = None,
) -> Traversal:
    """Traverse latent dimensions of ``model`` around a seed code.

    With a batch ``x`` the seed code is the posterior mean of
    ``x[seed_index]`` (a posterior traversal) and, with ``order="kl"``, rows
    are sorted by the average KL over the batch, largest first (Burgess et
    al. 2018); with ``x=None`` the seed is the prior mean 0 and rows keep
    index order.

    :param model: a model with ``encode``, ``decode`` and ``latent_dim``.
    :param dims: ``"all"`` or a list of dimensions.
    :param span: the range of values swept (in latent units).
    :param int steps: number of values per row.
    :param str order: ``"kl"`` or ``"index"``.
    :param u: the observed context of ``x`` for models whose encoder reads it (iVAE).
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if order not in ("kl", "index"):
        raise ValueError(f"order must be 'kl' or 'index', got {order!r}")
    latent_dim = model.latent_dim
    dims = list(range(latent_dim)) if dims == "all" else [int(d) for d in dims]
    if any(not 0 <= d < latent_dim for d in dims):
        raise ValueError(f"dims must lie in [0, {latent_dim - 1}], got {dims}")
    device = model.device
    kl = None
    if x is not None:
        x = x.to(device)
        one = slice(seed_index, seed_index + 1)
        u = u.to(device) if u is not None else None
        seed = (model.encode(x[one]) if u is None else model.encode(x[one], u[one]))[0][0]
        if order == "kl":
            kl = kl_per_dim(model, x, u)
            dims = sorted(dims, key=lambda d: -float(kl[d]))
    else:
        seed = torch.zeros(latent_dim, device=device)
    values = torch.linspace(span[0], span[1], steps, device=device)
    latents = seed.expand(len(dims), steps, latent_dim).clone()
    for row, d in enumerate(dims):
        latents[row, :, d] = values
    images = model.decode(latents.reshape(-1, latent_dim))
    grid = make_grid(as_images(images), nrow=steps, padding=2, pad_value=0.5)
    return Traversal(grid, dims, values.cpu(), latents.cpu(), kl)
