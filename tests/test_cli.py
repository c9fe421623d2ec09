import json
import os

import pytest

import tests.toy  # noqa: F401  (registers the toy-squares dataset)
from pyro_vae.cli import build_parser, main
from pyro_vae.runs import load_run
from pyro_vae.train import load_checkpoint


def test_fit_smoke_run_writes_every_file(tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "fit", "--model", "beta-vae", "--dataset", "toy-squares", "--latent-dim", "3",
        "--beta", "2", "--steps", "6", "--batch-size", "8", "--lr", "1e-3",
        "--device", "cpu", "--seed", "1", "--out", str(out), "--checkpoint-every", "4",
        "--log-every", "2", "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    for name in (
        "config.json",
        "checkpoint.pt",
        "history.jsonl",
        "reconstructions.png",
        "traversal.png",
    ):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "beta-vae" and config["hyperparameters"] == {"beta": 2.0}
    assert config["training"]["steps"] == 6 and config["latent_dim"] == 3
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 6
    printed = capsys.readouterr().out
    assert "traversal.png" in printed and str(out) in printed
    run = load_run(out)
    assert run.step == 6 and run.model.latent_dim == 3
    # resume extends the same run
    assert main(["fit", "--model", "beta-vae", "--dataset", "toy-squares", "--out", str(out),
                 "--resume", "--steps", "8", "--no-progress"]) == 0  # fmt: skip
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 8


def test_unknown_names_list_the_valid_ones(capsys):
    assert main(["fit", "--model", "nope", "--dataset", "toy-squares"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "beta-vae" in err
    assert main(["fit", "--model", "vae", "--dataset", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "toy-squares" in err


def test_bad_hyperparameters_are_clear_errors(capsys):
    assert main(["fit", "--model", "beta-vae", "--dataset", "toy-squares", "--beta", "-1",
                 "--steps", "1", "--out", "/tmp/never-written-run"]) == 2  # fmt: skip
    assert "beta must be >= 0" in capsys.readouterr().err
    assert not os.path.exists("/tmp/never-written-run")
    assert main(["fit", "--model", "vae", "--dataset", "toy-squares", "--hp", "beta=3"]) == 2
    assert "has no hyperparameter beta" in capsys.readouterr().err
    assert main(["fit", "--model", "vae", "--dataset", "toy-squares", "--hp", "oops"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_help_documents_every_command(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--help"])
    text = capsys.readouterr().out
    for flag in ("--model", "--dataset", "--latent-dim", "--beta", "--steps", "--batch-size",
                 "--device", "--seed", "--out", "--resume", "--hp", "--data-root"):  # fmt: skip
        assert flag in text


def test_list_shows_models_and_datasets(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "beta-vae" in out and "annealed-vae" in out and "toy-squares" in out


def test_dataset_options_reach_the_dataset_and_the_config(tmp_path):
    from pyro_vae.data import register_dataset
    from tests.toy import ToySquares

    seen = {}

    @register_dataset("toy-with-options", "test dataset recording its options")
    def _factory(root=None, **options):
        seen.update(options)
        return ToySquares()

    out = tmp_path / "run"
    argv = ["fit", "--model", "vae", "--dataset", "toy-with-options", "--steps", "2",
            "--batch-size", "8", "--dataset-option", "allow_subset=true",
            "--dataset-option", "split=train", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert seen == {"allow_subset": True, "split": "train"}
    config = json.loads((out / "config.json").read_text())
    assert config["dataset_options"] == {"allow_subset": True, "split": "train"}
