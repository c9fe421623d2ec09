"""Where every file-backed dataset's files come from and where they go: one table.

Each registered dataset that needs files has a :class:`DataSource` here, keyed by its
registry name. The loaders read the file names, folders and published digests from it, and
``pyro-vae data fetch`` / ``pyro-vae data list`` use the same entries to download, to print
offline instructions and to tell which files are present.

Facts and where they come from:

* ``3dshapes``: DeepMind's bucket ``gs://3d-shapes`` (https://github.com/google-deepmind/3d-shapes);
  MD5 ``099a2078...`` and size 267,573,662 bytes as recorded by several independent loaders
  (e.g. disent's ``Shapes3dData``); DeepMind publishes no digest.
* ``dsprites-file``: see :data:`pyro_vae.data.dsprites.KNOWN_CHECKSUMS`.
* ``cars3d``, ``smallnorb``, ``mpi3d-*``: the addresses and folders of disentanglement_lib's
  ``bin/dlib_download_data`` (``ROOT/cars/``, ``ROOT/small_norb/``, ``ROOT/mpi3d_<variant>/``,
  so a ``DISENTANGLEMENT_LIB_DATA`` folder is a data root here), MPI3D's current addresses
  from https://github.com/rr-learning/disentanglement_dataset (README, "Downloads"). None of
  their publishers gives a digest, so the checksums are ``None``: the loaders check these
  files' sizes, headers and shapes only (or the digests the user lists in ``SHA256SUMS``).
* MNIST, Fashion-MNIST, Omniglot, CelebA: the mirrors, file names, folders and MD5 digests
  that torchvision 0.29 uses (``torchvision.datasets.MNIST.resources`` and friends), so a
  folder filled by ``pyro-vae data fetch`` is one torchvision accepts and vice versa.

A :class:`RemoteFile` goes to ``ROOT/<folder>/<name>``; ``unpack`` says what is done with it
after the download (``"gunzip"``: the ``.gz`` is decompressed next to it, ``"unzip"``: the
archive is extracted in its folder), and ``provides`` lists the paths (relative to the file's
folder) that the unpacked file yields, any of which counts as the file being present.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pyro_vae.data.dsprites import DSPRITES_URL, HDF5_NAME, KNOWN_CHECKSUMS, NPZ_NAME

__all__ = [
    "MPI3D_VARIANTS",
    "NORB_CHUNKS",
    "SOURCES",
    "DataSource",
    "RemoteFile",
    "get_source",
    "require_root",
]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset.

    :param str name: the file's name.
    :param tuple urls: download addresses, tried in order (mirrors).
    :param checksum: published digest ``"<algorithm>:<hex>"`` or ``None``.
    :param str folder: where it goes, relative to the data root (``""``: the root itself).
    :param size: size in bytes when published, else ``None``.
    :param unpack: ``None``, ``"gunzip"`` or ``"unzip"``.
    :param tuple provides: paths relative to the file's folder that unpacking yields (for
        :meth:`present`, glob patterns such as ``"*.mat"`` are allowed).
    :param str group: the split the file belongs to (``""``: every split), e.g. Omniglot's
        ``"background"``.
    """

    name: str
    urls: tuple[str, ...]
    checksum: str | None
    folder: str = ""
    size: int | None = None
    unpack: str | None = None
    provides: tuple[str, ...] = ()
    group: str = ""

    def path(self, root: str | os.PathLike) -> Path:
        """Where the file goes under ``root``."""
        return Path(root).expanduser() / self.folder / self.name

    def present(self, root: str | os.PathLike) -> bool:
        """Whether the file, or what unpacking it yields, is under ``root``."""
        path = self.path(root)
        return path.exists() or any(next(path.parent.glob(p), None) for p in self.provides)


