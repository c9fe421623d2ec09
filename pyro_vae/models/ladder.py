"""The Ladder VAE (Sonderby et al. 2016): a hierarchical VAE whose guide merges a
bottom-up pass with the model's own top-down conditionals.

Sonderby et al. 2016, "Ladder Variational Autoencoders" (NeurIPS; arXiv:1602.02282),
Sec. 2, eqs. 16-21:

* bottom-up, deterministic: ``d_0 = x``, ``d_n = MLP(d_{n-1})``,
  ``mu_hat_n = Linear(d_n)``, ``sigma_hat_n^2 = Softplus(Linear(d_n))``;
* top-down, stochastic: ``q(z_L | x) = N(mu_hat_L, sigma_hat_L^2)`` and, for
  ``i < L``, ``q(z_i | z_{i+1}, x) = N(mu_q,i, sigma_q,i^2)`` with the
  precision-weighted combination (:func:`precision_weighted`)::

      sigma_q^2 = 1 / (sigma_hat^-2 + sigma_p^-2)
      mu_q      = (mu_hat sigma_hat^-2 + mu_p sigma_p^-2) sigma_q^2

  of the bottom-up terms and the generative model's top-down
  ``(mu_p,i, sigma_p,i) = f(z_{i+1})``, computed by the **same networks** as
  the model (:class:`~pyro_vae.priors.LadderPrior`).

Batch norm.  Hidden layers are batch-normalised as in the paper; call
``model.eval()`` before evaluating (running statistics).  In one ELBO step the
guide and the model (replayed on the guide's samples) run the shared top-down
networks on identical inputs, so in training mode they compute identical
values; the guide runs them inside
:meth:`~pyro_vae.priors.LadderPrior.frozen_statistics`, so the running
statistics are updated once per step, by the model's pass.

Where we depart: every variance gets a floor of
:data:`~pyro_vae.priors.ladder.MIN_VARIANCE`; an optional convolutional front
end (``frontend="conv"``) for 28x28 or 64x64 images replaces the flattening
of ``x`` before ``d_1`` (and the decoder by the matching deconvolution stack).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vae.likelihoods import Likelihood
from pyro_vae.models.base import LatentVariableModel
from pyro_vae.nets import MLP, Conv28Decoder, Conv28Encoder, Conv64Decoder, Conv64Encoder
from pyro_vae.priors import LatentContext
from pyro_vae.priors.ladder import LadderPrior, apply_flat, softplus_gaussian

#: the deterministic layer widths of the paper's MNIST models (shallower models
#: drop layers from the top)
PAPER_HIDDEN_DIMS = (512, 256, 128, 64, 32)


def precision_weighted(
    loc_hat: torch.Tensor,
    scale_hat: torch.Tensor,
    loc_p: torch.Tensor,
    scale_p: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The precision-weighted combination of two Gaussians (Sonderby et al. 2016,
    eqs. 16-21): the normalised product ``N(mu_hat, sigma_hat^2) N(mu_p, sigma_p^2)``.

    :returns: ``(mu_q, sigma_q)`` with ``sigma_q^2 = 1 / (sigma_hat^-2 + sigma_p^-2)``
        and ``mu_q = (mu_hat sigma_hat^-2 + mu_p sigma_p^-2) sigma_q^2``.
    """
    prec_hat = scale_hat.pow(-2)
    prec_p = scale_p.pow(-2)
    var = 1.0 / (prec_hat + prec_p)
    loc = (loc_hat * prec_hat + loc_p * prec_p) * var
    return loc, var.sqrt()


def _conv_pair(input_shape: tuple[int, ...], latent_dim: int) -> tuple[nn.Module, nn.Module]:
    """Convolutional feature extractor (flattened) and decoder for an image shape."""
    if len(input_shape) == 3 and input_shape[1:] == (28, 28):
        return Conv28Encoder(1, input_shape[0]).conv, Conv28Decoder(latent_dim, input_shape[0])
    if len(input_shape) == 3 and input_shape[1] == input_shape[2] and input_shape[1] % 16 == 0:
        channels, size = input_shape[0], input_shape[1]
        return (
            Conv64Encoder(1, channels, size).conv,
            Conv64Decoder(latent_dim, channels, size),
        )
    raise ValueError(
        f"frontend='conv' needs images of shape (C, 28, 28) or (C, S, S) with S divisible "
        f"by 16, got {input_shape}; use frontend='mlp'"
    )


