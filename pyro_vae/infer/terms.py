"""The one shared piece of every objective: per-example terms of a traced ELBO.

:class:`ELBOTerms` takes a guide trace and the model trace replayed against
it, and exposes, per example of the minibatch (shape ``(B,)``):

* :meth:`~ELBOTerms.log_likelihood` -- log p(x | z), summed over all observed
  sites inside the data plate (pixels, labels ``u``/``a``);
* :meth:`~ELBOTerms.log_prior`, :meth:`~ELBOTerms.log_guide` and
  :meth:`~ELBOTerms.kl` of each local latent site (analytic KL when
  :func:`torch.distributions.kl_divergence` knows the pair, else the single
  sample estimate log q - log p);
* :meth:`~ELBOTerms.local_factors` -- ``pyro.factor`` sites inside the plate;

and, as per-example scalars, :meth:`~ELBOTerms.global_term` -- the global
latents' log p - log q and factors/observations outside the data plate,
divided by the data plate's full size N.

**Reporting convention.** All terms are per example: summed over pixels and
latent dimensions, averaged over the batch, in nats.  For a data plate of
full size N (``pyro.plate("data", N, subsample=...)``; N = B when it is not
subsampled) the per-example ELBO is::

    mean_i [ log p(x_i | z_i) + factors_i - sum_sites KL_i ] + global / N

which equals Pyro's ``Trace_ELBO`` (or, with analytic KL,
``TraceMeanField_ELBO``) divided by N on the same traces.  Scales that a
user applies with ``poutine.scale`` are kept; only the plate's subsample
scale N/B is divided out of local terms.
"""

from __future__ import annotations

from functools import cached_property

import pyro.distributions as dist
import torch
from pyro.poutine import Trace
from torch.distributions import kl_divergence

from pyro_vae.sites import DATA_PLATE


def _scale_and_mask(value: torch.Tensor, scale, mask) -> torch.Tensor:
    if mask is not None and mask is not True:
        if mask is False:
            return torch.zeros_like(value)
        value = torch.where(mask, value, value.new_zeros(()))
    if not (isinstance(scale, int | float) and scale == 1.0):
        value = value * scale
    return value


