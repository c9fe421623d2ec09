"""Sparse mechanism shift data (Lopez et al. 2022, "Learning Causal
Representations of Single Cells via Sparse Mechanism Shift Modeling", the
simulation of its experiments and of the sVAE+ methods).

Generative process, for ``num_actions`` actions (interventions) of
``per_action`` points each:

* each action ``a`` targets 1 to 3 distinct latent dimensions (uniformly
  many, uniformly which) -- the true mask ``M[a, k]``;
* on each target the latent mean shifts by ``+-N(5, 0.5)`` (random sign):
  ``shift[a, k] = M[a, k] * sign * |N(5, 0.5)|``, and
  ``z ~ N(shift[a], I)``;
* a random leaky-ReLU MLP ``f`` (slope 0.2, four layers
  ``latent -> hidden -> hidden -> hidden -> observed``, each weight matrix
  orthogonalised by a QR decomposition and scaled by
  ``sqrt(2 / (1 + slope^2)) * sqrt(2 / (fan_in + fan_out))``), whose output
  is divided by its standard deviation over the data set, gives logits ``l``;
* observations are Gaussian ``x = l + noise_std * eps`` or Poisson counts
  ``x ~ Poisson(library_size * softmax(l))`` (softmax over the observed
  dimensions of one example).

Where we depart from the official simulation (``simulate_svae_plus_paper_dataset``):
it draws the targets *with* replacement (so an action may have fewer
distinct targets than drawn) and applies the softmax across cells
(``axis=0``) with a total of 1e6; we draw distinct targets and apply the
softmax across the observed dimensions of each example, the usual
single-cell model of counts given a library size.

The true latents are the factors (continuous), the action is the context
``u`` (one-hot); items are ``(x, latents, u)``.  :attr:`true_mask` and
:attr:`shifts` hold the ground truth of the mechanism shifts.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pyro_vae.data.continuous import ContinuousFactorDataset, leaky_relu
from pyro_vae.data.registry import register_dataset

OBSERVATIONS = ("gaussian", "poisson")


def orthogonal_layer(
    fan_in: int, fan_out: int, rng: np.random.Generator, slope: float
) -> np.ndarray:
    """A ``fan_in x fan_out`` weight matrix with orthonormal rows (``fan_in <=
    fan_out``) or columns, scaled for a leaky-ReLU network."""
    q = np.linalg.qr(rng.standard_normal((max(fan_in, fan_out), min(fan_in, fan_out))))[0]
    mat = q.T if fan_in <= fan_out else q
    return mat * math.sqrt(2.0 / (1.0 + slope**2)) * math.sqrt(2.0 / (fan_in + fan_out))


class SparseMechanismShift(ContinuousFactorDataset):
    """Latents shifted sparsely by actions, decoded by a random leaky-ReLU MLP.

    :param int num_actions: number of actions (context classes).
    :param int per_action: points per action.
    :param int latent_dim: number of latent variables (the paper uses 15).
    :param int observed_dim: observation size (genes; default 100).
    :param int hidden_dim: width of the decoder's hidden layers (default 40).
    :param str observation: ``"gaussian"`` or ``"poisson"``.
    :param float noise_std: Gaussian observation noise (``"gaussian"`` only).
    :param float library_size: expected total count per example (``"poisson"`` only).
    :param int max_targets: the number of targets of an action is uniform in
        ``1..max_targets`` (default 3, or ``latent_dim`` when smaller).
    :param float shift_mean: mean of the shift magnitude (default 5).
    :param float shift_std: standard deviation of the shift magnitude (default 0.5).
    :param float slope: leaky-ReLU negative slope (default 0.2).
    :param int seed: seed of the generator; the same seed gives the same data.
    """

    def __init__(
        self,
        num_actions: int = 100,
        per_action: int = 250,
        latent_dim: int = 15,
        observed_dim: int = 100,
        hidden_dim: int = 40,
        observation: str = "gaussian",
        noise_std: float = 0.1,
        library_size: float = 10_000.0,
        max_targets: int | None = None,
        shift_mean: float = 5.0,
        shift_std: float = 0.5,
        slope: float = 0.2,
        seed: int = 0,
    ) -> None:
        if num_actions < 1 or per_action < 1 or latent_dim < 1:
            raise ValueError(
                "num_actions, per_action and latent_dim must be >= 1, got "
                f"{num_actions}, {per_action}, {latent_dim}"
            )
        if not latent_dim <= hidden_dim <= observed_dim:
            raise ValueError(
                "the decoder is injective only if latent_dim <= hidden_dim <= observed_dim, "
                f"got {latent_dim}, {hidden_dim}, {observed_dim}"
            )
        if observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")
        max_targets = min(3, latent_dim) if max_targets is None else max_targets
        if not 1 <= max_targets <= latent_dim:
            raise ValueError(f"max_targets must lie in [1, latent_dim], got {max_targets}")
        if noise_std < 0 or library_size <= 0:
            raise ValueError("noise_std must be >= 0 and library_size > 0")
        self.num_actions = num_actions
        self.per_action = per_action
        self.latent_dim = latent_dim
        self.observation = observation
        self.noise_std = float(noise_std)
        self.library_size = float(library_size)
        self.slope = float(slope)
        self.seed = seed
        self.context_dim = num_actions
        self.factor_names = tuple(f"z{k + 1}" for k in range(latent_dim))
        self.observation_shape = (observed_dim,)
        self.default_likelihood = observation

        rng = np.random.default_rng(seed)
        mask = np.zeros((num_actions, latent_dim), dtype=bool)
        for a in range(num_actions):
            count = rng.integers(1, max_targets + 1)
            mask[a, rng.choice(latent_dim, size=count, replace=False)] = True
        #: the true action-to-latent mask, ``(num_actions, latent_dim)`` bool
        self.true_mask = mask
        sign = np.where(rng.uniform(size=mask.shape) > 0.5, 1.0, -1.0)
        magnitude = rng.normal(shift_mean, shift_std, size=mask.shape)
        #: the latent mean of each action, ``(num_actions, latent_dim)``
        self.shifts = mask * sign * magnitude
        dims = [latent_dim, hidden_dim, hidden_dim, hidden_dim, observed_dim]
        pairs = zip(dims[:-1], dims[1:], strict=True)
        self.weights = [orthogonal_layer(i, o, rng, self.slope) for i, o in pairs]

        self.labels = np.repeat(np.arange(num_actions), per_action)
        latents = self._draw_latents(self.labels, rng)
        logits = self._network(latents)
        #: the decoder's output is divided by this (its standard deviation on the data)
        self.logit_scale = float(logits.std())
        self.factors = torch.from_numpy(latents.astype(np.float32))
        self.x = self._observe(logits / self.logit_scale, rng)

    # ------------------------------------------------------------ generation
    def _draw_latents(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.shifts[labels] + rng.standard_normal((len(labels), self.latent_dim))

    def _network(self, latents: np.ndarray) -> np.ndarray:
        h = np.asarray(latents, dtype=np.float64)
        for i, w in enumerate(self.weights):
            h = h @ w
            if i < len(self.weights) - 1:
                h = leaky_relu(h, self.slope)
        return h

    def _mean(self, logits: np.ndarray) -> np.ndarray:
        if self.observation == "gaussian":
            return logits
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        return self.library_size * probs / probs.sum(axis=1, keepdims=True)

    def decode_mean(self, latents: np.ndarray) -> np.ndarray:
        """The expected observation given latents: the logits (Gaussian) or
        ``library_size * softmax(logits)`` (Poisson)."""
        return self._mean(self._network(latents) / self.logit_scale)

    def _observe(self, logits: np.ndarray, rng: np.random.Generator | None) -> torch.Tensor:
        x = self._mean(logits)
        if rng is not None and self.observation == "poisson":
            x = rng.poisson(x).astype(np.float64)
        elif rng is not None and self.noise_std > 0:
            x = x + self.noise_std * rng.standard_normal(x.shape)
        return torch.from_numpy(x.astype(np.float32))

    def sample_with_context(
        self, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(latents, actions)``: ``n`` points from uniformly drawn actions."""
        labels = rng.integers(0, self.num_actions, size=n)
        return self._draw_latents(labels, rng), labels

    def observations_from_factors(
        self, factors: np.ndarray, rng: np.random.Generator | None = None
    ) -> torch.Tensor:
        """Observations of latents ``factors``: sampled when ``rng`` is given,
        else the expected observation :meth:`decode_mean`."""
        factors = np.asarray(factors, dtype=np.float64)
        if factors.ndim != 2 or factors.shape[1] != self.latent_dim:
            raise ValueError(f"latents must have shape (n, {self.latent_dim}), got {factors.shape}")
        return self._observe(self._network(factors) / self.logit_scale, rng)


@register_dataset(
    "sparse-shift",
    "sVAE synthetic data: 100 actions x 250 points, each shifting 1-3 of 15 latents",
)
def _sparse_shift(root=None, **options) -> SparseMechanismShift:
    return SparseMechanismShift(**options)
