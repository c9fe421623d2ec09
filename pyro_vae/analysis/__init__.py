"""Inspecting fitted models: traversals, reconstructions, KL per dimension."""

from pyro_vae.analysis.images import reconstruction_grid, save_image
from pyro_vae.analysis.interventions import intervene as intervene
from pyro_vae.analysis.kl import kl_per_dim
from pyro_vae.analysis.traversal import Traversal, traverse

__all__ = ["Traversal", "traverse", "kl_per_dim", "reconstruction_grid", "save_image"]
