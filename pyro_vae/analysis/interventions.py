r"""Interventions on CausalVAE's concepts with :func:`pyro.poutine.do`
(Yang et al. 2021, Sec. 5.2 and Fig. 3, "do-operation").

For an observation ``x`` the counterfactual "what would ``x`` look like had
concept ``i`` been ``c``" follows Pearl's three steps:

1. *abduction* -- the posterior mean :math:`\hat z` of the concepts and the
   exogenous noise of the mask layer's equations that reproduces it,
   :math:`\epsilon_j = \hat z_j - g_j(A_j \circ \hat z)`
   (:meth:`~pyro_vae.priors.scm.SCMPrior.abduct`);
2. *action* -- ``poutine.do`` sets the site ``concept{i}`` of the model's SCM
   program to ``c``;
3. *prediction* -- the SCM program, with ``eps`` conditioned on the abducted
   noise, recomputes every concept after ``i`` in topological order from the
   values already set, so the change reaches ``i``'s descendants through ``A``
   and the :math:`g_j` and no ancestor; the decoder renders the result.

Without an intervention the program reproduces :math:`\hat z` exactly when
the graph is a DAG. The official code instead overwrites the concept in two
layers with a constant and never propagates further than one layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyro.poutine as poutine
import torch
from torchvision.utils import make_grid

from pyro_vae.analysis.images import as_images, save_image
from pyro_vae.priors.scm import concept_site

__all__ = ["Intervention", "intervene", "intervention_grid", "save_intervention_grid"]


@dataclass
class Intervention:
    """Result of :func:`intervene`.

    :ivar images: decoded observations after the intervention ``(B, *input_shape)``.
    :ivar latents: the concepts after the intervention ``(B, n, d)``.
    :ivar factual: the abducted concepts, before it ``(B, n, d)``.
    :ivar int concept: the concept intervened on.
    """

    images: torch.Tensor
    latents: torch.Tensor
    factual: torch.Tensor
    concept: int


def _concept_index(model, concept: int | str) -> int:
    if isinstance(concept, str):
        names = list(getattr(model, "concept_names", []))
        if concept not in names:
            raise ValueError(f"unknown concept {concept!r}; the model's concepts: {names}")
        return names.index(concept)
    index = int(concept)
    if not 0 <= index < model.num_concepts:
        raise ValueError(f"concept must lie in [0, {model.num_concepts - 1}], got {concept}")
    return index


def _check_model(model) -> None:
    prior = getattr(model, "prior", None)
    if prior is None or not hasattr(prior, "abduct") or not hasattr(model, "posterior_mean"):
        raise TypeError(
            "intervene needs a model with a structural prior (CausalVAE), "
            f"got {type(model).__name__}"
        )


@torch.no_grad()
def intervene(
    model,
    x: torch.Tensor,
    concept: int | str,
    value: float | torch.Tensor,
    u: torch.Tensor | None = None,
) -> Intervention:
    """Counterfactuals of ``x`` under ``do(concept = value)``.

    :param model: a fitted :class:`~pyro_vae.models.CausalVAE`.
    :param x: a batch of observations.
    :param concept: the concept's index or name.
    :param value: the value of the concept's latent block: a number (every
        dimension of the block) or a tensor broadcastable to ``(B, d)``.
    :param u: labels, only for an encoder that reads them.
    """
    _check_model(model)
    i = _concept_index(model, concept)
    was_training = model.training
    model.eval()
    try:
        x = x.to(model.device)
        factual = model.posterior_mean(x, u)
        noise = model.prior.abduct(factual)
        B, d = factual.shape[0], model.concept_dim
        target = torch.as_tensor(value, dtype=factual.dtype, device=factual.device)
        target = target.expand(B, d).clone()
        program = poutine.do(
            poutine.condition(model.model, data={model.prior.eps_site: noise}),
            data={concept_site(i): target},
        )
        trace = poutine.trace(program).get_trace(batch_size=B)
        latents = trace.nodes[model.prior.z_site]["value"]
        images = model.likelihood.mean(trace.nodes["_RETURN"]["value"])
    finally:
        model.train(was_training)
    return Intervention(images=images, latents=latents, factual=factual, concept=i)


def _sweep_from_data(block: torch.Tensor, steps: int, quantiles: tuple[float, float]):
    """``steps`` rows of ``block`` ``(B, d)``: the examples at evenly spaced quantiles
    of the projection on the block's first principal axis."""
    centered = block - block.mean(0)
    axis = torch.linalg.svd(centered, full_matrices=False).Vh[0]
    axis = axis * torch.sign(axis[axis.abs().argmax()])  # a deterministic orientation
    order = torch.argsort(centered @ axis)
    where = torch.linspace(quantiles[0], quantiles[1], steps) * (len(order) - 1)
    return block[order[where.round().long()]]


@torch.no_grad()
def intervention_grid(
    model,
    x: torch.Tensor,
    values: Sequence[float] | torch.Tensor | None = None,
    concepts: Sequence[int | str] | None = None,
    steps: int = 7,
    quantiles: tuple[float, float] = (0.05, 0.95),
    seed_index: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's Figure 3: one row per concept, one column per value of
    ``do(concept = value)`` applied to ``x[seed_index]``.

    :param values: numbers swept in every row, each setting every dimension of
        the concept's block (as the paper's figure); default, per concept, the
        blocks that the examples of ``x`` have, taken at ``steps`` evenly spaced
        ``quantiles`` along the block's first principal axis -- "what if the
        concept were as in that image".
    :param concepts: rows (default: every concept).
    :returns: ``(grid, values)``: the image grid ``(C, H, W)`` and the values
        used, ``(rows, steps, d)``.
    """
    _check_model(model)
    rows = [_concept_index(model, c) for c in (concepts or range(model.num_concepts))]
    x = x.to(model.device)
    d = model.concept_dim
    if values is None:
        if steps < 2:
            raise ValueError(f"steps must be >= 2, got {steps}")
        if x.shape[0] < steps:
            raise ValueError(f"need at least {steps} examples in x to pick values from")
        means = model.posterior_mean(x)
        grid_values = torch.stack([_sweep_from_data(means[:, i], steps, quantiles) for i in rows])
    else:
        sweep = torch.as_tensor(values, dtype=torch.float32, device=x.device).flatten()
        grid_values = sweep[None, :, None].expand(len(rows), -1, d)
    columns = grid_values.shape[1]
    seed = x[seed_index : seed_index + 1]
    batch = seed.expand(columns, *seed.shape[1:])
    images = [intervene(model, batch, i, grid_values[row]).images for row, i in enumerate(rows)]
    grid = make_grid(as_images(torch.cat(images)), nrow=columns, padding=2, pad_value=0.5)
    return grid, grid_values.cpu()


def save_intervention_grid(model, x: torch.Tensor, path: str | Path, **options) -> Path:
    """Write :func:`intervention_grid` as a PNG (atomically); returns the path."""
    grid, _ = intervention_grid(model, x, **options)
    return save_image(grid, path)
