"""Image grids of observations, reconstructions and prior samples; PNG output."""

from __future__ import annotations

import io
from pathlib import Path

import pyro.poutine as poutine
import torch
from PIL import Image
from torchvision.utils import make_grid
from torchvision.utils import save_image as _tv_save_image

from pyro_vae.analysis.interface import Inputs, inputs_to
from pyro_vae.sites import OBSERVED
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


def to_pil(image: torch.Tensor) -> Image.Image:
    """A ``(C, H, W)`` image in [0, 1] as a Pillow image (``L`` for one channel,
    ``RGB`` for three)."""
    array = (image.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    if array.shape[0] == 1:
        return Image.fromarray(array[0].numpy())
    if array.shape[0] == 3:
        return Image.fromarray(array.permute(1, 2, 0).contiguous().numpy())
    raise ValueError(f"expected an image with 1 or 3 channels, got shape {tuple(image.shape)}")


def png_bytes(image: torch.Tensor) -> bytes:
    """A ``(C, H, W)`` image in [0, 1] encoded as PNG."""
    buffer = io.BytesIO()
    _tv_save_image(image, buffer, format="png")
    return buffer.getvalue()


def save_image(image: torch.Tensor, path: str | Path) -> Path:
    """Save a ``(C, H, W)`` image in [0, 1] as PNG, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        _tv_save_image(image, tmp, format="png")
    return path


@torch.no_grad()
def reconstruction_grid(
    model, x: torch.Tensor, n: int = 8, inputs: Inputs | None = None
) -> torch.Tensor:
    """Rows of originals above their reconstructions (decoded posterior means).

    :param model: a model with ``reconstruct(x, **inputs)``.
    :param x: a batch of observations; the first ``n`` are shown.
    :param inputs: further batched arguments of the encoder, e.g. ``{"u": u}`` (iVAE).
    """
    x = x[:n].to(model.device)
    kw = {k: (v[:n] if torch.is_tensor(v) else v) for k, v in inputs_to(inputs, x.device).items()}
    recon = model.reconstruct(x, **kw)
    images = torch.cat([as_images(x), as_images(recon)])
    return make_grid(images, nrow=x.shape[0], padding=2, pad_value=0.5)


@torch.no_grad()
def prior_samples(
    model, n: int, inputs: Inputs | None = None, obs_site: str = OBSERVED
) -> torch.Tensor:
    """Expected observations of ``n`` draws from the model's prior program.

    Runs ``model.model(x=None, batch_size=n, **inputs)`` (every latent site,
    local and global, drawn from the prior) and returns the mean of the
    observation distribution, ``(n, *observation_shape)``: the usual picture
    of "samples" of a VAE, without pixel noise.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    trace = poutine.trace(model.model).get_trace(None, batch_size=n, **dict(inputs or {}))
    if obs_site not in trace.nodes:
        raise ValueError(f"the model has no observation site {obs_site!r}")
    fn = trace.nodes[obs_site]["fn"]
    return fn.mean.expand(fn.shape())


def sample_grid(model, n: int = 64, inputs: Inputs | None = None, nrow: int = 8) -> torch.Tensor:
    """An image grid of :func:`prior_samples` (``nrow`` images per row)."""
    return make_grid(
        as_images(prior_samples(model, n, inputs)), nrow=nrow, padding=2, pad_value=0.5
    )
