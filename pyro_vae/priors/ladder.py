"""The top-down hierarchy of the Ladder VAE as a prior program.

Sonderby et al. 2016, "Ladder Variational Autoencoders" (NeurIPS; arXiv:1602.02282),
Sec. 2: the generative model of a VAE with ``L`` stochastic layers is

.. math::

    p(z_L) = \\mathcal N(0, I), \\qquad
    p(z_i \\mid z_{i+1}) = \\mathcal N\\big(\\mu_{p,i}(z_{i+1}),\\,
                                          \\sigma^2_{p,i}(z_{i+1})\\big),

with ``d = MLP(z_{i+1})``, ``mu = Linear(d)``, ``sigma^2 = Softplus(Linear(d))``
and batch normalisation on the hidden layers.  :class:`LadderPrior` samples
``z{L}`` down to ``z1`` inside the data plate and returns ``z1`` (the prior
contract of :mod:`pyro_vae.priors.base`).  Its top-down networks are ordinary
sub-modules: the ladder guide of :class:`~pyro_vae.models.LadderVAE` calls the
same networks through :meth:`LadderPrior.conditional`, so model and guide share
one set of top-down parameters, as in the paper.

Where we depart: the variance is ``softplus(.) + MIN_VARIANCE`` (a floor of
1e-6 so that a saturated softplus cannot give a zero scale and an infinite
log-density).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

from pyro_vae.nets import MLP
from pyro_vae.priors.base import LatentContext

#: floor added to every softplus variance of the ladder (prior and guide)
MIN_VARIANCE = 1e-6


def softplus_gaussian(features: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``features`` (last dim ``2 * dim``) into ``(loc, scale)`` with
    ``scale**2 = softplus(raw) + MIN_VARIANCE`` (Sonderby et al. 2016, Sec. 2)."""
    loc, raw = features.split(dim, dim=-1)
    return loc, (F.softplus(raw) + MIN_VARIANCE).sqrt()


