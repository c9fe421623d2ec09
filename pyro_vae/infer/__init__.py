"""Objectives as Pyro losses, their shared trace decomposition, and schedules."""

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.beta_elbo import BetaELBO, CapacityELBO
from pyro_vae.infer.dip import DIPELBO, batch_covariance, dip_covariance, dip_penalty
from pyro_vae.infer.factor_vae import (
    FactorVAELoss,
    discriminator_loss,
    factor_discriminator,
    permute_dims,
)
from pyro_vae.infer.factorized import FactorizedSite, factorized_site
from pyro_vae.infer.kernels import imq_kernel, mmd_unbiased, rbf_kernel
from pyro_vae.infer.mmd import MMDELBO
from pyro_vae.infer.schedules import Constant, Cyclical, Linear, Schedule, as_schedule
from pyro_vae.infer.tc_elbo import TCELBO, aggregate_log_densities, mss_log_weights
from pyro_vae.infer.terms import DATA_PLATE, ELBOTerms

__all__ = [
    "DATA_PLATE",
    "ELBOTerms",
    "PerExampleLoss",
    "BetaELBO",
    "CapacityELBO",
    "TCELBO",
    "FactorVAELoss",
    "DIPELBO",
    "MMDELBO",
    "FactorizedSite",
    "factorized_site",
    "mss_log_weights",
    "aggregate_log_densities",
    "factor_discriminator",
    "permute_dims",
    "discriminator_loss",
    "batch_covariance",
    "dip_covariance",
    "dip_penalty",
    "rbf_kernel",
    "imq_kernel",
    "mmd_unbiased",
    "Schedule",
    "Constant",
    "Linear",
    "Cyclical",
    "as_schedule",
]
