"""Cars3D, SmallNORB and MPI3D through the command line: `data list`, `data fetch`, `fit`."""

from __future__ import annotations

import json

from pyro_vae.cli import main
from tests.data.fake_files import write_cars3d, write_mpi3d, write_smallnorb

NAMES = ("cars3d", "smallnorb", "mpi3d-toy", "mpi3d-realistic", "mpi3d-real")


def _listing(capsys, *argv) -> dict:
    assert main(["data", "list", *argv]) == 0
    return {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:] if line}


def test_data_list_shows_presence(tmp_path, capsys):
    lines = _listing(capsys)
    assert all("needs files" in lines[name] for name in NAMES)
    lines = _listing(capsys, "--root", str(tmp_path))
    assert "missing 1 of 1: cars/nips2015-analogy-data.tar.gz" in lines["cars3d"]
    assert "missing 6 of 6: small_norb/smallnorb-5x46789x9x18x6x2x96x96" in lines["smallnorb"]
    assert "missing 1 of 1: mpi3d_toy/mpi3d_toy.npz" in lines["mpi3d-toy"]
    write_cars3d(tmp_path / "cars", cars=1, side=64)
    write_smallnorb(tmp_path, per_chunk=2)
    write_mpi3d(tmp_path / "mpi3d_toy" / "mpi3d_toy.npz", n=4)
    lines = _listing(capsys, "--root", str(tmp_path))
    assert f"present under {tmp_path / 'cars'}" in lines["cars3d"]  # extracted .mat files
    assert f"present under {tmp_path / 'small_norb'}" in lines["smallnorb"]
    assert f"present under {tmp_path / 'mpi3d_toy'}" in lines["mpi3d-toy"]
    assert "missing" in lines["mpi3d-real"]


def test_fetch_instructions(tmp_path, capsys):
    assert main(["data", "fetch", "cars3d", "--root", str(tmp_path), "--instructions"]) == 0
    out = capsys.readouterr().out
    assert "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz" in out
    assert "checksum none published" in out and "tar -xzf" in out
    assert main(["data", "fetch", "mpi3d-real", "--root", str(tmp_path), "--instructions"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "mpi3d_real" / "mpi3d_real.npz") in out
    assert "huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/mpi3d_real.npz" in out


def test_fit_on_mpi3d(tmp_path, capsys):
    root = tmp_path / "data"
    write_mpi3d(root / "mpi3d_toy" / "mpi3d_toy.npz", n=64)
    out = tmp_path / "run"
    argv = ["fit", "--model", "beta-vae", "--dataset", "mpi3d-toy", "--data-root", str(root),
            "--dataset-option", "allow_subset=true", "--steps", "2", "--batch-size", "8",
            "--latent-dim", "3", "--device", "cpu", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "mpi3d-toy" and (out / "checkpoint.pt").is_file()