def apply_flat(net: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """Apply ``net`` to the last dimension of ``h`` whatever its leading dimensions.

    ``BatchNorm1d`` reads a 3-d input as ``(N, C, L)``; samples drawn under a
    vectorised particle plate have shape ``(particles, B, dim)``, so they are
    flattened to ``(particles * B, dim)`` and the result is reshaped back.
    """
    lead = h.shape[:-1]
    out = net(h.reshape(-1, h.shape[-1]))
    return out.reshape(*lead, out.shape[-1])


def _check_sizes(values: Sequence[int], name: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in values)
    if not values or any(v < 1 for v in values):
        raise ValueError(f"{name} must be a non-empty sequence of positive sizes, got {values}")
    return values


class LadderPrior(nn.Module):
    """Top-down hierarchy ``p(z_L) p(z_{L-1} | z_L) ... p(z_1 | z_2)`` (Sonderby et al. 2016).

    ``latent_dims[i]`` is the size of ``z{i+1}`` (``z1`` nearest the data,
    ``zL`` on top).  The network for ``p(z_i | z_{i+1})`` is an MLP from
    ``z_{i+1}`` with ``mlp_layers`` hidden layers of width ``hidden_dims[i]``
    (the width of the deterministic layer of ``z_{i+1}``, mirroring the
    bottom-up pass), batch norm and leaky ReLUs, and a
    :func:`softplus_gaussian` head.

    :param latent_dims: sizes of ``z1 .. zL``.
    :param hidden_dims: width of the deterministic layers of ``z1 .. zL``
        (same length; ``hidden_dims[0]`` is used by the decoder ``p(x | z1)``
        and the bottom-up pass, not here).
    :param int mlp_layers: hidden layers per MLP.
    :param bool batch_norm: batch-normalise the hidden layers.
    :param activation: activation module class (the paper: leaky rectifiers).
    :param str prefix: site names are ``prefix + "1" .. prefix + str(L)``.
    """

    def __init__(
        self,
        latent_dims: Sequence[int] = (64, 32, 16, 8, 4),
        hidden_dims: Sequence[int] = (512, 256, 128, 64, 32),
        mlp_layers: int = 2,
        batch_norm: bool = True,
        activation: type[nn.Module] = nn.LeakyReLU,
        prefix: str = "z",
    ) -> None:
        super().__init__()
        self.latent_dims = _check_sizes(latent_dims, "latent_dims")
        self.hidden_dims = _check_sizes(hidden_dims, "hidden_dims")
        if len(self.hidden_dims) != len(self.latent_dims):
            raise ValueError(
                f"hidden_dims needs one width per stochastic layer: {len(self.latent_dims)} "
                f"latent layers {self.latent_dims} but hidden_dims={self.hidden_dims}"
            )
        if mlp_layers < 1:
            raise ValueError(f"mlp_layers must be >= 1, got {mlp_layers}")
        self.sites = tuple(f"{prefix}{i}" for i in range(1, len(self.latent_dims) + 1))
        # top_down[i - 1] maps z_{i+1} to the parameters of p(z_i | z_{i+1}).
        self.top_down = nn.ModuleList(
            MLP(
                self.latent_dims[i],
                (self.hidden_dims[i],) * mlp_layers,
                2 * self.latent_dims[i - 1],
                activation,
                batch_norm,
            )
            for i in range(1, len(self.latent_dims))
        )
        top = self.latent_dims[-1]
        self.register_buffer("top_loc", torch.zeros(top), persistent=False)
        self.register_buffer("top_scale", torch.ones(top), persistent=False)

    @property
    def num_layers(self) -> int:
        return len(self.latent_dims)

    @property
    def latent_dim(self) -> int:
        """Size of ``z1``, the tensor this prior returns."""
        return self.latent_dims[0]

    def site(self, layer: int) -> str:
        """The site name of layer ``layer`` (1-based)."""
        self._check_layer(layer, 1, self.num_layers)
        return self.sites[layer - 1]

    def _check_layer(self, layer: int, lo: int, hi: int) -> None:
        if not lo <= layer <= hi:
            raise ValueError(f"layer must lie in [{lo}, {hi}], got {layer}")

    def conditional(self, layer: int, z_above: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu_p, sigma_p)`` of ``p(z_layer | z_{layer+1} = z_above)`` for
        ``layer`` in ``1 .. L-1``; ``z_above`` may have any leading dimensions."""
        self._check_layer(layer, 1, self.num_layers - 1)
        out = apply_flat(self.top_down[layer - 1], z_above)
        return softplus_gaussian(out, self.latent_dims[layer - 1])

    def top(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of ``p(z_L) = N(0, I)``."""
        return self.top_loc, self.top_scale

    def forward(self, ctx: LatentContext) -> torch.Tensor:
        """Sample ``zL`` .. ``z1`` inside ``ctx.plate``; return ``z1``."""
        with ctx.plate:
            z = pyro.sample(self.sites[-1], dist.Normal(*self.top()).to_event(1))
            for layer in range(self.num_layers - 1, 0, -1):
                loc, scale = self.conditional(layer, z)
                z = pyro.sample(self.sites[layer - 1], dist.Normal(loc, scale).to_event(1))
        return z

    def marginal(self, ctx: LatentContext) -> torch.Tensor:
        """The same program as ``forward`` without updating batch-norm statistics.

        For objectives that draw extra samples of the marginal prior besides the
        model's own pass, e.g. ``MMDELBO(site="z3", prior=model.prior.marginal)``:
        the running statistics then keep describing the networks' inputs in the
        model pass (samples of the guide).  In training mode the extra samples
        are still normalised with their own batch statistics.
        """
        with self.frozen_statistics():
            return self(ctx)

    def mean_path(self, z_top: torch.Tensor) -> list[torch.Tensor]:
        """Follow the conditional means down from ``z_L = z_top``: ``[z1, .., zL]``."""
        path = [z_top]
        for layer in range(self.num_layers - 1, 0, -1):
            path.insert(0, self.conditional(layer, path[0])[0])
        return path

    @contextlib.contextmanager
    def frozen_statistics(self) -> Iterator[None]:
        """Run the top-down networks without updating batch-norm running statistics.

        In training mode batch norm still normalises with the statistics of the
        current batch; only the update of ``running_mean`` / ``running_var``
        (and ``num_batches_tracked``) is skipped.  In evaluation mode nothing
        changes.  The ladder guide evaluates the top-down networks on the same
        samples as the model replayed against it, so without this every step
        would update the running statistics twice.
        """
        norms = [
            m for m in self.top_down.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
        ]
        previous = [m.track_running_stats for m in norms]
        try:
            for m in norms:
                m.track_running_stats = False
            yield
        finally:
            for m, flag in zip(norms, previous, strict=True):
                m.track_running_stats = flag
