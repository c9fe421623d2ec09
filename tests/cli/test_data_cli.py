"""`pyro-vae data list/fetch` and `pyro-vae fit --data-root` on small files made here."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.error
import urllib.request

import numpy as np
import pytest

from pyro_vae.cli import main
from pyro_vae.data import dataset_entries
from pyro_vae.data.sources import SOURCES, DataSource, RemoteFile
from tests.data.fake_files import (
    CELEBA_LISTS,
    write_celeba,
    write_mnist,
    write_omniglot,
    write_sha256sums,
    write_shapes3d,
)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every urllib connection fails (autouse: no test here touches the network)."""
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


def test_data_list(tmp_path, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name, entry in dataset_entries().items():
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert ("needs files" if entry.needs_files else "procedural") in line
    assert "--root DIR" in out
    write_mnist(tmp_path, gz=False)
    write_omniglot(tmp_path)
    assert main(["data", "list", "--root", str(tmp_path)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert f"present under {tmp_path / 'MNIST' / 'raw'}" in lines["mnist"]
    assert "present" in lines["binarized-mnist"]
    assert "missing 1 of 1: 3dshapes.h5" in lines["3dshapes"]
    assert "missing 4 of 4: FashionMNIST/raw/train-images-idx3-ubyte.gz" in lines["fashion-mnist"]
    assert "images_evaluation.zip (evaluation split)" in lines["omniglot"]
    assert "images_background" not in lines["omniglot"]
    assert "nothing to download" in lines["dsprites"]


def test_data_fetch_offline_prints_instructions(tmp_path, capsys, offline):
    assert main(["data", "fetch", "3dshapes", "--root", str(tmp_path), "--timeout", "3"]) == 1
    err = capsys.readouterr().err
    assert offline == ["https://storage.googleapis.com/3d-shapes/3dshapes.h5"]
    assert str(tmp_path / "3dshapes.h5") in err and "md5:099a2078d58cec4daad0702c55d06868" in err
    assert not (tmp_path / "3dshapes.h5").exists()
    assert main(["data", "fetch", "celeba", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "drive.google.com" in err and str(tmp_path / "celeba" / "list_attr_celeba.txt") in err
    assert main(["data", "fetch", "fashion-mnist", "--root", str(tmp_path), "--instructions"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz") in out
    assert "bb300cfdad3c16e7a12a480ee83cd310" in out
    assert len(offline) == 1  # --instructions and manual sources never connect


def test_data_fetch_success(tmp_path, capsys, monkeypatch):
    payload = b"3dshapes bytes"
    url = "https://storage.example/3dshapes.h5"
    fake = DataSource(
        "3dshapes",
        (RemoteFile("3dshapes.h5", (url,), f"md5:{hashlib.md5(payload).hexdigest()}"),),
        homepage="https://storage.example",
    )
    monkeypatch.setitem(SOURCES, "3dshapes", fake)
    served = []

    def serve(u, timeout=None):
        served.append((u, timeout))
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    assert main(["data", "fetch", "3dshapes", "--root", str(tmp_path), "--timeout", "9"]) == 0
    assert (tmp_path / "3dshapes.h5").read_bytes() == payload and served == [(url, 9.0)]
    out = capsys.readouterr().out
    assert "verified" in out and f"--data-root {tmp_path}" in out


def test_data_fetch_bad_names(tmp_path, capsys):
    assert main(["data", "fetch", "dsprites", "--root", str(tmp_path)]) == 0
    assert "procedural" in capsys.readouterr().out
    assert main(["data", "fetch", "nope", "--root", str(tmp_path)]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err


def _fit(name: str, root, out, capsys) -> dict:
    argv = ["fit", "--model", "beta-vae", "--dataset", name, "--data-root", str(root),
            "--steps", "2", "--batch-size", "8", "--latent-dim", "3", "--device", "cpu",
            "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == name and config["data_root"] == str(root)
    assert (out / "checkpoint.pt").is_file() and (out / "traversal.png").is_file()
    return config


def test_fit_on_file_datasets(tmp_path, capsys):
    root = tmp_path / "data"
    root.mkdir()
    write_shapes3d(root / "3dshapes.h5", np.random.default_rng(0).choice(480_000, 40, False))
    write_sha256sums(root, "3dshapes.h5")  # the user's digest of their own file
    write_mnist(root, gz=False)
    celeba = write_celeba(root, partition=(0,) * 16)
    write_sha256sums(celeba["folder"], *CELEBA_LISTS)
    for name in ("3dshapes", "mnist", "celeba"):
        _fit(name, root, tmp_path / f"run-{name}", capsys)
        assert f"training beta-vae on {name}" in capsys.readouterr().out
    # the metrics render observations from factors, which labelled images cannot
    argv = ["evaluate", str(tmp_path / "run-mnist"), "--metrics", "mig", "--device", "cpu"]
    assert main(argv) == 2
    assert "labels are not generative factors" in capsys.readouterr().err


def test_fit_on_more_file_datasets(tmp_path, capsys):
    root = tmp_path / "data"
    write_mnist(root, "FashionMNIST", gz=False)
    write_mnist(root, gz=False)
    write_omniglot(root, drawings=4)
    write_sha256sums(root / "omniglot-py", "images_background.zip")
    for name in ("fashion-mnist", "binarized-mnist", "omniglot"):
        _fit(name, root, tmp_path / f"run-{name}", capsys)


def test_fit_missing_files_is_a_clear_error(tmp_path, capsys):
    for name, expected in (
        ("3dshapes", "3dshapes.h5"),
        ("mnist", "MNIST/raw/train-images-idx3-ubyte.gz"),
        ("celeba", "celeba/list_attr_celeba.txt"),
        ("dsprites-file", "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"),
    ):
        argv = ["fit", "--model", "vae", "--dataset", name, "--data-root", str(tmp_path),
                "--steps", "1", "--out", str(tmp_path / "never")]  # fmt: skip
        assert main(argv) == 2
        assert expected in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
