"""Priors as Pyro programs (see :mod:`pyro_vae.priors.base` for the contract)."""

from pyro_vae.priors.base import LatentContext, PriorProgram
from pyro_vae.priors.conditional import ConditionalGaussian
from pyro_vae.priors.ladder import LadderPrior
from pyro_vae.priors.scm import SCMPrior
from pyro_vae.priors.spike_slab import SpikeAndSlab
from pyro_vae.priors.standard import StandardNormal

__all__ = [
    "LatentContext",
    "PriorProgram",
    "StandardNormal",
    "LadderPrior",
    "ConditionalGaussian",
    "SpikeAndSlab",
    "SCMPrior",
]
