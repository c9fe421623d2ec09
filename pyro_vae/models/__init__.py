"""Model/guide pairs."""

from pyro_vae.models.base import LatentVariableModel
from pyro_vae.models.ivae import IVAE as IVAE
from pyro_vae.models.svae import SVAE as SVAE
from pyro_vae.models.vae import VAE

__all__ = ["LatentVariableModel", "VAE"]
