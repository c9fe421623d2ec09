"""How the analysis tools reach one latent site of any model.

Traversals, KL per dimension and the report need four things about a latent
site: its per-example shape, the posterior ``(loc, scale)`` of a batch, the
expected observation for a given value of the site, and the prior mean (the
seed of a prior traversal).  A :class:`TraversalInterface` bundles them.

**The hook.** A model may define ``traversal_interface(site)`` returning a
:class:`TraversalInterface` (or ``None`` to fall back to the generic one)::

    class MyModel(LatentVariableModel):
        def traversal_interface(self, site):
            if site == "z2":
                return TraversalInterface("z2", (4,), encode=..., decode=..., prior_mean=...)
            return None

**The generic interface** (what every model gets without the hook) reads the
model's own Pyro programs, relying only on the site-name contract of
:mod:`pyro_vae.sites`:

* ``encode``: the guide is run on ``x`` with every latent site set to the
  mean of its distribution (:class:`MeanMessenger`); the site's distribution
  gives ``loc = fn.mean`` and ``scale = fn.stddev``;
* ``decode``: the model is run with ``x=None``, the site conditioned on the
  given value and every other latent set to its (conditional) mean; the
  observation site's ``fn.mean`` is the expected observation.  For a
  hierarchy this decodes ``z2`` through the mean of ``p(z1 | z2)``;
* ``prior_mean``: the model run the same way with nothing conditioned;
* ``kl``: a guide trace replayed through the model; per element of the site
  ``KL(q || p)`` in closed form when both distributions are registered with
  :func:`torch.distributions.kl_divergence` (e.g. Normal/Normal), else the
  single-sample estimate ``log q(z) - log p(z)`` averaged over
  ``num_particles`` draws.  In a hierarchy ``p(z1 | z2)`` is evaluated at a
  sampled ``z2``, so the KL of a lower layer is a Monte Carlo estimate.

**Traversal units** index the first axis of the site's shape: the latent
dimensions of a vector code ``(D,)``; the concepts of a CausalVAE code of
shape ``(concepts, concept_dim)``, where a traversal sets every element of
the concept (the paper's do-intervention on ``z_i``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyro.poutine as poutine
import torch
from pyro.distributions.torch_distribution import ExpandedDistribution
from pyro.poutine.messenger import Messenger
from pyro.poutine.util import site_is_subsample
from torch.distributions import Independent, kl_divergence

from pyro_vae.sites import DATA_PLATE, LATENT, OBSERVED

Inputs = Mapping[str, Any]


@dataclass
class TraversalInterface:
    """Access to one local latent site of a model.

    :ivar str site: the latent site's name.
    :ivar tuple shape: shape of the site per example; traversal units index
        ``shape[0]``.
    :ivar encode: ``encode(x, **inputs) -> (loc, scale)``, each ``(B, *shape)``:
        the posterior mean and standard deviation of the site.
    :ivar decode: ``decode(z, **inputs) -> (B, *observation_shape)``: the
        expected observation for site value ``z`` of shape ``(B, *shape)``.
    :ivar prior_mean: ``prior_mean(batch_size, **inputs) -> (B, *shape)``.
    :ivar kl: ``kl(x, **inputs) -> (*shape)``: the batch average of
        KL(q || p) per element of the site, or ``None`` for the generic
        trace-based estimate.
    :ivar str unit: what a traversal unit is called in plots (``"dim"``,
        ``"concept"``).
    """

    site: str
    shape: tuple[int, ...]
    encode: Callable[..., tuple[torch.Tensor, torch.Tensor]]
    decode: Callable[..., torch.Tensor]
    prior_mean: Callable[..., torch.Tensor]
    kl: Callable[..., torch.Tensor] | None = None
    unit: str = "dim"

    @property
    def units(self) -> int:
        """Number of traversal units (``shape[0]``)."""
        return self.shape[0]


def inputs_to(inputs: Inputs | None, device) -> dict[str, Any]:
    """Further model/guide arguments with their tensors moved to ``device``."""
    return {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in dict(inputs or {}).items()}


class MeanMessenger(Messenger):
    """Set every unobserved sample site to the mean of its distribution.

    Sites already given a value by a handler inside this one (``condition``,
    ``replay``) are left alone, as are distributions without a mean.
    """

    def _pyro_sample(self, msg: dict) -> None:
        if msg["is_observed"] or msg["done"] or msg["value"] is not None:
            return
        if not isinstance(msg["fn"], torch.distributions.Distribution):
            return  # e.g. a plate's subsample site
        try:
            value = msg["fn"].mean
        except NotImplementedError:
            return
        msg["value"] = value.expand(msg["fn"].shape())
        msg["done"] = True


def _program(model, name: str) -> Callable:
    program = getattr(model, name, None)
    if not callable(program):
        raise TypeError(
            f"{type(model).__name__} has no {name}() program; the analysis tools need a "
            "pyro_vae model/guide pair (a LatentVariableModel)"
        )
    return program


def data_plate_name(model) -> str:
    """The name of the model's data plate (``"data"`` by default)."""
    return getattr(model, "data_plate", DATA_PLATE)


