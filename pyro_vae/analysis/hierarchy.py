"""Per-layer and per-unit diagnostics of (hierarchical) latent variable models.

Works on any model/guide pair of the library -- one site ``"z"`` or a
hierarchy ``"z1" .. "zL"`` -- by tracing the guide under a particle plate and
replaying the model (:func:`pyro_vae.infer.importance.particle_traces`):

* :func:`kl_per_unit` / :func:`kl_per_layer`: ``E_x E_q[KL(q(z_i | .) || p(z_i | .))]``
  per unit and per layer, the KL terms of the ELBO (Sonderby et al. 2016,
  Fig. 4 plots them per layer);
* :func:`posterior_means`: ``E_q[z_i | x]``; for a layer whose guide depends on
  sampled parents (the ladder guide's ``z_i`` given ``z_{i+1}``) it is the
  average over ``num_samples`` parent draws of the guide's conditional mean
  (a Rao-Blackwellised estimate); for the top layer and for single-layer
  VAEs it is exact.  Its Monte Carlo error adds about
  ``E_x Var_parents(mu_q) / num_samples`` to the activity of a lower layer,
  so raise ``num_samples`` when activities are close to the threshold;
* :func:`active_units`: Burda et al. 2016 (active units), unit ``u`` is active when
  ``A_u = Cov_x(E_{q(z|x)}[z_u]) > 0.01``.

All functions run the model in evaluation mode (``model.eval()``: batch norm
with running statistics) and restore its mode afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pyro.distributions as dist
import torch
from torch.distributions import kl_divergence

from pyro_vae.infer.importance import max_plate_nesting, particle_traces
from pyro_vae.sites import DATA_PLATE


@contextlib.contextmanager
def _evaluating(model: torch.nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _natural(name: str) -> tuple[str, int]:
    """Sort key putting ``z2`` before ``z10``: hierarchies come out as ``z1 .. zL``."""
    stem = name.rstrip("0123456789")
    return stem, int(name[len(stem) :] or -1)


def _local_latents(model_trace, data_plate: str) -> list[str]:
    """Local latent sites of the model, in natural order (``z1 .. zL``)."""
    names = [
        name
        for name, site in model_trace.nodes.items()
        if site["type"] == "sample"
        and not site["is_observed"]
        and not isinstance(site["fn"], dist.Unit)
        and any(f.name == data_plate for f in site["cond_indep_stack"])
    ]
    return sorted(names, key=_natural)


def _unwrap(fn):
    while isinstance(fn, dist.Independent | torch.distributions.Independent):
        fn = fn.base_dist
    return fn


def _traces(model, x: torch.Tensor, num_samples: int, batch_size: int):
    """Yield ``(model_trace, guide_trace, particle_dim)`` per block of examples."""
    if num_samples < 1 or batch_size < 1:
        raise ValueError(
            f"num_samples and batch_size must be >= 1, got {num_samples} and {batch_size}"
        )
    nesting = None
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size].to(model.device)
        if nesting is None:
            nesting = max_plate_nesting(model.model, model.guide, xb)
        traces = particle_traces(
            model.model, model.guide, xb, num_particles=num_samples, plate_nesting=nesting
        )
        yield traces


def _particles_and_examples(
    value: torch.Tensor, site: dict, particle_dim: int, data_plate: str
) -> torch.Tensor:
    """Reshape a per-site tensor (batch shape + event shape) to ``(particles, B, -1)``."""
    event_dim = site["fn"].event_dim
    batch_dims = value.dim() - event_dim
    if batch_dims < -particle_dim:
        value = value.reshape((1,) * (-particle_dim - batch_dims) + tuple(value.shape))
    frame = next(f for f in site["cond_indep_stack"] if f.name == data_plate)
    value = value.movedim(-particle_dim + frame.dim, 1)
    return value.reshape(value.shape[0], value.shape[1], -1)


@torch.no_grad()
def kl_per_unit(
    model,
    x: torch.Tensor,
    num_samples: int = 10,
    batch_size: int = 256,
    data_plate: str = DATA_PLATE,
) -> dict[str, torch.Tensor]:
    """``E_x E_q[KL(q(z_u | parents, x) || p(z_u | parents))]`` for every unit of
    every local latent site, ``{site: (dim,)}``.

    Closed form per unit when the guide and model distributions of a site
    factorise over units and :func:`~torch.distributions.kl_divergence` knows
    the pair (Gaussians), else the Monte Carlo estimate ``log q - log p`` per
    unit; parents are drawn from the guide (``num_samples`` draws per example).

    :param model: a model/guide pair with ``model``, ``guide`` and ``device``.
    :param x: observations ``(N, ...)``.
    :raises ValueError: a site's distributions do not factorise over units
        (use :func:`kl_per_layer`).
    """
    sums: dict[str, torch.Tensor] = {}
    with _evaluating(model):
        for model_trace, guide_trace, pdim in _traces(model, x, num_samples, batch_size):
            for name in _local_latents(model_trace, data_plate):
                q, p = guide_trace.nodes[name]["fn"], model_trace.nodes[name]["fn"]
                value = guide_trace.nodes[name]["value"]
                q0, p0 = _unwrap(q), _unwrap(p)
                if q0.event_shape or p0.event_shape:
                    raise ValueError(
                        f"site {name!r}: its distributions do not factorise over units; "
                        "use kl_per_layer"
                    )
                try:
                    kl = kl_divergence(q0, p0)
                except NotImplementedError:
                    kl = q0.log_prob(value) - p0.log_prob(value)
                kl = _particles_and_examples(
                    kl.expand(value.shape), guide_trace.nodes[name], pdim, data_plate
                )
                unit = kl.mean(0).sum(0)  # mean over particles, sum over examples
                sums[name] = sums[name] + unit if name in sums else unit
    if not sums:
        raise ValueError(f"the model has no local latent site in plate {data_plate!r}")
    return {name: (value / x.shape[0]).cpu() for name, value in sums.items()}


def kl_per_layer(
    model,
    x: torch.Tensor,
    num_samples: int = 10,
    batch_size: int = 256,
    data_plate: str = DATA_PLATE,
) -> dict[str, float]:
    """Average KL of each local latent site (the sum of :func:`kl_per_unit`), in nats."""
    per_unit = kl_per_unit(model, x, num_samples, batch_size, data_plate)
    return {name: float(kl.sum()) for name, kl in per_unit.items()}


@torch.no_grad()
def posterior_means(
    model,
    x: torch.Tensor,
    num_samples: int = 50,
    batch_size: int = 256,
    data_plate: str = DATA_PLATE,
) -> dict[str, torch.Tensor]:
    """``E_q[z | x]`` of every local latent site, ``{site: (N, dim)}`` (see the module
    docstring for the Rao-Blackwellised estimate used for layers with parents)."""
    blocks: dict[str, list[torch.Tensor]] = {}
    with _evaluating(model):
        for model_trace, guide_trace, pdim in _traces(model, x, num_samples, batch_size):
            for name in _local_latents(model_trace, data_plate):
                site = guide_trace.nodes[name]
                try:
                    mean = site["fn"].mean.expand(site["value"].shape)
                except NotImplementedError:
                    mean = site["value"]
                mean = _particles_and_examples(mean, site, pdim, data_plate).mean(0)
                blocks.setdefault(name, []).append(mean)
    if not blocks:
        raise ValueError(f"the model has no local latent site in plate {data_plate!r}")
    return {name: torch.cat(parts).cpu() for name, parts in blocks.items()}


@dataclass
class ActiveUnits:
    """Result of :func:`active_units`.

    :ivar activity: ``{site: A_u}``, the variance over ``x`` of ``E_q[z_u | x]`` per unit.
    :ivar threshold: a unit is active when ``A_u > threshold``.
    """

    activity: dict[str, torch.Tensor]
    threshold: float

    @property
    def active(self) -> dict[str, torch.Tensor]:
        """``{site: boolean mask of active units}``."""
        return {name: a > self.threshold for name, a in self.activity.items()}

    @property
    def counts(self) -> dict[str, int]:
        """``{site: number of active units}``."""
        return {name: int(mask.sum()) for name, mask in self.active.items()}

    @property
    def sizes(self) -> dict[str, int]:
        """``{site: number of units}``."""
        return {name: int(a.numel()) for name, a in self.activity.items()}


def active_units(
    model,
    x: torch.Tensor,
    threshold: float = 0.01,
    num_samples: int = 50,
    batch_size: int = 256,
    data_plate: str = DATA_PLATE,
) -> ActiveUnits:
    """Active units per layer (Burda et al. 2016): ``A_u = Cov_x(E_q[z_u | x])``
    over the examples ``x``, active when ``A_u > threshold`` (the paper: 0.01).

    :param x: observations ``(N, ...)``, ``N >= 2``.
    :param int num_samples: parent draws per example for layers with parents
        (see :func:`posterior_means`).
    """
    if x.shape[0] < 2:
        raise ValueError("active_units needs at least 2 examples to estimate a covariance")
    means = posterior_means(model, x, num_samples, batch_size, data_plate)
    activity = {name: m.var(dim=0) for name, m in means.items()}
    return ActiveUnits(activity, float(threshold))
