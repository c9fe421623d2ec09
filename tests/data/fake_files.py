"""Small dataset files with the real layouts, for tests (nothing is downloaded).

* :func:`write_shapes3d` -- an HDF5 file with DeepMind's ``images``/``labels`` datasets;
* :func:`write_mnist` -- the four idx files (optionally ``.gz``) in torchvision's folder;
* :func:`write_omniglot` -- ``omniglot-py/images_background.zip`` of PNG drawings;
* :func:`write_celeba` -- ``celeba/`` with JPEG images and the five text lists;
* :func:`write_sha256sums` -- the user's digest list the loaders honour.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

from pyro_vae.data.shapes3d import FACTOR_NAMES, FACTOR_SIZES, FACTOR_VALUES, NUM_IMAGES

# the 40 attributes of list_attr_celeba.txt, in its order
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)


def write_sha256sums(folder: Path, *names: str) -> Path:
    """Append ``sha256sum``-style lines for ``names`` to ``folder/SHA256SUMS``."""
    lines = [f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names]
    with open(folder / "SHA256SUMS", "a") as f:
        f.writelines(lines)
    return folder / "SHA256SUMS"


# -- 3dshapes -----------------------------------------------------------------------------------


def shapes3d_labels(classes: np.ndarray) -> np.ndarray:
    """Label values (float64) of factor classes ``(n, 6)``."""
    cols = [FACTOR_VALUES[name][classes[:, k]] for k, name in enumerate(FACTOR_NAMES)]
    return np.stack(cols, axis=1)


def write_shapes3d(
    path: Path,
    grid_rows: np.ndarray | None = None,
    *,
    seed: int = 0,
    chunks: tuple | bool | None = (1, 64, 64, 3),
    compression: str | None = None,
    images_name: str = "images",
    labels: np.ndarray | None = None,
) -> dict:
    """Write a 3dshapes-layout file holding grid items ``grid_rows`` (default: all 480,000,
    with images only for the first 64 rows written; the rest read as zeros, so the file
    stays small).

    :returns: ``{"classes": (n, 6), "images": (m, 64, 64, 3) the written images}``.
    """
    rng = np.random.default_rng(seed)
    full = grid_rows is None
    grid_rows = np.arange(NUM_IMAGES) if full else np.asarray(grid_rows)
    n = len(grid_rows)
    classes = np.stack(np.unravel_index(grid_rows, FACTOR_SIZES), axis=1).astype(np.int64)
    written = min(n, 64) if full else n
    images = rng.integers(0, 256, size=(written, 64, 64, 3), dtype=np.uint8)
    with h5py.File(path, "w") as h:
        ds = h.create_dataset(
            images_name, shape=(n, 64, 64, 3), dtype=np.uint8, chunks=chunks,
            compression=compression,
        )  # fmt: skip
        ds[:written] = images
        h.create_dataset("labels", data=shapes3d_labels(classes) if labels is None else labels)
    return {"classes": classes, "images": images}


# -- MNIST --------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    """An array of unsigned bytes in the idx format (big-endian sizes)."""
    array = np.asarray(array, dtype=np.uint8)
    header = (0x0800 | array.ndim).to_bytes(4, "big")
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()


def write_mnist(
    root: Path,
    folder: str = "MNIST",
    n_train: int = 96,
    n_test: int = 32,
    *,
    gz: bool = True,
    seed: int = 0,
) -> dict:
    """The four MNIST idx files in ``root/folder/raw`` (``.gz`` or decompressed).

    :returns: ``{"train": (images, labels), "test": (images, labels)}``.
    """
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{stem}-{kind}-ubyte"
            data = idx_bytes(array)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (raw / name).write_bytes(data)
        out[split] = (images, labels)
    return out


# -- Omniglot -----------------------------------------------------------------------------------


def omniglot_png(bar: int) -> bytes:
    """A 105 x 105 black-on-white drawing: a black vertical bar at columns 10*bar .. +20."""
    image = np.full((105, 105), 255, dtype=np.uint8)
    image[:, 10 * bar : 10 * bar + 21] = 0
    buf = io.BytesIO()
    Image.fromarray(image, mode="L").convert("1").save(buf, format="PNG")
    return buf.getvalue()


def write_omniglot(root: Path, group: str = "background", drawings: int = 3) -> dict:
    """``root/omniglot-py/images_<group>.zip`` with 2 alphabets of 2 and 1 characters.

    Character ``c`` (in sorted order) is drawn as a bar at ``10 * c``.

    :returns: ``{"characters": [...], "zip": path}``.
    """
    folder = root / "omniglot-py"
    folder.mkdir(parents=True, exist_ok=True)
    characters = ["Alpha/character01", "Alpha/character02", "Beta/character01"]
    path = folder / f"images_{group}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        # written in reverse order: the loader must not depend on the archive's order
        for c, character in reversed(list(enumerate(characters))):
            for d in range(drawings):
                member = f"images_{group}/{character}/{c + 1:04d}_{d + 1:02d}.png"
                zf.writestr(member, omniglot_png(c))
    return {"characters": characters, "zip": path}


# -- CelebA -------------------------------------------------------------------------------------


def celeba_jpeg() -> bytes:
    """A 178 x 218 image: green outside the central 148 x 148 square, inside red on the left
    half and blue on the right half."""
    image = np.zeros((218, 178, 3), dtype=np.uint8)
    image[...] = (0, 255, 0)
    top, left = (218 - 148) // 2, (178 - 148) // 2
    image[top : top + 148, left : left + 74] = (255, 0, 0)
    image[top : top + 148, left + 74 : left + 148] = (0, 0, 255)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=95, subsampling=0)
    return buf.getvalue()


def write_celeba(root: Path, partition: tuple[int, ...] = (0,) * 8 + (1,) * 2 + (2,) * 2,
                 *, seed: int = 0, zipped: bool = False) -> dict:  # fmt: skip
    """``root/celeba/`` with one JPEG per entry of ``partition`` (0 train, 1 valid, 2 test)
    and the five text lists in CelebA's formats.

    :returns: ``{"attr": (n, 40) 0/1, "files": [...], "folder": path}``.
    """
    rng = np.random.default_rng(seed)
    folder = root / "celeba"
    images = folder / "img_align_celeba"
    images.mkdir(parents=True, exist_ok=True)
    n = len(partition)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    jpeg = celeba_jpeg()
    if zipped:
        with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as zf:
            for name in files:
                zf.writestr(f"img_align_celeba/{name}", jpeg)
        images.rmdir()
    else:
        for name in files:
            (images / name).write_bytes(jpeg)
    attr = rng.integers(0, 2, size=(n, 40))
    signs = 2 * attr - 1
    # the real files: a count line, a header line (with a trailing space), aligned columns
    rows = "".join(f"{f} " + " ".join(f"{v:2d}" for v in row) + "\n" for f, row in
                   zip(files, signs, strict=True))  # fmt: skip
    (folder / "list_attr_celeba.txt").write_text(
        f"{n}\n" + " ".join(CELEBA_ATTRIBUTES) + " \n" + rows
    )
    (folder / "identity_CelebA.txt").write_text(
        "".join(f"{f} {i % 3 + 1}\n" for i, f in enumerate(files))
    )
    (folder / "list_bbox_celeba.txt").write_text(
        f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{f}    95  71 226 313\n" for f in files)
    )
    landmarks = " ".join(
        f"{part}_{axis}"
        for part in ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
        for axis in "xy"
    )
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{n}\n{landmarks}\n"
        + "".join(f"{f} 69 109 106 113 77 142 73 152 108 154\n" for f in files)
    )
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{f} {p}\n" for f, p in zip(files, partition, strict=True))
    )
    return {"attr": attr, "files": files, "folder": folder}


CELEBA_LISTS = (
    "list_attr_celeba.txt",
    "identity_CelebA.txt",
    "list_bbox_celeba.txt",
    "list_landmarks_align_celeba.txt",
    "list_eval_partition.txt",
)


# -- MPI3D, Cars3D, SmallNORB -------------------------------------------------------------------


def write_mpi3d(path: Path, n: int = 120, *, seed: int = 0, compressed: bool = False) -> np.ndarray:
    """An ``.npz`` with MPI3D's one array ``images`` ``(n, 64, 64, 3)`` uint8 (the first ``n``
    items of the grid). :returns: the images."""
    images = np.random.default_rng(seed).integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # a file object: np.savez would append .npz to other names
        (np.savez_compressed if compressed else np.savez)(f, images=images)
    return images


def write_cars3d(folder: Path, cars: int = 2, side: int = 128, *, seed: int = 0) -> list:
    """``cars`` MATLAB files ``car_NNN_mesh.mat`` with ``im`` ``(side, side, 3, 24, 4)`` uint8
    (height, width, RGB, azimuth, elevation), written in reverse name order.

    :returns: the ``im`` arrays in name order.
    """
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [rng.integers(0, 256, size=(side, side, 3, 24, 4), dtype=np.uint8) for _ in
              range(cars)]  # fmt: skip
    for i in reversed(range(cars)):
        savemat(folder / f"car_{i + 1:03d}_mesh.mat", {"im": arrays[i]}, do_compression=True)
    return arrays


def norb_matrix(array: np.ndarray) -> bytes:
    """``array`` (uint8 or int32) in NORB's binary matrix format (little-endian header)."""
    magic = {np.dtype(np.uint8): 0x1E3D4C55, np.dtype(np.int32): 0x1E3D4C54}[array.dtype]
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = np.array([magic, array.ndim, *dims], dtype="<i4").tobytes()
    return header + np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()