def example_axis(node: dict, plate: str) -> int | None:
    """Axis of a traced site's value indexed by the data plate, or ``None`` (global site)."""
    for frame in node["cond_indep_stack"]:
        if frame.name == plate and frame.dim is not None:
            return node["value"].dim() - len(node["fn"].event_shape) + frame.dim
    return None


def examples_first(value: torch.Tensor, node: dict, plate: str) -> torch.Tensor:
    """Move the data-plate axis of a local site's value to the front."""
    axis = example_axis(node, plate)
    if axis is None:
        raise ValueError(f"site {node['name']!r} is global (outside the {plate!r} plate)")
    return value.movedim(axis, 0)


def latent_sites(
    trace: poutine.Trace, plate: str = DATA_PLATE, exclude: tuple[str, ...] = (OBSERVED,)
) -> dict[str, bool]:
    """Unobserved sample sites of a trace in execution order, mapped to ``True``
    when local (inside the data plate) and ``False`` when global.

    :param exclude: observation sites to leave out even when unobserved (the
        model run with ``x=None`` samples ``x``).
    """
    return {
        name: example_axis(node, plate) is not None
        for name, node in trace.nodes.items()
        if node["type"] == "sample"
        and not node["is_observed"]
        and name not in exclude
        and not site_is_subsample(node)
        and not node["infer"].get("_do_not_trace")
    }


def elementwise(fn):
    """Strip ``Independent`` and ``expand`` wrappers: the element-wise distribution."""
    while isinstance(fn, Independent | ExpandedDistribution):
        fn = fn.base_dist
    return fn


def prior_trace(model, batch_size: int = 1, inputs: Inputs | None = None) -> poutine.Trace:
    """Trace of ``model.model(x=None, batch_size=B)`` with latents at their means."""
    program = _program(model, "model")
    with torch.no_grad():
        return poutine.trace(MeanMessenger()(program)).get_trace(
            None, batch_size=batch_size, **dict(inputs or {})
        )


def default_site(model, inputs: Inputs | None = None) -> str:
    """The site traversed when none is named: ``model.latent_site`` when the
    model declares one, else ``"z"``, else the first local latent site."""
    declared = getattr(model, "latent_site", None)
    if isinstance(declared, str):
        return declared
    sites = [
        n
        for n, local in latent_sites(prior_trace(model, 1, inputs), data_plate_name(model)).items()
        if local
    ]
    if LATENT in sites:
        return LATENT
    if not sites:
        raise ValueError(f"{type(model).__name__}.model has no local latent site to traverse")
    return sites[0]


