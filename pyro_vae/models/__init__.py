"""Model/guide pairs."""

from pyro_vae.models.base import LatentVariableModel
from pyro_vae.models.causal_vae import CausalVAE
from pyro_vae.models.ivae import IVAE
from pyro_vae.models.ladder import LadderVAE
from pyro_vae.models.svae import SVAE
from pyro_vae.models.vae import VAE

__all__ = ["LatentVariableModel", "VAE", "LadderVAE", "IVAE", "SVAE", "CausalVAE"]
