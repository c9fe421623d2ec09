"""Shared plumbing of model/guide pairs: unique Pyro names, the data plate,
input checks."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import pyro
import torch
from pyro.infer.util import is_validation_enabled
from torch import nn

from pyro_vae.likelihoods import Likelihood, get_likelihood
from pyro_vae.priors import LatentContext
from pyro_vae.sites import DATA_PLATE, OBSERVED

_INSTANCE_COUNTER = itertools.count()


class LatentVariableModel(nn.Module):
    """Base class of the library's model/guide pairs.

    Each instance registers its parameters in Pyro's global param store under
    a unique name (``pyro_name``), so two models built in one process never
    share parameters by accident (a second ``pyro.module("vae", ...)`` with
    the same name would silently train the first model's parameters).

    Subclasses define ``model(x=None, u=None, *, batch_size=None,
    dataset_size=None)`` and ``guide(x, u=None, *, batch_size=None,
    dataset_size=None)``.

    :param input_shape: shape of one observation, e.g. ``(1, 64, 64)``.
    :param likelihood: a :class:`~pyro_vae.likelihoods.Likelihood` or its name.
    :param str name: the name under which parameters are registered with
        Pyro; default ``"<ClassName><n>"`` with a process-wide counter.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        likelihood: str | Likelihood = "bernoulli",
        name: str | None = None,
        data_plate: str = DATA_PLATE,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.likelihood = get_likelihood(likelihood)
        self.pyro_name = name or f"{type(self).__name__}{next(_INSTANCE_COUNTER)}"
        self.data_plate = data_plate
        self._emit_param_sites = True

    # ------------------------------------------------------------- plumbing
    @property
    def device(self) -> torch.device:
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            return tensor.device
        return torch.device("cpu")

    def register(self) -> None:
        """Register this module's parameters with Pyro under :attr:`pyro_name`.

        Model and guide call this on every run so that ``pyro.infer.SVI`` finds
        the parameters in the trace.  :func:`pyro_vae.train.fit` optimises
        ``model.parameters()`` directly and turns this off (see
        :meth:`param_sites`) after its first step, saving the per-parameter
        Pyro messages.
        """
        if self._emit_param_sites:
            pyro.module(self.pyro_name, self)

    @contextlib.contextmanager
    def param_sites(self, enabled: bool) -> Iterator[None]:
        """Temporarily turn the per-run parameter registration on or off."""
        previous = self._emit_param_sites
        self._emit_param_sites = enabled
        try:
            yield
        finally:
            self._emit_param_sites = previous

    def plate(
        self,
        batch_size: int,
        dataset_size: int | None = None,
        device: torch.device | None = None,
    ) -> pyro.plate:
        """The data plate; with ``dataset_size`` N it is subsampled (scale N / B)."""
        device = device if device is not None else self.device
        if dataset_size is None or dataset_size == batch_size:
            return pyro.plate(self.data_plate, batch_size, device=device)
        if dataset_size < batch_size:
            raise ValueError(
                f"dataset_size ({dataset_size}) is smaller than the batch ({batch_size})"
            )
        idx = torch.arange(batch_size, device=device)
        return pyro.plate(self.data_plate, dataset_size, subsample=idx, device=device)

    def context(
        self,
        batch_size: int,
        u: torch.Tensor | None,
        dataset_size: int | None,
        x: torch.Tensor | None = None,
    ) -> LatentContext:
        """The :class:`~pyro_vae.priors.LatentContext` handed to the prior: the data plate
        on ``x``'s device (the model's without ``x``) and the observed context ``u``."""
        device = x.device if x is not None else self.device
        return LatentContext(
            plate=self.plate(batch_size, dataset_size, device),
            batch_size=batch_size,
            u=u,
            device=device,
        )

    def observe(self, plate: pyro.plate, params: torch.Tensor, x: torch.Tensor | None) -> None:
        """The observation site ``"x" ~ likelihood(params)`` (every pixel in the event) in
        the data plate; ``x=None`` samples."""
        with plate:
            pyro.sample(OBSERVED, self.likelihood(params, len(self.input_shape)), obs=x)

    def check_input(self, x: torch.Tensor) -> int:
        """Check the shape (always) and range (under Pyro validation) of a batch;
        return the batch size."""
        if not torch.is_tensor(x):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if tuple(x.shape[1:]) != self.input_shape:
            expected = ("B",) + self.input_shape
            hint = ""
            if x.dim() == len(self.input_shape) and tuple(x.shape[-2:]) == self.input_shape[-2:]:
                hint = "; add the channel dimension with x.unsqueeze(1)"
            raise ValueError(
                f"{type(self).__name__} expects observations of shape {expected}, "
                f"got {tuple(x.shape)}{hint}"
            )
        if is_validation_enabled():
            self.likelihood.validate(x)
        return x.shape[0]

    def batch_size_of(self, x: torch.Tensor | None, batch_size: int | None) -> int:
        if x is not None:
            return self.check_input(x)
        if batch_size is None:
            raise ValueError("pass x, or batch_size to sample without observations")
        return int(batch_size)

    def inputs_from_batch(self, batch: Any) -> dict[str, Any]:
        """Turn a data-loader batch into the keyword arguments of model and guide.

        Default: ``(x, factors)`` or ``x`` -> ``{"x": x}``.  Models with an
        observed context override this (e.g. iVAE reads ``u``).
        """
        if isinstance(batch, list | tuple):
            return {"x": batch[0]}
        return {"x": batch}
