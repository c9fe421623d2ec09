"""Ground-truth datasets behind one protocol (see :mod:`pyro_vae.data.base`)."""

from pyro_vae.data.base import FactorGridDataset, GroundTruthDataset

__all__ = ["GroundTruthDataset", "FactorGridDataset"]
