"""Image grids of observations and reconstructions, saved atomically."""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import make_grid
from torchvision.utils import save_image as _tv_save_image

from pyro_vae.utils.files import atomic_path


def as_images(x: torch.Tensor) -> torch.Tensor:
    """View a batch of observations as images ``(B, C, H, W)`` clipped to [0, 1]."""
    x = x.detach().float().cpu()
    if x.dim() == 2:  # flat vectors: show square-ish strips
        side = int(round(x.shape[1] ** 0.5))
        x = x.reshape(x.shape[0], 1, side, -1) if side * side == x.shape[1] else x[:, None, None]
    elif x.dim() == 3:
        x = x[:, None]
    return x.clamp(0.0, 1.0)


def save_image(image: torch.Tensor, path: str | Path) -> Path:
    """Save a ``(C, H, W)`` image in [0, 1] as PNG, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        _tv_save_image(image, tmp, format="png")
    return path


@torch.no_grad()
def reconstruction_grid(
    model, x: torch.Tensor, n: int = 8, u: torch.Tensor | None = None
) -> torch.Tensor:
    """Rows of originals above their reconstructions (decoded posterior means).

    :param model: a model with ``reconstruct(x)`` (``reconstruct(x, u)`` when ``u`` is given).
    :param x: a batch of observations; the first ``n`` are shown.
    :param u: the observed context of ``x`` for models whose encoder reads it (iVAE).
    """
    x = x[:n].to(model.device)
    recon = model.reconstruct(x) if u is None else model.reconstruct(x, u[:n].to(model.device))
    images = torch.cat([as_images(x), as_images(recon)])
    return make_grid(images, nrow=x.shape[0], padding=2, pad_value=0.5)
