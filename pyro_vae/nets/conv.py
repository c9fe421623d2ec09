"""Convolutional encoders and decoders for 64x64 (and 16k x 16k) and 28x28 images.

The ``Conv64`` pair is the architecture disentanglement_lib uses for dSprites,
3dshapes and the other ground-truth datasets (``conv_encoder`` /
``deconv_decoder`` in ``methods/shared/architectures.py``):

* encoder: conv 32 - 32 - 64 - 64 (stride 2, ReLU) -> fc 256 (ReLU) -> loc, scale;
* decoder: fc 256 - fc 1024 (ReLU) -> reshape 64 x 4 x 4 -> transposed conv
  64 - 32 - 32 - C (kernel 4, stride 2, ReLU between).

disentanglement_lib's encoder uses kernel 4 for the first two convolutions and
kernel 2 for the last two; the beta-VAE paper (Higgins et al. 2017, Table 1)
uses kernel 4 throughout.  ``kernel_sizes`` selects either; the default
follows disentanglement_lib because that is where published metric numbers
come from.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from pyro_vae.nets.mlp import GaussianHead, concat_context

DLIB_KERNEL_SIZES = (4, 4, 2, 2)
BETA_VAE_PAPER_KERNEL_SIZES = (4, 4, 4, 4)


def _same_padding(kernel_size: int) -> int:
    # Stride-2 "same" padding that halves an even size for kernel 4 or 2.
    return (kernel_size - 2) // 2


def _check_image_size(image_size: int, divisor: int, name: str) -> None:
    if image_size % divisor:
        raise ValueError(
            f"{name} needs an image size divisible by {divisor}, got {image_size}; "
            f"resize the images or use an MLP encoder/decoder"
        )


class Conv64Encoder(nn.Module):
    """disentanglement_lib's convolutional encoder.

    :param int latent_dim: size of the latent code.
    :param int channels: image channels (1 for dSprites, 3 for 3dshapes).
    :param int image_size: height = width of the image, divisible by 16.
    :param kernel_sizes: kernel size of each of the four convolutions.
    :param int context_dim: size of an auxiliary input concatenated to the
        flattened features before the fc layer (0 for none).
    """

    def __init__(
        self,
        latent_dim: int,
        channels: int = 1,
        image_size: int = 64,
        kernel_sizes: Sequence[int] = DLIB_KERNEL_SIZES,
        hidden_dim: int = 256,
        context_dim: int = 0,
    ) -> None:
        super().__init__()
        _check_image_size(image_size, 16, "Conv64Encoder")
        widths = (32, 32, 64, 64)
        layers: list[nn.Module] = []
        prev = channels
        for width, k in zip(widths, kernel_sizes, strict=True):
            layers += [nn.Conv2d(prev, width, k, stride=2, padding=_same_padding(k)), nn.ReLU()]
            prev = width
        self.conv = nn.Sequential(*layers, nn.Flatten())
        self.input_shape = (channels, image_size, image_size)
        self.context_dim = context_dim
        flat = 64 * (image_size // 16) ** 2
        self.fc = nn.Sequential(nn.Linear(flat + context_dim, hidden_dim), nn.ReLU())
        self.head = GaussianHead(hidden_dim, latent_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened convolutional features of ``x``."""
        return self.conv(x)

    def forward(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = concat_context(self.conv(x), u, self.context_dim)
        return self.head(self.fc(h))


class Conv64Decoder(nn.Module):
    """disentanglement_lib's deconvolutional decoder; returns logits/locations."""

    def __init__(
        self, latent_dim: int, channels: int = 1, image_size: int = 64, hidden_dim: int = 256
    ) -> None:
        super().__init__()
        _check_image_size(image_size, 16, "Conv64Decoder")
        side = image_size // 16
        self.output_shape = (channels, image_size, image_size)
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, 64 * side * side),
            nn.ReLU(),
            nn.Unflatten(-1, (64, side, side)),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch_shape = z.shape[:-1]
        out = self.deconv(self.fc(z.reshape(-1, z.shape[-1])))
        return out.reshape(*batch_shape, *self.output_shape)


class Conv28Encoder(nn.Module):
    """A small convolutional encoder for 28x28 images (MNIST and friends).

    conv 32 - 64 (kernel 4, stride 2, ReLU): 28 -> 14 -> 7, then fc 256 -> loc, scale.
    """

    def __init__(
        self, latent_dim: int, channels: int = 1, hidden_dim: int = 256, context_dim: int = 0
    ) -> None:
        super().__init__()
        self.input_shape = (channels, 28, 28)
        self.context_dim = context_dim
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(nn.Linear(64 * 7 * 7 + context_dim, hidden_dim), nn.ReLU())
        self.head = GaussianHead(hidden_dim, latent_dim)

    def forward(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = concat_context(self.conv(x), u, self.context_dim)
        return self.head(self.fc(h))


class Conv28Decoder(nn.Module):
    """Mirror of :class:`Conv28Encoder`; returns logits/locations of shape (C, 28, 28)."""

    def __init__(self, latent_dim: int, channels: int = 1, hidden_dim: int = 256) -> None:
        super().__init__()
        self.output_shape = (channels, 28, 28)
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, 64 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(-1, (64, 7, 7)),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch_shape = z.shape[:-1]
        out = self.deconv(self.fc(z.reshape(-1, z.shape[-1])))
        return out.reshape(*batch_shape, *self.output_shape)
