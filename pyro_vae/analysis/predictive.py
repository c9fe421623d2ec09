"""Posterior predictive checks: from a fitted Pyro VAE to ArviZ.

:func:`posterior_predictive` draws, for each of ``num_samples`` draws, every
latent of the guide given the observed batch, replays the model against them
with ``x=None`` (so the observation site is *sampled*, not returned as the
data: ``pyro.infer.Predictive`` with a guide would hand back the observed
``x`` at an observed site) and scores the observed data under the same
draw.  The result is an :class:`arviz.InferenceData`:

==================  ==========================================================
group               variables (dims after ``chain``, ``draw``)
==================  ==========================================================
posterior           every latent site of the guide; a local site (inside the
                    data plate) has an ``example`` dim then ``<site>_dim``
                    (``<site>_dim_0``, ``<site>_dim_1``, ... for a site with
                    several event dims, e.g. CausalVAE's concepts x
                    concept_dim); a global site (sVAE's ``pi``, CausalVAE's
                    ``A``) has only ``<site>_dim...``
posterior_predictive ``x`` (``example``, ``channel``, ``height``, ``width`` for
                    images, ``x_dim...`` otherwise); ``mean_intensity``
                    (``example``): the mean of each replicated image;
                    ``pixel_mean`` (``pixel``): each pixel's mean over the
                    batch (flattened)
observed_data       the same three variables without ``chain``/``draw``
log_likelihood      ``x`` (``example``): log p(x_i | z_i^(s)), summed over the
                    pixels; with ``pixel_log_likelihood=True`` also
                    ``x_pixel`` (``example`` and the pixel dims)
constant_data       further batched inputs of model/guide (e.g. ``u``)
==================  ==========================================================

**What is meaningful with amortized local latents.** Each example has its
own latent ``z_i`` and the draws come from the amortized guide q(z_i | x_i),
not from the exact posterior, with no Markov chain:

* ``az.summary`` of a local site summarizes q(z_i | x_i) per example (mean,
  sd, HDI are meaningful); its ``r_hat`` and ESS describe independent draws
  of one "chain" and diagnose nothing about the fit;
* posterior predictive checks of summary statistics (``mean_intensity``,
  ``pixel_mean``; :func:`plot_ppc`, :func:`ppc_table`) are meaningful: they
  ask whether data replicated through the model resemble the data;
* PSIS-LOO (``az.loo``) treats each example as a left-out unit.  Leaving
  example i out removes the only data informing ``z_i``, so p(z_i | x_{-i})
  is the prior and the importance ratios 1 / p(x_i | z_i) under draws near
  q(z_i | x_i) are extremely heavy-tailed: every example is "influential"
  and the Pareto k estimates are large (:func:`loo_summary` reports the
  fraction above 0.7).  Use the held-out ELBO / IWAE bound for model
  comparison, not LOO or WAIC.  Per-pixel log-likelihoods are offered for
  pixel-level diagnostics; a pixel is not an exchangeable unit for LOO
  either (pixels share ``z_i``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import arviz as az
import numpy as np
import pyro.poutine as poutine
import torch
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure

from pyro_vae.analysis.interface import (
    Inputs,
    data_plate_name,
    elementwise,
    example_axis,
    inputs_to,
    latent_sites,
)
from pyro_vae.analysis.plots import new_figure
from pyro_vae.analysis.seeding import seeded
from pyro_vae.sites import OBSERVED

#: the summary statistics added to the posterior predictive and observed data
STATISTICS = ("mean_intensity", "pixel_mean")


def _programs(model, guide):
    if callable(getattr(model, "model", None)) and callable(getattr(model, "guide", None)):
        return model.model, guide or model.guide, data_plate_name(model)
    if guide is None:
        raise ValueError(
            "pass the guide: posterior_predictive(model_fn, guide_fn, x, ...) needs one when "
            "model is a plain Pyro program"
        )
    return model, guide, data_plate_name(model)


def _site_dims(name: str, event_shape: Sequence[int]) -> list[str]:
    if len(event_shape) == 1:
        return [f"{name}_dim"]
    return [f"{name}_dim_{i}" for i in range(len(event_shape))]


def _obs_dims(name: str, shape: Sequence[int]) -> list[str]:
    if len(shape) == 3:
        return ["channel", "height", "width"]
    return _site_dims(name, shape)


@torch.no_grad()
def posterior_predictive(
    model,
    guide=None,
    x: torch.Tensor | None = None,
    num_samples: int = 100,
    *,
    inputs: Inputs | None = None,
    obs_site: str = OBSERVED,
    pixel_log_likelihood: bool = False,
    example_ids: Sequence[int] | None = None,
    seed: int | None = None,
) -> az.InferenceData:
    """Posterior predictive draws, latents and log-likelihoods as ArviZ data.

    See the module docs for the groups, variables and dims, and for what is
    meaningful with amortized local latents.

    :param model: a :class:`~pyro_vae.models.LatentVariableModel` (its
        ``model``/``guide`` are used), or a Pyro model callable as
        ``model(None, batch_size=B, **inputs)``.
    :param guide: the guide (default ``model.guide``), called as ``guide(x, **inputs)``.
    :param x: the observed batch ``(B, *observation_shape)``.
    :param int num_samples: draws (the ``draw`` dim; one chain).
    :param inputs: further batched arguments of model and guide, e.g. ``{"u": u}``.
    :param str obs_site: the observation site.
    :param bool pixel_log_likelihood: also store log p per pixel (``x_pixel``),
        ``num_samples * B * pixels`` floats.
    :param example_ids: coordinates of the ``example`` dim (e.g. dataset indices).
    :param int seed: seed of the draws (the global torch RNG is left untouched);
        ``None`` draws from the global RNG.
    :returns: an :class:`arviz.InferenceData`.
    """
    if x is None or not torch.is_tensor(x):
        raise ValueError("posterior_predictive needs the observed batch x (a tensor)")
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    model_fn, guide_fn, plate = _programs(model, guide)
    device = getattr(model, "device", x.device)
    x = x.to(device)
    batch = x.shape[0]
    kw = inputs_to(inputs, device)
    ids = np.arange(batch) if example_ids is None else np.asarray(example_ids)
    if len(ids) != batch:
        raise ValueError(f"example_ids has {len(ids)} entries for a batch of {batch}")

    latents: dict[str, list[np.ndarray]] = {}
    latent_dims: dict[str, list[str]] = {}
    replicas, loglik, loglik_pixel = [], [], []
    with seeded(seed, device):
        for _ in range(num_samples):
            guide_tr = poutine.trace(guide_fn).get_trace(x, **kw)
            model_tr = poutine.trace(poutine.replay(model_fn, trace=guide_tr)).get_trace(
                None, batch_size=batch, **kw
            )
            if obs_site not in model_tr.nodes:
                raise ValueError(f"the model has no observation site {obs_site!r}")
            node = model_tr.nodes[obs_site]
            axis = example_axis(node, plate)
            if axis is None:
                raise ValueError(f"the observation site {obs_site!r} is not in the {plate!r} plate")
            replicas.append(node["value"].movedim(axis, 0).cpu().numpy())
            loglik.append(node["fn"].log_prob(x.movedim(0, axis)).movedim(axis, 0).cpu().numpy())
            if pixel_log_likelihood:
                per_pixel = elementwise(node["fn"]).log_prob(x.movedim(0, axis))
                loglik_pixel.append(per_pixel.movedim(axis, 0).cpu().numpy())
            for name, local in latent_sites(guide_tr, plate, (obs_site,)).items():
                site = guide_tr.nodes[name]
                value = site["value"]
                if local:
                    value = value.movedim(example_axis(site, plate), 0)
                    latent_dims[name] = ["example"] + _site_dims(name, value.shape[1:])
                else:
                    latent_dims[name] = _site_dims(name, value.shape)
                latents.setdefault(name, []).append(value.cpu().numpy())

    obs_shape = replicas[0].shape[1:]
    obs_dims = ["example"] + _obs_dims(obs_site, obs_shape)
    observed = x.cpu().numpy()
    x_rep = np.stack(replicas)[None]
    posterior = {name: np.stack(values)[None] for name, values in latents.items()}
    log_likelihood = {obs_site: np.stack(loglik)[None]}
    dims = {name: d for name, d in latent_dims.items()}
    dims[obs_site] = obs_dims
    if pixel_log_likelihood:
        log_likelihood[f"{obs_site}_pixel"] = np.stack(loglik_pixel)[None]
        dims[f"{obs_site}_pixel"] = obs_dims
    constant = {}
    for key, value in kw.items():
        if torch.is_tensor(value) and value.dim() >= 1 and value.shape[0] == batch:
            constant[key] = value.cpu().numpy()
            dims[key] = ["example"] + _site_dims(key, value.shape[1:])
    predictive = {obs_site: x_rep, **_statistics(x_rep, 2)}
    observed_data = {obs_site: observed, **_statistics(observed, 0)}
    dims["mean_intensity"] = ["example"]
    dims["pixel_mean"] = ["pixel"]
    coords = {"example": ids, "pixel": np.arange(math.prod(obs_shape))}
    return az.from_dict(
        posterior=posterior,
        posterior_predictive=predictive,
        log_likelihood=log_likelihood,
        observed_data=observed_data,
        constant_data=constant or None,
        coords=coords,
        dims=dims,
        attrs={"inference_library": "pyro", "source": "pyro_vae.analysis.posterior_predictive"},
    )


def _statistics(x: np.ndarray, lead: int) -> dict[str, np.ndarray]:
    """``mean_intensity`` per example and ``pixel_mean`` per pixel of ``x`` with
    ``lead`` leading sample dims before the example dim."""
    flat = x.reshape(*x.shape[: lead + 1], -1)
    return {"mean_intensity": flat.mean(-1), "pixel_mean": flat.mean(lead)}


def plot_ppc(
    idata: az.InferenceData,
    var_names: Sequence[str] = STATISTICS,
    num_pp_samples: int = 50,
    seed: int = 0,
    kind: str = "kde",
) -> Figure:
    """``az.plot_ppc`` of summary statistics: one panel per variable, the
    observed distribution (over examples, or over pixels for ``pixel_mean``)
    against ``num_pp_samples`` replicated ones.

    :returns: a :class:`matplotlib.figure.Figure` (Agg canvas).
    """
    missing = [v for v in var_names if v not in idata.posterior_predictive]
    if missing:
        raise ValueError(f"the posterior predictive has no variables {missing}")
    draws = idata.posterior_predictive.sizes["draw"] * idata.posterior_predictive.sizes["chain"]
    fig = new_figure(4.2 * len(var_names), 3.2)
    axes = fig.subplots(1, len(var_names), squeeze=False).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # KDE of constant data, one chain
        warnings.simplefilter("ignore", MatplotlibDeprecationWarning)  # inside arviz 0.23
        az.plot_ppc(
            idata,
            var_names=list(var_names),
            kind=kind,
            num_pp_samples=min(num_pp_samples, draws),
            random_seed=seed,
            ax=axes,
            show=False,
        )
    return fig


def ppc_table(idata: az.InferenceData, obs_site: str = OBSERVED) -> list[dict[str, Any]]:
    """Posterior predictive p-values of batch-level statistics.

    For each statistic T of the batch (mean intensity, pixel-wise standard
    deviation across examples, the fraction of pixels above 0.5), the
    observed value, the mean and sd of T over replicated batches and the
    p-value P(T(x_rep) >= T(x)) over draws (Gelman et al., *Bayesian Data
    Analysis*, 3rd ed., Sec. 6.3); p-values near 0 or 1 flag a misfit.
    """
    observed = idata.observed_data[obs_site].values
    replicated = idata.posterior_predictive[obs_site].values.reshape(-1, *observed.shape)
    t_observed = _batch_statistics(observed, observed.ndim)
    t_replicated = _batch_statistics(replicated, observed.ndim)
    rows = []
    for name, t_rep in t_replicated.items():
        t_obs = float(t_observed[name])
        rows.append(
            {
                "statistic": name,
                "observed": t_obs,
                "replicated_mean": float(t_rep.mean()),
                "replicated_sd": float(t_rep.std()),
                "p_value": float((t_rep >= t_obs).mean()),
            }
        )
    return rows


def _batch_statistics(a: np.ndarray, batch_ndim: int) -> dict[str, np.ndarray]:
    """Statistics of batches ``a`` of shape ``(*lead, B, *obs)`` with
    ``batch_ndim = 1 + len(obs)``; one value per leading index."""
    lead = a.shape[: a.ndim - batch_ndim]
    flat = a.reshape(*lead, a.shape[len(lead)], -1)  # (*lead, B, pixels)
    return {
        "mean intensity": flat.mean((-2, -1)),
        "pixel sd across examples": flat.std(-2).mean(-1),
        "fraction of pixels > 0.5": (flat > 0.5).mean((-2, -1)),
    }


def loo_summary(idata: az.InferenceData, obs_site: str = OBSERVED) -> dict[str, float]:
    """PSIS-LOO over examples, with the fraction of Pareto k above 0.7.

    Reported to show the caveat of the module docs: with one latent per
    example LOO's importance sampling is unreliable (large k), so ``elpd_loo``
    is not a trustworthy model comparison here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(idata, var_name=obs_site, pointwise=True)
    k = np.asarray(loo.pareto_k)
    return {
        "elpd_loo": float(loo.elpd_loo),
        "se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "examples": int(k.size),
        "fraction_k_above_0.7": float((k > 0.7).mean()),
        "max_k": float(k.max()),
    }