class LadderEncoder(nn.Module):
    """The deterministic bottom-up pass of the ladder guide.

    ``d_n = MLP(d_{n-1})`` (``mlp_layers`` hidden layers of width
    ``hidden_dims[n-1]`` with batch norm and activation), and a
    :func:`~pyro_vae.priors.ladder.softplus_gaussian` head per layer giving
    ``(mu_hat_n, sigma_hat_n)``.

    :param nn.Module features: ``x -> (B, F)`` flat features (``nn.Flatten`` or a conv stack).
    :param int feature_dim: ``F``.
    """

    def __init__(
        self,
        features: nn.Module,
        feature_dim: int,
        latent_dims: Sequence[int],
        hidden_dims: Sequence[int],
        mlp_layers: int = 2,
        batch_norm: bool = True,
        activation: type[nn.Module] = nn.LeakyReLU,
    ) -> None:
        super().__init__()
        self.features = features
        self.latent_dims = tuple(latent_dims)
        blocks, heads = [], []
        prev = feature_dim
        for width, dim in zip(hidden_dims, latent_dims, strict=True):
            tail = [nn.BatchNorm1d(width)] if batch_norm else []
            body = MLP(prev, (width,) * (mlp_layers - 1), width, activation, batch_norm)
            blocks.append(nn.Sequential(body, *tail, activation()))
            heads.append(nn.Linear(width, 2 * dim))
            prev = width
        self.blocks = nn.ModuleList(blocks)
        self.heads = nn.ModuleList(heads)

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(mu_hat_1, sigma_hat_1), ..., (mu_hat_L, sigma_hat_L)]``."""
        d = self.features(x)
        out = []
        for block, head, dim in zip(self.blocks, self.heads, self.latent_dims, strict=True):
            d = block(d)
            out.append(softplus_gaussian(head(d), dim))
        return out


class LadderVAE(LatentVariableModel):
    """The Ladder VAE of Sonderby et al. 2016 as a Pyro model/guide pair.

    Model (sites inside ``pyro.plate("data")``)::

        zL ~ N(0, I);  z{i} ~ N(mu_p,i(z{i+1}), sigma_p,i^2(z{i+1}))   # LadderPrior
        x ~ likelihood(decoder(z1))

    Guide: the ladder guide (module docstring): a bottom-up pass, then
    top-down sampling of ``zL .. z1`` from the precision-weighted merge of the
    bottom-up terms with the model's top-down conditionals.

    ``encode``, ``decode``, ``latent_dim`` and ``representation`` refer to the
    **top layer** ``zL``: ``q(zL | x)`` is exactly the bottom-up Gaussian and
    ``p(zL) = N(0, I)``, so traversals and the KL-per-dimension ordering of
    :mod:`pyro_vae.analysis` are exact for it; ``decode(zL)`` follows the
    top-down conditional means to ``z1``.  ``reconstruct`` decodes the
    posterior-mean path (:meth:`posterior_mean_path`).

    :param input_shape: shape of one observation, e.g. ``(1, 28, 28)`` or ``(784,)``.
    :param latent_dims: sizes of ``z1 .. zL`` (the paper's MNIST model: 64, 32, 16, 8, 4).
    :param hidden_dims: widths of the deterministic layers ``d_1 .. d_L``
        (default: the paper's 512, 256, 128, 64, 32, truncated to ``L`` layers).
    :param likelihood: observation model or its name.
    :param int mlp_layers: hidden layers in every MLP (default 2).
    :param bool batch_norm: batch norm on hidden layers (the paper: yes).
    :param str frontend: ``"mlp"`` (flatten ``x``) or ``"conv"`` (images).
    :param activation: activation class (the paper: leaky rectifiers).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        latent_dims: Sequence[int] = (64, 32, 16, 8, 4),
        hidden_dims: Sequence[int] | None = None,
        likelihood: str | Likelihood = "bernoulli",
        *,
        mlp_layers: int = 2,
        batch_norm: bool = True,
        frontend: str = "mlp",
        activation: type[nn.Module] = nn.LeakyReLU,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape, likelihood, name)
        latent_dims = tuple(int(d) for d in latent_dims)
        if hidden_dims is None:
            if len(latent_dims) > len(PAPER_HIDDEN_DIMS):
                raise ValueError(
                    f"{len(latent_dims)} latent layers: pass hidden_dims with one width per layer"
                )
            hidden_dims = PAPER_HIDDEN_DIMS[: len(latent_dims)]
        self.prior = LadderPrior(latent_dims, hidden_dims, mlp_layers, batch_norm, activation)
        self.latent_dims = self.prior.latent_dims
        self.hidden_dims = self.prior.hidden_dims
        self.sites = self.prior.sites
        self.frontend = frontend
        if frontend == "mlp":
            features: nn.Module = nn.Flatten()
            feature_dim = math.prod(self.input_shape)
            self.decoder: nn.Module = MLP(
                latent_dims[0],
                (self.hidden_dims[0],) * mlp_layers,
                math.prod(self.input_shape),
                activation,
                batch_norm,
            )
        elif frontend == "conv":
            features, self.decoder = _conv_pair(self.input_shape, latent_dims[0])
            with torch.no_grad():
                feature_dim = features(torch.zeros(1, *self.input_shape)).shape[-1]
        else:
            raise ValueError(f"frontend must be 'mlp' or 'conv', got {frontend!r}")
        self.encoder = LadderEncoder(
            features, feature_dim, latent_dims, self.hidden_dims, mlp_layers, batch_norm, activation
        )

    # ------------------------------------------------------------- properties
    @property
    def num_layers(self) -> int:
        return len(self.latent_dims)

    @property
    def latent_dim(self) -> int:
        """Size of the top layer ``zL`` (what ``encode``/``decode`` refer to)."""
        return self.latent_dims[-1]

    @property
    def latent_site(self) -> str:
        return self.sites[-1]

    # ------------------------------------------------------------ model/guide
    def _context(self, x, batch_size, u, dataset_size) -> LatentContext:
        if u is not None:
            raise ValueError("LadderVAE has no observed context u; pass x only")
        return self.context(self.batch_size_of(x, batch_size), None, dataset_size, x)

    def _decoder_params(self, z1: torch.Tensor) -> torch.Tensor:
        if self.frontend == "conv":
            return self.decoder(z1)
        return apply_flat(self.decoder, z1).reshape(*z1.shape[:-1], *self.input_shape)

    def model(
        self,
        x: torch.Tensor | None = None,
        u: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        dataset_size: int | None = None,
    ) -> torch.Tensor:
        """``p(x, z1..zL) = p(zL) prod_i p(z_i | z_{i+1}) p(x | z1)``; returns the
        decoder output (likelihood parameters)."""
        self.register()
        ctx = self._context(x, batch_size, u, dataset_size)
        z1 = self.prior(ctx)
        params = self._decoder_params(z1)
        self.observe(ctx.plate, params, x)
        return params

    def guide(
        self,
        x: torch.Tensor,
        u: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        dataset_size: int | None = None,
    ) -> torch.Tensor:
        """The ladder guide; samples ``zL .. z1`` and returns ``z1``."""
        self.register()
        ctx = self._context(x, batch_size, u, dataset_size)
        bottom_up = self.encoder(x)
        with ctx.plate:
            z = pyro.sample(self.sites[-1], dist.Normal(*bottom_up[-1]).to_event(1))
            with self.prior.frozen_statistics():
                for layer in range(self.num_layers - 1, 0, -1):
                    loc_p, scale_p = self.prior.conditional(layer, z)
                    loc, scale = precision_weighted(*bottom_up[layer - 1], loc_p, scale_p)
                    z = pyro.sample(self.sites[layer - 1], dist.Normal(loc, scale).to_event(1))
        return z

    # ------------------------------------------------------------- utilities
    def encode(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of ``q(zL | x)``, the top layer (no Pyro involved)."""
        return self.encoder(x)[-1]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Expected observation given the top layer ``zL = z``, following the
        top-down conditional means to ``z1``."""
        return self.likelihood.mean(self._decoder_params(self.prior.mean_path(z)[0]))

    @torch.no_grad()
    def posterior_mean_path(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The ladder guide run with means instead of samples: ``zL = mu_hat_L``,
        ``z_i = mu_q,i(z_{i+1} = mean)``; ``{site: (B, dim)}``."""
        bottom_up = self.encoder(x)
        z = bottom_up[-1][0]
        path = {self.sites[-1]: z}
        for layer in range(self.num_layers - 1, 0, -1):
            loc_p, scale_p = self.prior.conditional(layer, z)
            z = precision_weighted(*bottom_up[layer - 1], loc_p, scale_p)[0]
            path[self.sites[layer - 1]] = z
        return path

    @torch.no_grad()
    def representation(self, x: torch.Tensor, layer: int | None = None) -> torch.Tensor:
        """Posterior-mean code of layer ``layer`` (default: the top layer ``zL``,
        whose mean ``mu_hat_L`` is exact; lower layers follow :meth:`posterior_mean_path`)."""
        if layer is None or layer == self.num_layers:
            return self.encode(x)[0]
        return self.posterior_mean_path(x)[self.prior.site(layer)]

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior-mean path's ``z1``."""
        z1 = self.posterior_mean_path(x)[self.sites[0]]
        return self.likelihood.mean(self._decoder_params(z1))