@dataclass(frozen=True)
class DataSource:
    """The files of one dataset.

    :param str name: the registry name.
    :param tuple files: the :class:`RemoteFile` entries.
    :param str homepage: where the dataset is described.
    :param bool manual: the files cannot be fetched with a plain HTTP download (CelebA lives
        on Google Drive); ``pyro-vae data fetch`` prints instructions instead.
    :param str note: an extra sentence for the instructions.
    :param tuple alternatives: other files the loader also accepts in place of ``files``
        (dSprites' ``.hdf5``); shown in the instructions, never downloaded.
    """

    name: str
    files: tuple[RemoteFile, ...]
    homepage: str
    manual: bool = False
    note: str = ""
    alternatives: tuple[RemoteFile, ...] = field(default=())

    def folder(self, root: str | os.PathLike) -> Path:
        """The folder (under ``root``) the first file goes to."""
        return self.files[0].path(root).parent

    def missing(self, root: str | os.PathLike, group: str | None = None) -> list[RemoteFile]:
        """The files (of split ``group``, or all) not present under ``root``."""
        if any(alt.present(root) for alt in self.alternatives):
            return []
        return [
            f
            for f in self.files
            if (group is None or f.group in ("", group)) and not f.present(root)
        ]

    def instructions(self, root: str | os.PathLike | None, group: str | None = None) -> str:
        """How to get the files by hand: addresses, names, folders and digests.

        :param root: the data root (``--data-root``); ``None`` writes ``ROOT``.
        :param group: only the files of this split (and those shared by all splits).
        :rtype: str
        """
        base = Path(root).expanduser() if root is not None else Path("ROOT")
        files = [f for f in self.files if group is None or f.group in ("", group)]
        lines = [f"{self.name}: put these files under {str(base)!r} ({self.homepage}):"]
        for f in files:
            lines.append(f"  {f.path(base)}")
            lines.append(f"      from {' or '.join(f.urls)}")
            digest = f.checksum or "none published"
            size = f", {f.size:,} bytes" if f.size else ""
            lines.append(f"      checksum {digest}{size}")
            if f.unpack == "gunzip":
                lines.append(f"      (or its decompressed {f.provides[0]!r} in the same folder)")
            elif f.unpack == "unzip":
                lines.append(f"      (or the extracted folder {f.provides[0]!r} beside it)")
        for f in self.alternatives:
            lines.append(f"  or instead {f.path(base)} from {' or '.join(f.urls)}")
            lines.append(f"      checksum {f.checksum or 'none published'}")
        if self.note:
            lines.append(f"  {self.note}")
        if not self.manual:
            lines.append(
                f"  `pyro-vae data fetch {self.name} --root {base}` downloads and checks them "
                f"where the machine has internet access."
            )
        return "\n".join(lines)


def _mnist_like(name: str, folder: str, mirrors: tuple[str, ...], md5s: dict) -> DataSource:
    files = tuple(
        RemoteFile(
            name=f"{stem}.gz",
            urls=tuple(m + f"{stem}.gz" for m in mirrors),
            checksum=f"md5:{md5}",
            folder=folder,
            unpack="gunzip",
            provides=(stem,),
        )
        for stem, md5 in md5s.items()
    )
    return DataSource(name, files, homepage=mirrors[0])


_MNIST = _mnist_like(
    "mnist",
    "MNIST/raw",
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    {
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    },
)

_FASHION_MNIST = _mnist_like(
    "fashion-mnist",
    "FashionMNIST/raw",
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    },
)

_OMNIGLOT_URL = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
_OMNIGLOT = DataSource(
    "omniglot",
    tuple(
        RemoteFile(
            name=f"images_{group}.zip",
            urls=(f"{_OMNIGLOT_URL}images_{group}.zip",),
            checksum=f"md5:{md5}",
            folder="omniglot-py",
            unpack="unzip",
            provides=(f"images_{group}",),
            group=group,
        )
        for group, md5 in (
            ("background", "68d2efa1b9178cc56df9314c21c6e718"),
            ("evaluation", "6b91aef0f799c5bb55b94e3f2daec811"),
        )
    ),
    homepage="https://github.com/brendenlake/omniglot",
)

_DRIVE = "https://drive.google.com/uc?id="
_CELEBA = DataSource(
    "celeba",
    tuple(
        RemoteFile(
            name=name,
            urls=(_DRIVE + drive_id,),
            checksum=f"md5:{md5}",
            folder="celeba",
            unpack="unzip" if name.endswith(".zip") else None,
            provides=("img_align_celeba",) if name.endswith(".zip") else (),
        )
        for drive_id, md5, name in (
            (
                "0B7EVK8r0v71pZjFTYXZWM3FlRnM",
                "00d2c5bc6d35e252742224ab0c1e8fcb",
                "img_align_celeba.zip",
            ),
            (
                "0B7EVK8r0v71pblRyaVFSWGxPY0U",
                "75e246fa4810816ffd6ee81facbd244c",
                "list_attr_celeba.txt",
            ),
            (
                "1_ee_0u7vcNLOfNLegJRHmolfH5ICW-XS",
                "32bd1bd63d3c78cd57e08160ec5ed1e2",
                "identity_CelebA.txt",
            ),
            (
                "0B7EVK8r0v71pbThiMVRxWXZ4dU0",
                "00566efa6fedff7a56946cd1c10f1c16",
                "list_bbox_celeba.txt",
            ),
            (
                "0B7EVK8r0v71pd0FJY3Blby1HUTQ",
                "cc24ecafdb5b50baae59b03474781f8c",
                "list_landmarks_align_celeba.txt",
            ),
            (
                "0B7EVK8r0v71pY0NSMzRuSXJEVkk",
                "d32c9cbf5e040fd4025c592c306e6668",
                "list_eval_partition.txt",
            ),
        )
    ),  # fmt: skip
    homepage="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
    manual=True,
    note=(
        "CelebA is on Google Drive, which needs a browser (or the gdown package: with it, "
        "torchvision's download=True works); download the files by hand from the addresses "
        "above and unzip img_align_celeba.zip in the celeba folder."
    ),
)

