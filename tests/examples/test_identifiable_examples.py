"""The identifiability examples run end to end at a tiny size."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ivae_example_runs_and_returns_mcc_of_both_models(tmp_path, capsys):
    example = _load("ivae_identifiability")
    figure = tmp_path / "ivae.png"
    argv = ["--segments", "3", "--per-segment", "20", "--latent-dim", "2", "--steps", "4",
            "--batch-size", "16", "--figure", str(figure)]  # fmt: skip
    results = example.main(argv)
    assert set(results) == {"ivae", "vae"}
    assert all(0.0 <= value <= 1.0 for value in results.values())
    assert figure.stat().st_size > 0
    assert "MCC  iVAE" in capsys.readouterr().out


@pytest.mark.parametrize("observation", ["gaussian", "poisson"])
def test_svae_example_runs_and_returns_mcc_and_mask_scores(tmp_path, observation):
    example = _load("svae_sparse_shift")
    figure = tmp_path / "svae.png"
    argv = ["--actions", "4", "--per-action", "10", "--latent-dim", "2", "--observed-dim", "6",
            "--hidden-dim", "3", "--steps", "4", "--batch-size", "8", "--observation",
            observation, "--figure", str(figure)]  # fmt: skip
    results = example.main(argv)
    assert set(results) == {"svae", "conditional"}
    for scores in results.values():
        assert set(scores) == {"mcc", "precision", "recall", "f1"}
        assert all(0.0 <= value <= 1.0 for value in scores.values())
    assert figure.stat().st_size > 0
