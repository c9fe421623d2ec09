"""Objectives as Pyro losses, their shared trace decomposition, and schedules."""

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.beta_elbo import BetaELBO, CapacityELBO
from pyro_vae.infer.importance import importance_log_likelihood
from pyro_vae.infer.schedules import Constant, Cyclical, Linear, Schedule, as_schedule
from pyro_vae.infer.terms import DATA_PLATE, ELBOTerms

__all__ = [
    "DATA_PLATE",
    "ELBOTerms",
    "PerExampleLoss",
    "BetaELBO",
    "CapacityELBO",
    "Schedule",
    "Constant",
    "Linear",
    "Cyclical",
    "as_schedule",
    "importance_log_likelihood",
]
