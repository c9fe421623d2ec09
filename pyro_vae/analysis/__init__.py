"""Inspecting fitted models: traversals, reconstructions, samples, KL per
dimension, training curves, posterior predictive checks and run reports."""

from pyro_vae.analysis.examples import Examples, draw_examples
from pyro_vae.analysis.images import (
    as_images,
    png_bytes,
    prior_samples,
    reconstruction_grid,
    sample_grid,
    save_image,
)
from pyro_vae.analysis.interface import TraversalInterface, traversal_interface
from pyro_vae.analysis.kl import kl_per_dim
from pyro_vae.analysis.plots import plot_history, plot_kl, read_history, save_figure
from pyro_vae.analysis.predictive import loo_summary, plot_ppc, posterior_predictive, ppc_table
from pyro_vae.analysis.report import build_report, write_report
from pyro_vae.analysis.traversal import Traversal, traversal_gif, traverse

__all__ = [
    "Examples",
    "Traversal",
    "TraversalInterface",
    "as_images",
    "build_report",
    "draw_examples",
    "kl_per_dim",
    "loo_summary",
    "plot_history",
    "plot_kl",
    "plot_ppc",
    "png_bytes",
    "posterior_predictive",
    "ppc_table",
    "prior_samples",
    "read_history",
    "reconstruction_grid",
    "sample_grid",
    "save_figure",
    "save_image",
    "traversal_gif",
    "traversal_interface",
    "traverse",
    "write_report",
]