class ELBOTerms:
    """Per-example decomposition of one particle of the ELBO.

    :param pyro.poutine.Trace model_trace: the model replayed against the guide,
        with subsample sites pruned.
    :param pyro.poutine.Trace guide_trace: the guide trace, subsample sites pruned.
    :param str data_plate: the name of the plate over examples.
    """

    def __init__(self, model_trace: Trace, guide_trace: Trace, data_plate: str = DATA_PLATE):
        self.model_trace = model_trace
        self.guide_trace = guide_trace
        self.data_plate = data_plate
        self.local_latents: list[str] = []
        self.global_latents: list[str] = []
        self.local_observed: list[str] = []
        self.global_observed: list[str] = []
        self.local_factor_sites: list[str] = []
        self.global_factor_sites: list[str] = []
        frame = None
        for name, site in model_trace.nodes.items():
            if site["type"] != "sample":
                continue
            site_frame = self._find_frame(site)
            frame = frame or site_frame
            local = site_frame is not None
            if isinstance(site["fn"], dist.Unit):
                (self.local_factor_sites if local else self.global_factor_sites).append(name)
            elif site["is_observed"]:
                (self.local_observed if local else self.global_observed).append(name)
            else:
                if name not in guide_trace.nodes:
                    raise ValueError(
                        f"latent site {name!r} of the model has no site in the guide; "
                        "every latent site must be sampled by the guide"
                    )
                (self.local_latents if local else self.global_latents).append(name)
        for name, site in guide_trace.nodes.items():
            if site["type"] == "sample" and name not in model_trace.nodes:
                raise NotImplementedError(
                    f"guide site {name!r} has no model site; auxiliary guide sites are not "
                    "supported by pyro_vae's losses"
                )
        if frame is None:
            raise ValueError(
                f"no sample site of the model is inside a plate named {data_plate!r}; "
                f"wrap the per-example sites in pyro.plate({data_plate!r}, ...)"
            )
        self.plate_dim: int = frame.dim
        self.batch_size: int = self._batch_size(frame)
        full = frame.full_size
        self.plate_size: int = int(full) if full is not None and full > 0 else self.batch_size
        self._plate_scale = self.plate_size / self.batch_size
        self._cache: dict[tuple[str, str], torch.Tensor] = {}

    # ------------------------------------------------------------------ sites
    def _find_frame(self, site):
        for frame in site["cond_indep_stack"]:
            if frame.name == self.data_plate:
                return frame
        return None

    def _batch_size(self, frame) -> int:
        if frame.size is not None and frame.size > 0:
            return int(frame.size)
        for name in self.local_observed + self.local_latents:
            site = self.model_trace.nodes[name]
            return int(site["fn"].batch_shape[frame.dim])
        raise ValueError(f"cannot infer the batch size of plate {self.data_plate!r}")

    def value(self, name: str) -> torch.Tensor:
        """The sampled value of a latent site (from the guide)."""
        return self.guide_trace.nodes[name]["value"]

    def guide_fn(self, name: str) -> dist.Distribution:
        """The guide's distribution at a site."""
        return self.guide_trace.nodes[name]["fn"]

    def model_fn(self, name: str) -> dist.Distribution:
        """The model's distribution at a site (conditioned on upstream guide samples)."""
        return self.model_trace.nodes[name]["fn"]

    def is_local(self, name: str) -> bool:
        return name in self.local_latents or name in self.local_observed

    # --------------------------------------------------------------- per example
    def per_example(self, site: dict, value: torch.Tensor) -> torch.Tensor:
        """Apply the site's scale and mask, undo the plate's subsample scale and sum
        every dimension except the data plate's, giving shape ``(B,)``."""
        value = _scale_and_mask(value, site["scale"], site["mask"])
        if self._plate_scale != 1.0:
            value = value / self._plate_scale
        dim = self.plate_dim
        if value.dim() < -dim or value.shape[dim] != self.batch_size:
            raise ValueError(
                f"a log-density of shape {tuple(value.shape)} has no batch dimension of size "
                f"{self.batch_size} at dim {dim} (plate {self.data_plate!r}); sample "
                "per-example sites inside the data plate"
            )
        if value.dim() == 1:
            return value
        return value.movedim(dim, 0).reshape(self.batch_size, -1).sum(-1)

    def _log_prob(self, trace_name: str, name: str) -> torch.Tensor:
        key = (trace_name, name)
        if key not in self._cache:
            trace = self.model_trace if trace_name == "model" else self.guide_trace
            site = trace.nodes[name]
            lp = site.get("unscaled_log_prob")
            if lp is None:
                lp = site["fn"].log_prob(site["value"])
            self._cache[key] = self.per_example(site, lp)
        return self._cache[key]

    def log_prior(self, name: str) -> torch.Tensor:
        """log p(z | parents) of a local latent site, per example."""
        return self._log_prob("model", name)

    def log_guide(self, name: str) -> torch.Tensor:
        """log q(z | x, ...) of a local latent site, per example."""
        return self._log_prob("guide", name)

    def kl(self, name: str, analytic: bool = True) -> torch.Tensor:
        """KL(q || p) at a local latent site, per example.

        Analytic (as ``TraceMeanField_ELBO``) when the pair has a registered
        :func:`~torch.distributions.kl_divergence` and ``analytic`` is true;
        otherwise the one-sample estimate log q(z) - log p(z).
        """
        key = ("kl" if analytic else "mc_kl", name)
        if key not in self._cache:
            value = None
            if analytic:
                try:
                    kl = kl_divergence(self.guide_fn(name), self.model_fn(name))
                    value = self.per_example(self.guide_trace.nodes[name], kl)
                except NotImplementedError:
                    value = None
            if value is None:
                value = self.log_guide(name) - self.log_prior(name)
            self._cache[key] = value
        return self._cache[key]

    def local_kl(self, analytic: bool = True, exclude: tuple[str, ...] = ()) -> torch.Tensor:
        """Sum of :meth:`kl` over the local latent sites not in ``exclude``."""
        total = None
        for name in self.local_latents:
            if name in exclude:
                continue
            kl = self.kl(name, analytic)
            total = kl if total is None else total + kl
        return total if total is not None else self._zeros()

    def log_likelihood(self) -> torch.Tensor:
        """log p(x | z): the observed sites inside the data plate, per example."""
        total = self._zeros()
        for name in self.local_observed:
            total = total + self._log_prob("model", name)
        return total

    def local_factors(self) -> torch.Tensor:
        """Sum of ``pyro.factor`` sites inside the data plate, per example."""
        total = self._zeros()
        for name in self.local_factor_sites:
            total = total + self._log_prob("model", name)
        return total

    def global_term(self, analytic: bool = True) -> torch.Tensor:
        """Global contribution to the per-example ELBO: (sum of global
        ``log p - log q``, global observations and global factors) / N."""
        total = torch.zeros((), device=self._device())
        for name in self.global_observed + self.global_factor_sites:
            site = self.model_trace.nodes[name]
            total = total + self._global_sum(site, site["fn"].log_prob(site["value"]))
        for name in self.global_latents:
            guide_site = self.guide_trace.nodes[name]
            model_site = self.model_trace.nodes[name]
            kl = None
            if analytic:
                try:
                    kl = self._global_sum(
                        guide_site, kl_divergence(guide_site["fn"], model_site["fn"])
                    )
                except NotImplementedError:
                    kl = None
            if kl is None:
                value = guide_site["value"]
                kl = self._global_sum(guide_site, guide_site["fn"].log_prob(value))
                kl = kl - self._global_sum(model_site, model_site["fn"].log_prob(value))
            total = total - kl
        return total / self.plate_size

    def _global_sum(self, site: dict, value: torch.Tensor) -> torch.Tensor:
        return _scale_and_mask(value, site["scale"], site["mask"]).sum()

    def _device(self) -> torch.device:
        for trace in (self.guide_trace, self.model_trace):
            for site in trace.nodes.values():
                if site["type"] == "sample" and torch.is_tensor(site["value"]):
                    return site["value"].device
        return torch.device("cpu")

    def _zeros(self) -> torch.Tensor:
        return torch.zeros(self.batch_size, device=self._device())

    @cached_property
    def has_globals(self) -> bool:
        return bool(self.global_latents or self.global_observed or self.global_factor_sites)

    def elbo(self, beta: float = 1.0, analytic: bool = True) -> torch.Tensor:
        """The per-example (beta-)ELBO: mean of log-likelihood + factors - beta * KL,
        plus the global term."""
        local = self.log_likelihood() + self.local_factors() - beta * self.local_kl(analytic)
        value = local.mean()
        if self.has_globals:
            value = value + self.global_term(analytic)
        return value
