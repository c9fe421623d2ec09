"""Multi-layer perceptrons and the Gaussian head shared by all encoders."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

#: log-variance is clamped to this range before exponentiation, so that an
#: untrained or diverging encoder cannot produce a zero or infinite scale.
LOG_VAR_RANGE = (-30.0, 20.0)


def concat_context(h: torch.Tensor, u: torch.Tensor | None, context_dim: int) -> torch.Tensor:
    """Append a flattened context ``u`` to features ``h`` when ``context_dim > 0``."""
    if not context_dim:
        return h
    if u is None:
        raise ValueError("this encoder was built with context_dim > 0; pass the context u")
    return torch.cat([h, u.reshape(u.shape[0], -1).to(h.dtype)], dim=-1)


class MLP(nn.Sequential):
    """A stack of ``Linear`` layers with an activation between them.

    :param int in_dim: input features.
    :param hidden_dims: sizes of the hidden layers (may be empty).
    :param int out_dim: output features.
    :param activation: module class used between layers (default ``nn.ReLU``).
    :param bool batch_norm: insert ``BatchNorm1d`` after each hidden ``Linear``.
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dims: Sequence[int],
        out_dim: int,
        activation: type[nn.Module] = nn.ReLU,
        batch_norm: bool = False,
    ) -> None:
        layers: list[nn.Module] = []
        prev = in_dim
        for width in hidden_dims:
            layers.append(nn.Linear(prev, width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(activation())
            prev = width
        layers.append(nn.Linear(prev, out_dim))
        super().__init__(*layers)


class GaussianHead(nn.Module):
    """Maps features to the ``(loc, scale)`` of a diagonal Gaussian.

    The scale is ``exp(0.5 * log_var)`` as in disentanglement_lib's encoders,
    with ``log_var`` clamped to :data:`LOG_VAR_RANGE`.
    """

    def __init__(self, in_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.linear = nn.Linear(in_dim, 2 * latent_dim)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loc, log_var = self.linear(features).split(self.latent_dim, dim=-1)
        scale = torch.exp(0.5 * log_var.clamp(*LOG_VAR_RANGE))
        return loc, scale


class MLPEncoder(nn.Module):
    """Flattens the observation (and an optional context ``u``) into an MLP.

    :param input_shape: shape of one observation, e.g. ``(64,)`` or ``(1, 8, 8)``.
    :param int latent_dim: size of the latent code.
    :param hidden_dims: hidden layer sizes.
    :param int context_dim: size of an auxiliary input ``u`` concatenated to
        the flattened observation (0 for none), as in the iVAE guide q(z | x, u).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        latent_dim: int,
        hidden_dims: Sequence[int] = (256, 256),
        context_dim: int = 0,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.context_dim = context_dim
        in_dim = math.prod(self.input_shape) + context_dim
        hidden = tuple(hidden_dims)
        self.body = MLP(in_dim, hidden[:-1], hidden[-1], activation) if hidden else nn.Identity()
        self.act = activation() if hidden else nn.Identity()
        self.head = GaussianHead(hidden[-1] if hidden else in_dim, latent_dim)

    def forward(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = concat_context(x.reshape(x.shape[0], -1), u, self.context_dim)
        return self.head(self.act(self.body(h)))


class MLPDecoder(nn.Module):
    """Maps a latent code to an output of ``output_shape`` through an MLP."""

    def __init__(
        self,
        latent_dim: int,
        output_shape: Sequence[int],
        hidden_dims: Sequence[int] = (256, 256),
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.output_shape = tuple(output_shape)
        self.net = MLP(latent_dim, hidden_dims, math.prod(self.output_shape), activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)
        return out.reshape(*z.shape[:-1], *self.output_shape)