def trace_interface(
    model,
    site: str,
    inputs: Inputs | None = None,
    obs_site: str = OBSERVED,
    num_particles: int = 1,
) -> TraversalInterface:
    """The generic, trace-based :class:`TraversalInterface` (see the module docs)."""
    plate = data_plate_name(model)
    model_fn, guide_fn = _program(model, "model"), _program(model, "guide")
    trace = prior_trace(model, 1, inputs)
    local = latent_sites(trace, plate, (obs_site,))
    if site not in local:
        found = ", ".join(repr(s) for s in local) or "none"
        raise ValueError(
            f"{type(model).__name__} has no latent site {site!r}; its latent sites are {found}"
        )
    if not local[site]:
        raise ValueError(
            f"site {site!r} is global (outside the {plate!r} plate); traversals and KL per "
            "dimension are for local, per-example latents"
        )
    node = trace.nodes[site]
    axis = example_axis(node, plate)
    raw_shape = tuple(examples_first(node["value"], node, plate).shape[1:])
    shape = raw_shape or (1,)

    def as_site(value: torch.Tensor) -> torch.Tensor:
        return value.reshape(value.shape[0], *shape)

    def encode(x: torch.Tensor, **kw) -> tuple[torch.Tensor, torch.Tensor]:
        tr = poutine.trace(MeanMessenger()(guide_fn)).get_trace(x, **kw)
        node = tr.nodes.get(site)
        if node is None:
            raise ValueError(f"the guide of {type(model).__name__} has no site {site!r}")
        loc = examples_first(node["fn"].mean.expand(node["fn"].shape()), node, plate)
        scale = examples_first(node["fn"].stddev.expand(node["fn"].shape()), node, plate)
        return as_site(loc), as_site(scale)

    def decode(z: torch.Tensor, **kw) -> torch.Tensor:
        value = z.reshape(z.shape[0], *raw_shape).movedim(0, axis)
        conditioned = poutine.condition(model_fn, data={site: value})
        tr = poutine.trace(MeanMessenger()(conditioned)).get_trace(
            None, batch_size=z.shape[0], **kw
        )
        if obs_site not in tr.nodes:
            raise ValueError(f"the model has no observation site {obs_site!r}")
        fn = tr.nodes[obs_site]["fn"]
        return fn.mean.expand(fn.shape())

    def prior_mean(batch_size: int = 1, **kw) -> torch.Tensor:
        tr = prior_trace(model, batch_size, kw)
        return as_site(examples_first(tr.nodes[site]["value"], tr.nodes[site], plate))

    def kl(x: torch.Tensor, **kw) -> torch.Tensor:
        total = 0.0
        for _ in range(num_particles):
            guide_tr = poutine.trace(guide_fn).get_trace(x, **kw)
            model_tr = poutine.trace(poutine.replay(model_fn, trace=guide_tr)).get_trace(x, **kw)
            q_node, p_node = guide_tr.nodes[site], model_tr.nodes[site]
            q, p = elementwise(q_node["fn"]), elementwise(p_node["fn"])
            value = q_node["value"]
            try:
                per_element = kl_divergence(q, p)
            except NotImplementedError:
                per_element = q.log_prob(value) - p.log_prob(value)
            if per_element.dim() < value.dim():
                raise ValueError(
                    f"the distributions at site {site!r} are not element-wise (e.g. a "
                    "MultivariateNormal); give the model a traversal_interface(site) with kl"
                )
            per_element = per_element.expand(value.shape)
            total = total + examples_first(per_element, q_node, plate).mean(0)
        return (total / num_particles).reshape(shape)

    return TraversalInterface(site, shape, encode, decode, prior_mean, kl)


def traversal_interface(
    model,
    site: str | None = None,
    inputs: Inputs | None = None,
    obs_site: str = OBSERVED,
    num_particles: int = 1,
) -> TraversalInterface:
    """The :class:`TraversalInterface` of ``model`` at latent ``site``.

    Uses ``model.traversal_interface(site)`` when the model defines it and it
    returns an interface, else the generic trace-based one (module docs).

    :param model: a model/guide pair (``model.model``, ``model.guide``).
    :param str site: the latent site; ``None`` for :func:`default_site`.
    :param inputs: extra keyword arguments of model and guide (e.g. ``{"u": u}``)
        needed to run the prior (batch of one, for discovering the site).
    :param str obs_site: the observation site (``"x"``).
    :param int num_particles: guide draws averaged by the generic KL.
    """
    site = site or default_site(model, inputs)
    hook = getattr(model, "traversal_interface", None)
    if callable(hook):
        interface = hook(site)
        if interface is not None:
            if not isinstance(interface, TraversalInterface):
                raise TypeError(
                    f"{type(model).__name__}.traversal_interface({site!r}) must return a "
                    f"TraversalInterface or None, got {type(interface).__name__}"
                )
            return interface
    return trace_interface(model, site, inputs, obs_site, num_particles)
