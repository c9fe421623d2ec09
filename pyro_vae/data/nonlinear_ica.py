"""Piecewise-stationary nonlinear ICA data (Khemakhem et al. 2020, iVAE, Section 6;
Hyvarinen & Morioka 2016, TCL).

Generative process, for ``num_segments`` segments of ``per_segment`` points:

* each segment ``u`` draws a standard deviation ``lambda_{u,j} ~ U(0.5, 3)``
  for each source ``j`` (and, with ``segment_means=True``, a mean
  ``m_{u,j} ~ U(-5, 5)``);
* sources ``s = m_u + lambda_u * eps`` with ``eps ~ N(0, I)`` (independent
  given the segment, not marginally);
* observations ``x = f(s)``, ``f`` a random invertible MLP of
  ``mixing_layers`` linear maps with a leaky ReLU between them (none after
  the last): ``x = A_L lrelu(... lrelu(A_1 s))`` (row-vector convention
  ``h @ A``).

Each weight matrix has unit-norm columns drawn from ``U(-1, 1)`` and is
redrawn until its condition number is below the 25th percentile of the
condition numbers of ``cond_samples`` such random matrices -- the
well-conditioning rule of the official iVAE/TCL generator
(``generate_mixing_matrix``).  Where we depart from the official code: it
reuses one matrix for every square layer; we draw a fresh matrix per layer.
The leaky-ReLU slope 0.1 is the official ``generate_data`` default.

The dataset exposes the true sources as continuous factors and the segment
as the context ``u`` (one-hot); items are ``(x, sources, u)`` (see
:mod:`pyro_vae.data.continuous`).  :meth:`NonlinearICA.unmix` inverts the
mixing layer by layer.
"""

from __future__ import annotations

import numpy as np
import torch

from pyro_vae.data.continuous import ContinuousFactorDataset, leaky_relu, leaky_relu_inverse
from pyro_vae.data.registry import register_dataset


def condition_threshold(
    rows: int, cols: int, rng: np.random.Generator, samples: int = 10_000, percentile: float = 25
) -> float:
    """The ``percentile``-th percentile of the condition numbers of random
    ``rows x cols`` matrices with unit-norm ``U(-1, 1)`` columns."""
    conds = []
    for start in range(0, samples, 1000):  # chunks keep memory small for large matrices
        mats = rng.uniform(-1.0, 1.0, size=(min(1000, samples - start), rows, cols))
        mats /= np.linalg.norm(mats, axis=1, keepdims=True)
        conds.append(np.linalg.cond(mats))
    return float(np.percentile(np.concatenate(conds), percentile))


def well_conditioned_matrix(
    rows: int, cols: int, rng: np.random.Generator, threshold: float, max_tries: int = 100_000
) -> np.ndarray:
    """A random ``rows x cols`` matrix with unit-norm ``U(-1, 1)`` columns and
    condition number below ``threshold`` (rejection sampling)."""
    for _ in range(max_tries):
        mat = rng.uniform(-1.0, 1.0, size=(rows, cols))
        mat /= np.linalg.norm(mat, axis=0, keepdims=True)
        if np.linalg.cond(mat) < threshold:
            return mat
    raise RuntimeError(f"no {rows}x{cols} matrix with condition number < {threshold} found")