def write_smallnorb(root: Path, per_chunk: int = 30, *, seed: int = 0, gz: bool = False) -> dict:
    """The six SmallNORB files in ``root/small_norb/`` holding ``per_chunk`` random distinct
    factor tuples per chunk (training: instances 4, 6, 7, 8, 9; testing: 0, 1, 2, 3, 5).

    :returns: ``{"classes": (2 * per_chunk, 5) with the azimuth class, "images": (n, 96, 96)
    left images}``, training rows first.
    """
    rng = np.random.default_rng(seed)
    folder = root / "small_norb"
    folder.mkdir(parents=True, exist_ok=True)
    chunks = (("5x46789x9x18x6x2x96x96-training", (4, 6, 7, 8, 9)),
              ("5x01235x9x18x6x2x96x96-testing", (0, 1, 2, 3, 5)))  # fmt: skip
    classes, lefts = [], []
    for chunk, instances in chunks:
        grid = rng.choice(5 * 5 * 9 * 18 * 6, size=per_chunk, replace=False)
        c, i, e, a, light = np.unravel_index(grid, (5, 5, 9, 18, 6))
        instance = np.asarray(instances)[i]
        pairs = rng.integers(0, 256, size=(per_chunk, 2, 96, 96), dtype=np.uint8)
        info = np.stack([instance, e, 2 * a, light], axis=1).astype(np.int32)
        for kind, array in (("dat", pairs), ("cat", c.astype(np.int32)), ("info", info)):
            data = norb_matrix(array)
            name = f"smallnorb-{chunk}-{kind}.mat"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / name).write_bytes(data)
        classes.append(np.stack([c, instance, e, a, light], axis=1))
        lefts.append(pairs[:, 0])
    return {"classes": np.concatenate(classes), "images": np.concatenate(lefts)}
