"""Ground-truth datasets behind one protocol (see :mod:`pyro_vae.data.base`)."""

from pyro_vae.data.base import FactorGridDataset, GroundTruthDataset
from pyro_vae.data.cars3d import Cars3D
from pyro_vae.data.digits import Digits
from pyro_vae.data.dsprites import DSprites, DSpritesFile
from pyro_vae.data.mpi3d import MPI3D
from pyro_vae.data.nonlinear_ica import NonlinearICA
from pyro_vae.data.norb import SmallNORB
from pyro_vae.data.pendulum import Pendulum
from pyro_vae.data.registry import dataset_entries, get_dataset, register_dataset
from pyro_vae.data.shapes3d import Shapes3D
from pyro_vae.data.sparse_shift import SparseMechanismShift
from pyro_vae.data.vision import MNIST, CelebA, FashionMNIST, LabeledImages, Omniglot

__all__ = [
    "Pendulum",
    "MNIST",
    "CelebA",
    "FashionMNIST",
    "LabeledImages",
    "Omniglot",
    "Shapes3D",
    "Cars3D",
    "SmallNORB",
    "MPI3D",
    "DSprites",
    "DSpritesFile",
    "NonlinearICA",
    "SparseMechanismShift",
    "GroundTruthDataset",
    "FactorGridDataset",
    "Digits",
    "dataset_entries",
    "get_dataset",
    "register_dataset",
]
