"""Latent traversals: decode a code while sweeping one unit at a time.

Works for every model through :mod:`pyro_vae.analysis.interface`: the site
(``site="z2"`` for a layer of a hierarchy, the concept code of CausalVAE)
and its traversal units (the first axis of the site's per-example shape).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.utils import make_grid

from pyro_vae.analysis.images import as_images, to_pil
from pyro_vae.analysis.interface import Inputs, TraversalInterface, inputs_to, traversal_interface
from pyro_vae.analysis.kl import kl_per_dim
from pyro_vae.utils.files import atomic_path


@dataclass
class Traversal:
    """Result of :func:`traverse`.

    :ivar grid: the image grid ``(C, H, W)``: one row per traversed unit,
        one column per value.
    :ivar dims: the traversal unit (latent dimension, concept) of each row.
    :ivar values: the values swept, shape ``(len(dims), steps, *shape[1:])``
        (``(len(dims), steps)`` for a vector code).
    :ivar latents: the decoded codes, shape ``(len(dims), steps, *shape)``,
        e.g. ``(len(dims), steps, latent_dim)``.
    :ivar kl: average KL per unit over the batch (summed over a unit's
        elements), used for ordering; ``None`` for a prior traversal.
    :ivar str site: the latent site traversed.
    :ivar images: the decoded expected observations, ``(len(dims) * steps, *obs)``,
        row-major (not clipped).
    """

    grid: torch.Tensor
    dims: list[int]
    values: torch.Tensor
    latents: torch.Tensor
    kl: torch.Tensor | None = None
    site: str = "z"
    images: torch.Tensor | None = None

    @property
    def steps(self) -> int:
        return self.latents.shape[1]


def _check_span(span) -> str | tuple[float, float]:
    if isinstance(span, str):
        if span != "quantiles":
            raise ValueError(f"span must be (low, high) or 'quantiles', got {span!r}")
        return span
    try:
        low, high = (float(v) for v in span)
    except (TypeError, ValueError):
        raise ValueError(f"span must be (low, high) or 'quantiles', got {span!r}") from None
    if not low < high:
        raise ValueError(f"span must have low < high, got {span!r}")
    return low, high


def _seed_inputs(inputs: Inputs | None, index: int, n: int, device) -> dict:
    """Batched inputs of example ``index`` repeated ``n`` times (for decoding)."""
    out = {}
    for key, value in dict(inputs or {}).items():
        if torch.is_tensor(value):
            one = value[index : index + 1]
            one = one.to(device) if device is not None else one
            value = one.expand(n, *one.shape[1:])
        out[key] = value
    return out


@torch.no_grad()
def traverse(
    model,
    x: torch.Tensor | None = None,
    dims: str | Sequence[int] = "all",
    span: tuple[float, float] | str = (-3.0, 3.0),
    steps: int = 10,
    order: str = "kl",
    seed_index: int = 0,
    *,
    site: str | None = None,
    inputs: Inputs | None = None,
    quantiles: tuple[float, float] = (0.05, 0.95),
    interface: TraversalInterface | None = None,
) -> Traversal:
    """Traverse the units of a latent site around a seed code.

    With a batch ``x`` the seed code is the posterior mean of
    ``x[seed_index]`` (a posterior traversal) and, with ``order="kl"``, rows
    are sorted by the average KL over the batch, largest first (Burgess et
    al. 2018, "Understanding disentangling in beta-VAE", Fig. 2/4: latents
    ordered by their average KL); with ``x=None`` the seed is the prior mean
    (a prior traversal) and rows keep the order of ``dims``.

    Each row sets its unit to the swept values and keeps every other unit at
    the seed.  For a hierarchy the other layers follow from the model (see
    :mod:`pyro_vae.analysis.interface`).

    :param model: a model/guide pair (any :class:`~pyro_vae.models.LatentVariableModel`).
    :param x: a batch of observations, or ``None`` for a prior traversal.
    :param dims: ``"all"`` or a list of units (latent dimensions, concepts).
    :param span: ``(low, high)`` in latent units, or ``"quantiles"``: per
        element, the ``quantiles`` of the posterior means over the batch (the
        aggregate posterior's range; needs ``x``).
    :param int steps: number of values per row.
    :param str order: ``"kl"`` or ``"index"``.
    :param int seed_index: which example of ``x`` (and ``inputs``) seeds the code.
    :param str site: the latent site (a layer ``"z2"`` of a hierarchy); default
        the model's latent site.
    :param inputs: further batched arguments of model and guide, e.g. ``{"u": u}``.
    :param quantiles: the lower and upper quantile of ``span="quantiles"``.
    :param interface: a ready :class:`TraversalInterface` (then ``site`` is ignored).
    :returns: a :class:`Traversal`.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if order not in ("kl", "index"):
        raise ValueError(f"order must be 'kl' or 'index', got {order!r}")
    span = _check_span(span)
    if span == "quantiles":
        if x is None:
            raise ValueError("span='quantiles' needs a batch x (the aggregate posterior)")
        if not 0.0 <= quantiles[0] < quantiles[1] <= 1.0:
            raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {quantiles}")
    if x is not None and not 0 <= seed_index < x.shape[0]:
        raise ValueError(f"seed_index {seed_index} is outside the batch of {x.shape[0]}")
    seed_inputs = _seed_inputs(inputs, seed_index, 1, None) or None
    interface = interface or traversal_interface(model, site, seed_inputs)
    units, shape = interface.units, interface.shape
    dims = list(range(units)) if isinstance(dims, str) and dims == "all" else dims
    if isinstance(dims, str):
        raise ValueError(f"dims must be 'all' or a list of integers, got {dims!r}")
    dims = [int(d) for d in dims]
    if not dims or any(not 0 <= d < units for d in dims):
        raise ValueError(
            f"dims must be a non-empty list in [0, {units - 1}] "
            f"({interface.unit}s of site {interface.site!r}), got {dims}"
        )
    device = getattr(model, "device", torch.device("cpu"))
    kl = None
    if x is not None:
        x = x.to(device)
        batch_inputs = inputs_to(inputs, device)
        loc, _ = interface.encode(x, **batch_inputs)
        seed = loc[seed_index]
        if order == "kl":
            per_element = kl_per_dim(model, x, inputs=batch_inputs, interface=interface)
            kl = per_element.reshape(units, -1).sum(1)
            dims = sorted(dims, key=lambda d: -float(kl[d]))
    else:
        seed = interface.prior_mean(1, **_seed_inputs(inputs, seed_index, 1, device))[0]
    seed = seed.reshape(shape)
    ramp = torch.linspace(0.0, 1.0, steps, device=device).reshape(steps, *([1] * (len(shape) - 1)))
    if span == "quantiles":
        q = torch.tensor(quantiles, device=device, dtype=loc.dtype)
        low, high = torch.quantile(loc.reshape(loc.shape[0], -1), q, dim=0).reshape(2, *shape)
        values = torch.stack([low[d] + (high[d] - low[d]) * ramp for d in dims])
    else:
        row = span[0] + (span[1] - span[0]) * ramp.expand(steps, *shape[1:])
        values = row.expand(len(dims), *row.shape).clone()
    latents = seed.expand(len(dims), steps, *shape).clone()
    for r, d in enumerate(dims):
        latents[r, :, d] = values[r]
    n = len(dims) * steps
    images = interface.decode(
        latents.reshape(n, *shape), **_seed_inputs(inputs, seed_index, n, device)
    )
    grid = make_grid(as_images(images), nrow=steps, padding=2, pad_value=0.5)
    return Traversal(
        grid,
        dims,
        values.cpu(),
        latents.cpu(),
        None if kl is None else kl.cpu(),
        interface.site,
        images.detach().cpu(),
    )


def traversal_frames(traversal: Traversal, bounce: bool = True) -> list[torch.Tensor]:
    """The frames of an animated traversal: frame ``t`` shows every row's image at
    step ``t``, tiled in a near-square grid; with ``bounce`` the sweep goes
    forth and back."""
    if traversal.images is None:
        raise ValueError("the traversal holds no decoded images")
    rows, steps = len(traversal.dims), traversal.steps
    images = as_images(traversal.images)
    images = images.reshape(rows, steps, *images.shape[1:])
    nrow = math.ceil(math.sqrt(rows))
    order = list(range(steps)) + (list(range(steps - 2, 0, -1)) if bounce else [])
    return [make_grid(images[:, t], nrow=nrow, padding=2, pad_value=0.5) for t in order]


def traversal_gif(
    traversal: Traversal, path: str | Path, duration_ms: int = 120, bounce: bool = True
) -> Path:
    """Save an animated GIF cycling through the columns of ``traversal`` (every
    traversed unit moves at once, one tile per unit), atomically.

    :param int duration_ms: display time of each frame.
    :param bool bounce: sweep forth and back instead of jumping to the start.
    """
    frames = [to_pil(frame) for frame in traversal_frames(traversal, bounce)]
    path = Path(path)
    with atomic_path(path) as tmp:
        frames[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=duration_ms,
            loop=0,
        )
    return path
