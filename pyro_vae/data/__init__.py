"""Ground-truth datasets behind one protocol (see :mod:`pyro_vae.data.base`)."""

from pyro_vae.data.base import FactorGridDataset, GroundTruthDataset
from pyro_vae.data.dsprites import DSprites, DSpritesFile
from pyro_vae.data.nonlinear_ica import NonlinearICA
from pyro_vae.data.registry import dataset_entries, get_dataset, register_dataset
from pyro_vae.data.sparse_shift import SparseMechanismShift

__all__ = [
    "DSprites",
    "DSpritesFile",
    "NonlinearICA",
    "SparseMechanismShift",
    "GroundTruthDataset",
    "FactorGridDataset",
    "dataset_entries",
    "get_dataset",
    "register_dataset",
]