class NonlinearICA(ContinuousFactorDataset):
    """Piecewise-stationary Gaussian sources mixed by a random invertible MLP.

    Example::

        >>> import numpy as np
        >>> from pyro_vae.data import NonlinearICA
        >>> ds = NonlinearICA(num_segments=3, per_segment=10, latent_dim=2, cond_samples=200)
        >>> len(ds), ds.factor_sizes  # factor size 0: continuous
        (30, (0, 0))
        >>> x, sources, u = ds[0]
        >>> x.shape, sources.shape, u.tolist()  # u: the one-hot segment
        (torch.Size([2]), torch.Size([2]), [1.0, 0.0, 0.0])
        >>> bool(np.allclose(ds.unmix(ds.x), ds.factors, atol=1e-4))  # f is invertible
        True

    :param int num_segments: number of segments (context classes).
    :param int per_segment: points per segment.
    :param int latent_dim: number of sources.
    :param int observed_dim: observation size (default ``latent_dim``; must be
        ``>= latent_dim`` so that the mixing is injective).
    :param int mixing_layers: linear maps in the mixing MLP (>= 1; 1 is linear ICA).
    :param float slope: negative slope of the leaky ReLU, in (0, 1).
    :param std_range: range of the per-segment standard deviations.
    :param bool segment_means: also draw per-segment means ``U(-5, 5)``.
    :param float noise_std: standard deviation of Gaussian noise added to ``x``.
    :param int cond_samples: random matrices used to set the condition threshold.
    :param int seed: seed of the generator; the same seed gives the same data.
    """

    default_likelihood = "gaussian"

    def __init__(
        self,
        num_segments: int = 40,
        per_segment: int = 1000,
        latent_dim: int = 5,
        observed_dim: int | None = None,
        mixing_layers: int = 3,
        slope: float = 0.1,
        std_range: tuple[float, float] = (0.5, 3.0),
        segment_means: bool = False,
        noise_std: float = 0.0,
        cond_samples: int = 10_000,
        seed: int = 0,
    ) -> None:
        observed_dim = latent_dim if observed_dim is None else observed_dim
        if num_segments < 1 or per_segment < 1 or latent_dim < 1:
            raise ValueError(
                "num_segments, per_segment and latent_dim must be >= 1, got "
                f"{num_segments}, {per_segment}, {latent_dim}"
            )
        if observed_dim < latent_dim:
            raise ValueError(
                f"observed_dim ({observed_dim}) must be >= latent_dim ({latent_dim}) for an "
                "invertible mixing"
            )
        if mixing_layers < 1:
            raise ValueError(f"mixing_layers must be >= 1, got {mixing_layers}")
        if not 0.0 < slope < 1.0:
            raise ValueError(f"slope must lie in (0, 1) for an invertible leaky ReLU, got {slope}")
        lo, hi = std_range
        if not 0.0 < lo <= hi:
            raise ValueError(f"std_range must satisfy 0 < low <= high, got {std_range}")
        if noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std}")
        self.num_segments = num_segments
        self.per_segment = per_segment
        self.latent_dim = latent_dim
        self.observed_dim = observed_dim
        self.slope = float(slope)
        self.noise_std = float(noise_std)
        self.seed = seed
        self.context_dim = num_segments
        self.factor_names = tuple(f"s{j + 1}" for j in range(latent_dim))
        self.observation_shape = (observed_dim,)

        rng = np.random.default_rng(seed)
        self.segment_stds = rng.uniform(lo, hi, size=(num_segments, latent_dim))
        self.segment_means = (
            rng.uniform(-5.0, 5.0, size=(num_segments, latent_dim))
            if segment_means
            else np.zeros((num_segments, latent_dim))
        )
        shapes = [(latent_dim, observed_dim)] + [(observed_dim, observed_dim)] * (mixing_layers - 1)
        thresholds = {s: condition_threshold(*s, rng, cond_samples) for s in set(shapes)}
        self.mixing = [well_conditioned_matrix(*s, rng, thresholds[s]) for s in shapes]

        self.labels = np.repeat(np.arange(num_segments), per_segment)
        sources = self._draw_sources(self.labels, rng)
        self.factors = torch.from_numpy(sources.astype(np.float32))
        self.x = self.observations_from_factors(sources, rng if noise_std > 0 else None)

    # ------------------------------------------------------------ generation
    def _draw_sources(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        eps = rng.standard_normal((len(labels), self.latent_dim))
        return self.segment_means[labels] + self.segment_stds[labels] * eps

    def mix(self, sources: np.ndarray) -> np.ndarray:
        """The noiseless mixing ``f(s)`` (float64)."""
        h = np.asarray(sources, dtype=np.float64)
        for i, mat in enumerate(self.mixing):
            h = h @ mat
            if i < len(self.mixing) - 1:
                h = leaky_relu(h, self.slope)
        return h

    def unmix(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Invert the (noiseless) mixing layer by layer: ``f^{-1}(x)`` (float64)."""
        h = np.asarray(x, dtype=np.float64)
        for i, mat in reversed(list(enumerate(self.mixing))):
            if i < len(self.mixing) - 1:
                h = leaky_relu_inverse(h, self.slope)
            # square layers: solve; the first (tall) layer: least squares on its image
            h = np.linalg.lstsq(mat.T, h.T, rcond=None)[0].T
        return h

    def sample_with_context(
        self, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(sources, segments)``: ``n`` points from uniformly drawn segments."""
        labels = rng.integers(0, self.num_segments, size=n)
        return self._draw_sources(labels, rng), labels

    def observations_from_factors(
        self, factors: np.ndarray, rng: np.random.Generator | None = None
    ) -> torch.Tensor:
        """``x = f(s)`` (+ noise when ``noise_std > 0`` and ``rng`` is given), float32."""
        factors = np.asarray(factors, dtype=np.float64)
        if factors.ndim != 2 or factors.shape[1] != self.latent_dim:
            raise ValueError(f"sources must have shape (n, {self.latent_dim}), got {factors.shape}")
        x = self.mix(factors)
        if rng is not None and self.noise_std > 0:
            x = x + self.noise_std * rng.standard_normal(x.shape)
        return torch.from_numpy(x.astype(np.float32))


@register_dataset(
    "nonlinear-ica",
    "iVAE synthetic data: 40 segments x 1000 points, 5 Gaussian sources, 3-layer leaky-ReLU mixing",
)
def _nonlinear_ica(root=None, **options) -> NonlinearICA:
    return NonlinearICA(**options)
