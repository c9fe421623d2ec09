"""Base class of pyro_vae's objectives: a Pyro ELBO with per-example terms."""

from __future__ import annotations

import warnings
from typing import Any

import pyro.poutine as poutine
import torch
from pyro.infer.elbo import ELBO
from pyro.infer.util import is_validation_enabled, torch_item
from pyro.poutine.util import prune_subsample_sites
from pyro.util import check_model_guide_match, check_site_shape

from pyro_vae.infer.terms import DATA_PLATE, ELBOTerms


class PerExampleLoss(ELBO):
    """A :class:`pyro.infer.ELBO` whose value is a formula on :class:`ELBOTerms`.

    Subclasses implement :meth:`loss_from_terms`.  Instances work anywhere
    Pyro takes an ELBO, e.g. ``SVI(model, guide, optim, loss=BetaELBO(4.0))``.

    * Values are per example (see :mod:`pyro_vae.infer.terms`): Pyro's
      ``Trace_ELBO`` divided by the data plate's size.
    * :attr:`step` counts training steps; only :meth:`loss_and_grads` (what
      ``SVI.step`` calls) advances it, so evaluation with :meth:`loss` never
      moves a schedule.
    * :attr:`last_terms` holds the detached terms of the last evaluation
      (``loss``, ``recon``, ``kl`` and the objective's own decomposition)
      for logging.

    :param int num_particles: particles averaged per step.
    :param bool analytic_kl: use closed-form KL where available (as
        ``TraceMeanField_ELBO``), else single-sample estimates (as ``Trace_ELBO``).
    :param str data_plate: name of the plate over examples.
    """

    def __init__(
        self, *, num_particles: int = 1, analytic_kl: bool = True, data_plate: str = DATA_PLATE
    ) -> None:
        if num_particles < 1:
            raise ValueError(f"num_particles must be >= 1, got {num_particles}")
        super().__init__(num_particles=num_particles, vectorize_particles=False)
        self.analytic_kl = analytic_kl
        self.data_plate = data_plate
        self.step = 0
        self.last_terms: dict[str, torch.Tensor] = {}

    # ----------------------------------------------------------- subclass API
    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return ``(loss, logs)`` for one particle; ``loss`` is differentiable."""
        raise NotImplementedError

    # ----------------------------------------------------------------- traces
    def _get_trace(self, model, guide, args, kwargs):
        guide_trace = poutine.trace(guide).get_trace(*args, **kwargs)
        model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(
            *args, **kwargs
        )
        if is_validation_enabled():
            check_model_guide_match(model_trace, guide_trace, self.max_plate_nesting)
        guide_trace = prune_subsample_sites(guide_trace)
        model_trace = prune_subsample_sites(model_trace)
        if is_validation_enabled():
            model_trace.compute_log_prob()
            guide_trace.compute_log_prob()
            for trace in (model_trace, guide_trace):
                for site in trace.nodes.values():
                    if site["type"] == "sample":
                        check_site_shape(site, self.max_plate_nesting)
        return model_trace, guide_trace

    def terms(self, model, guide, *args, **kwargs) -> ELBOTerms:
        """Trace ``guide`` and ``model`` once and return the per-example terms."""
        model_trace, guide_trace = self._get_trace(model, guide, args, kwargs)
        return ELBOTerms(model_trace, guide_trace, self.data_plate)

    # ------------------------------------------------------------- Pyro's API
    def differentiable_loss(self, model, guide, *args, **kwargs) -> torch.Tensor:
        """The per-example loss as a differentiable tensor (does not advance :attr:`step`)."""
        total = None
        logs: dict[str, torch.Tensor] = {}
        for model_trace, guide_trace in self._get_traces(model, guide, args, kwargs):
            terms = ELBOTerms(model_trace, guide_trace, self.data_plate)
            loss, particle_logs = self.loss_from_terms(terms)
            loss = loss / self.num_particles
            total = loss if total is None else total + loss
            for key, value in particle_logs.items():
                value = torch.as_tensor(value).detach() / self.num_particles
                logs[key] = logs[key] + value if key in logs else value
        logs["loss"] = total.detach()
        self.last_terms = logs
        return total

    def loss(self, model, guide, *args, **kwargs) -> float:
        """Evaluate the loss without gradients; never advances :attr:`step`."""
        with torch.no_grad():
            return torch_item(self.differentiable_loss(model, guide, *args, **kwargs))

    def loss_and_grads(self, model, guide, *args, **kwargs) -> float:
        """Evaluate the loss, backpropagate, and advance :attr:`step` by one."""
        loss = self.differentiable_loss(model, guide, *args, **kwargs)
        if loss.requires_grad:
            loss.backward(retain_graph=self.retain_graph)
        else:
            warnings.warn("the loss does not depend on any parameter", stacklevel=2)
        self.advance()
        return torch_item(loss)

    def advance(self, steps: int = 1) -> None:
        """Advance the training-step counter (call it yourself if you drive
        :meth:`differentiable_loss` in your own loop)."""
        self.step += steps

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint: the step counter (subclasses add theirs)."""
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