_DSPRITES = DataSource(
    "dsprites-file",
    (RemoteFile(NPZ_NAME, (DSPRITES_URL,), KNOWN_CHECKSUMS["npz"]),),
    homepage="https://github.com/deepmind/dsprites-dataset",
    alternatives=(
        RemoteFile(
            HDF5_NAME, (DSPRITES_URL.replace(NPZ_NAME, HDF5_NAME),), KNOWN_CHECKSUMS["hdf5"]
        ),
    ),
)

_SHAPES3D = DataSource(
    "3dshapes",
    (
        RemoteFile(
            "3dshapes.h5",
            ("https://storage.googleapis.com/3d-shapes/3dshapes.h5",),
            "md5:099a2078d58cec4daad0702c55d06868",
            size=267_573_662,
        ),
    ),
    homepage="https://github.com/google-deepmind/3d-shapes",
)

_CARS3D_ARCHIVE = "nips2015-analogy-data.tar.gz"
_CARS3D = DataSource(
    "cars3d",
    (
        RemoteFile(
            _CARS3D_ARCHIVE,
            (f"http://www.scottreed.info/files/{_CARS3D_ARCHIVE}",),
            None,
            folder="cars",
            provides=("*.mat",),
        ),
    ),
    homepage="http://www.scottreed.info/",
    manual=True,
    note=(
        f"The archive holds data/cars/*.mat (183 files, one per car model); extract those into "
        f"ROOT/cars/: `tar -xzf {_CARS3D_ARCHIVE} -C ROOT/cars --strip-components=2 data/cars` "
        f"(the archive may then be deleted; any .mat file in ROOT/cars counts as present)."
    ),
)

_NORB_URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
#: SmallNORB's two chunks (training, testing), in the order they are concatenated.
NORB_CHUNKS = ("5x46789x9x18x6x2x96x96-training", "5x01235x9x18x6x2x96x96-testing")
_SMALLNORB = DataSource(
    "smallnorb",
    tuple(
        RemoteFile(
            f"smallnorb-{chunk}-{kind}.mat.gz",
            (f"{_NORB_URL}smallnorb-{chunk}-{kind}.mat.gz",),
            None,
            folder="small_norb",
            unpack="gunzip",
            provides=(f"smallnorb-{chunk}-{kind}.mat",),
        )
        for chunk in NORB_CHUNKS
        for kind in ("dat", "cat", "info")
    ),
    homepage="https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/",
)

_MPI3D_URL = "https://huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/"
#: MPI3D's variants with files (the challenge's "complex" set is on Google Drive only).
MPI3D_VARIANTS = ("toy", "realistic", "real")
_MPI3D = {
    f"mpi3d-{variant}": DataSource(
        f"mpi3d-{variant}",
        (
            RemoteFile(
                f"mpi3d_{variant}.npz",
                (f"{_MPI3D_URL}mpi3d_{variant}.npz",),
                None,
                folder=f"mpi3d_{variant}",
            ),
        ),
        homepage="https://github.com/rr-learning/disentanglement_dataset",
    )
    for variant in MPI3D_VARIANTS
}

#: Every file-backed dataset's files, by registry name ("binarized-mnist" reads MNIST's).
SOURCES: dict[str, DataSource] = {
    "3dshapes": _SHAPES3D,
    "binarized-mnist": _MNIST,
    "cars3d": _CARS3D,
    "celeba": _CELEBA,
    "dsprites-file": _DSPRITES,
    "fashion-mnist": _FASHION_MNIST,
    "mnist": _MNIST,
    **_MPI3D,
    "omniglot": _OMNIGLOT,
    "smallnorb": _SMALLNORB,
}


def get_source(name: str) -> DataSource:
    """The :class:`DataSource` of dataset ``name``.

    :raises KeyError: no files are known for ``name`` (procedural, or not in the table); the
        message lists the datasets that have files.
    """
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise KeyError(
            f"no download source is known for {name!r}; datasets with files: {known}"
        ) from None


def require_root(name: str, root: str | os.PathLike | None) -> Path:
    """``root`` as a path; without one, a :class:`FileNotFoundError` that says how to pass
    it and which files go where (:meth:`DataSource.instructions` of ``name``'s source)."""
    if root is None:
        raise FileNotFoundError(
            f"{name} needs the data root: pass --data-root DIR on the command line (root=DIR "
            f"in Python), the folder that holds (or will hold) its files.\n"
            + get_source(name).instructions(None)
        )
    return Path(root).expanduser()
