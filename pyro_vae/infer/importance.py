"""Importance-weighted estimate of the log-likelihood for any model/guide pair.

Burda et al. 2016, "Importance Weighted Autoencoders", eq. 8:

.. math::

    \\log p(x) \\ge \\mathcal L_k(x)
      = \\mathbb E_{z_1..z_k \\sim q(z|x)}
        \\Big[\\log \\frac1k \\sum_{j=1}^k \\frac{p(x, z_j)}{q(z_j \\mid x)}\\Big],

a lower bound that increases with ``k`` and tends to ``log p(x)``
(``L_1`` is the ELBO).  :func:`importance_log_likelihood` draws the ``k``
particles in chunks under a vectorised particle plate (the guide is traced,
the model replayed against it), sums ``log p - log q`` over **every** sample
site of the two traces -- all latent layers, observations, ``pyro.factor``
sites and global latents -- and combines the chunks exactly::

    log (1/k) sum_j w_j = logsumexp_c [ logsumexp_{j in chunk c} log w_j ] - log k

so memory is bounded by one chunk.

Per-example values follow the library's convention (:mod:`pyro_vae.infer.terms`):
local terms per example; the global terms (global latents' log p - log q,
factors and observations outside the data plate) divided by the data plate's
size N and added to every example's log-weight.  Without global sites this is
exactly eq. 8 per example; with them it is that per-example share (with a
single example it is again exact).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pyro
import pyro.poutine as poutine
import torch
from pyro.poutine import Trace
from pyro.poutine.util import prune_subsample_sites

from pyro_vae.sites import DATA_PLATE

#: name of the plate over importance samples
PARTICLE_PLATE = "_importance_particles"


def max_plate_nesting(model: Callable, guide: Callable, *args: Any, **kwargs: Any) -> int:
    """Deepest vectorised plate nesting of ``guide`` and ``model`` (one dry run)."""
    with torch.no_grad(), poutine.block():
        guide_trace = poutine.trace(guide).get_trace(*args, **kwargs)
        model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(
            *args, **kwargs
        )
    depth = 0
    for trace in (guide_trace, model_trace):
        for site in trace.nodes.values():
            if site["type"] == "sample":
                for frame in site["cond_indep_stack"]:
                    if frame.vectorized:
                        depth = max(depth, -frame.dim)
    return depth


def _vectorized(fn: Callable, num_particles: int, dim: int) -> Callable:
    def wrapped(*args, **kwargs):
        with pyro.plate(PARTICLE_PLATE, num_particles, dim=dim):
            return fn(*args, **kwargs)

    return wrapped


def particle_traces(
    model: Callable,
    guide: Callable,
    *args: Any,
    num_particles: int,
    plate_nesting: int,
    **kwargs: Any,
) -> tuple[Trace, Trace, int]:
    """Trace ``guide`` under a particle plate of ``num_particles`` and replay
    ``model`` against it (subsample sites pruned).

    :param int plate_nesting: the model's plate nesting (see :func:`max_plate_nesting`);
        the particle plate sits just left of it.
    :returns: ``(model_trace, guide_trace, particle_dim)``; every site's batch
        shape has the particles at ``particle_dim``.
    """
    dim = -(plate_nesting + 1)
    guide_trace = poutine.trace(_vectorized(guide, num_particles, dim)).get_trace(*args, **kwargs)
    model_trace = poutine.trace(
        poutine.replay(_vectorized(model, num_particles, dim), trace=guide_trace)
    ).get_trace(*args, **kwargs)
    return prune_subsample_sites(model_trace), prune_subsample_sites(guide_trace), dim


def _data_frame(site: dict, data_plate: str):
    for frame in site["cond_indep_stack"]:
        if frame.name == data_plate:
            return frame
    return None


def _site_log_prob(site: dict) -> torch.Tensor:
    lp = site["fn"].log_prob(site["value"])
    mask = site["mask"]
    if mask is not None and mask is not True:
        lp = torch.where(mask, lp, lp.new_zeros(())) if mask is not False else lp * 0.0
    scale = site["scale"]
    return lp if isinstance(scale, int | float) and scale == 1.0 else lp * scale


def log_weights(
    model_trace: Trace,
    guide_trace: Trace,
    particle_dim: int,
    data_plate: str = DATA_PLATE,
) -> torch.Tensor:
    """``log p(x, z_j) - log q(z_j | x)`` per particle and example, shape ``(k, B)``.

    Local sites (inside the plate ``data_plate``) contribute per example, with
    the plate's subsample scale divided out; global sites contribute their sum
    divided by the plate's full size N to every example.
    """
    local: list[tuple[torch.Tensor, Any]] = []
    global_terms: list[torch.Tensor] = []
    for sign, trace in ((1.0, model_trace), (-1.0, guide_trace)):
        for site in trace.nodes.values():
            if site["type"] != "sample" or (sign < 0 and site["is_observed"]):
                continue
            lp = _site_log_prob(site) * sign
            while lp.dim() < -particle_dim:
                lp = lp.unsqueeze(0)
            frame = _data_frame(site, data_plate)
            if frame is None:
                global_terms.append(lp.reshape(lp.shape[0], -1).sum(-1))
            else:
                local.append((lp, frame))
    if not local:
        raise ValueError(
            f"no sample site is inside a plate named {data_plate!r}; wrap the per-example "
            f"sites in pyro.plate({data_plate!r}, ...) or pass data_plate="
        )
    frame = local[0][1]
    batch = int(frame.size)
    full = int(frame.full_size) if frame.full_size else batch
    particles = max(lp.shape[0] for lp, _ in local)
    total = torch.zeros(particles, batch, device=local[0][0].device)
    for lp, frame in local:
        lp = lp.movedim(frame.dim, 1)
        lp = lp.expand(particles, batch, *lp.shape[2:]).reshape(particles, batch, -1).sum(-1)
        total = total + lp * (batch / full)
    for g in global_terms:
        total = total + (g / full).expand(particles)[:, None]
    return total


def _batched(x: torch.Tensor, kwargs: dict[str, Any], size: int) -> Iterator[tuple]:
    n = x.shape[0]
    for start in range(0, n, size):
        stop = min(start + size, n)
        part = {
            k: v[start:stop] if torch.is_tensor(v) and v.dim() and v.shape[0] == n else v
            for k, v in kwargs.items()
        }
        yield x[start:stop], part


def _warn_if_batch_norm_trains(model: Callable) -> None:
    owner = getattr(model, "__self__", None)
    if isinstance(owner, torch.nn.Module):
        for module in owner.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.training:
                warnings.warn(
                    "the model has batch-norm layers in training mode: the importance weights "
                    "then use batch statistics over all particles; call model.eval() first",
                    stacklevel=3,
                )
                return


@torch.no_grad()
def importance_log_likelihood(
    model: Callable,
    guide: Callable,
    x: torch.Tensor,
    num_samples: int = 5000,
    chunk: int = 500,
    *,
    batch_size: int | None = None,
    data_plate: str = DATA_PLATE,
    **kwargs: Any,
) -> torch.Tensor:
    """Importance-weighted log-likelihood ``L_k(x)`` per example (Burda et al. 2016, eq. 8).

    ``model(x, **kwargs)`` and ``guide(x, **kwargs)`` are any Pyro model/guide
    pair with per-example sites in ``pyro.plate(data_plate)``, e.g.
    ``importance_log_likelihood(vae.model, vae.guide, x)``.  Models with batch
    norm must be in evaluation mode (``model.eval()``).

    Example: with the exact posterior as guide every importance weight is
    ``p(x)``, so any ``k`` gives the exact log-likelihood::

        >>> import math, pyro, torch
        >>> import pyro.distributions as dist
        >>> from pyro_vae.infer import importance_log_likelihood
        >>> def model(x):  # z ~ N(0, 1), x ~ N(z, 1), so p(x) = N(0, 2)
        ...     with pyro.plate("data", x.shape[0]):
        ...         z = pyro.sample("z", dist.Normal(0.0, 1.0))
        ...         pyro.sample("x", dist.Normal(z, 1.0), obs=x)
        >>> def guide(x):  # p(z | x) = N(x / 2, 1 / 2)
        ...     with pyro.plate("data", x.shape[0]):
        ...         pyro.sample("z", dist.Normal(x / 2, math.sqrt(0.5)))
        >>> x = torch.tensor([0.0, 1.0, -2.0])
        >>> log_px = importance_log_likelihood(model, guide, x, num_samples=10, chunk=4)
        >>> log_px.shape
        torch.Size([3])
        >>> torch.allclose(log_px, dist.Normal(0.0, math.sqrt(2.0)).log_prob(x), atol=1e-5)
        True

    :param x: observations, shape ``(B, ...)``.
    :param int num_samples: importance samples ``k`` per example (the papers: 5000).
    :param int chunk: particles traced at once (memory ~ ``chunk * batch_size``
        copies of the model's per-example tensors).
    :param int batch_size: examples traced at once (default: all of ``x``);
        tensors in ``kwargs`` with ``B`` rows are split alongside ``x``.
    :param str data_plate: the plate over examples.
    :returns: tensor of shape ``(B,)``, in nats.
    """
    if num_samples < 1 or chunk < 1:
        raise ValueError(f"num_samples and chunk must be >= 1, got {num_samples} and {chunk}")
    if not torch.is_tensor(x) or x.dim() == 0:
        raise ValueError("x must be a tensor of observations with a batch dimension")
    batch_size = batch_size or x.shape[0]
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    _warn_if_batch_norm_trains(model)
    nesting = None
    out = []
    for xb, kw in _batched(x, kwargs, batch_size):
        if nesting is None:
            nesting = max_plate_nesting(model, guide, xb, **kw)
        chunk_lse = []
        for start in range(0, num_samples, chunk):
            k = min(chunk, num_samples - start)
            model_trace, guide_trace, dim = particle_traces(
                model, guide, xb, num_particles=k, plate_nesting=nesting, **kw
            )
            weights = log_weights(model_trace, guide_trace, dim, data_plate)
            chunk_lse.append(torch.logsumexp(weights, dim=0))
        out.append(torch.logsumexp(torch.stack(chunk_lse), dim=0) - math.log(num_samples))
    return torch.cat(out)
