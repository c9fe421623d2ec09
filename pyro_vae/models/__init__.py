"""Model/guide pairs."""

from pyro_vae.models.base import LatentVariableModel
from pyro_vae.models.causal_vae import CausalVAE as CausalVAE
from pyro_vae.models.vae import VAE

__all__ = ["LatentVariableModel", "VAE"]
