"""examples/causal_vae_pendulum.py runs end to end at a tiny size."""

import json

import pytest
from PIL import Image

from tests.examples.scripts import load_example
from tests.threads import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: one thread is faster, and far faster on a busy machine."""
    with one_thread():
        yield


def test_example_trains_evaluates_and_writes_the_grid(tmp_path, capsys):
    example = load_example("causal_vae_pendulum")
    out = tmp_path / "run"
    args = ["--out", str(out), "--image-size", "16", "--steps", "4", "--batch-size", "8"]
    args += ["--eval-points", "60", "--dag-update-every", "2"]
    results = example.main(args)
    assert results["steps"] == 4
    assert 0.0 <= results["mic"] <= 1.0 and 0.0 <= results["tic"] <= 1.0
    assert set(results["mic_per_concept"]) == {
        "pendulum_angle",
        "light_angle",
        "shadow_length",
        "shadow_position",
    }
    assert isinstance(results["shd"], int) and 0 <= results["shd"] <= 6
    assert results["lagrangian"]["updates"] == 1  # before the 3rd of 4 evaluations
    with Image.open(results["interventions"]) as grid:
        assert grid.format == "PNG"
    assert json.loads((out / "results.json").read_text())["shd"] == results["shd"]
    assert (out / "checkpoint.pt").exists()
    printed = capsys.readouterr().out
    assert f"SHD {results['shd']}" in printed and "MIC" in printed
    # --resume at the final step only re-evaluates the same model
    again = example.main(args + ["--resume"])
    assert again["mic"] == results["mic"] and again["A"] == results["A"]


def test_example_scores_the_beta_vae_baseline_the_same_way(tmp_path):
    example = load_example("causal_vae_pendulum")
    args = ["--out", str(tmp_path), "--image-size", "16", "--steps", "2", "--batch-size", "8"]
    results = example.main(args + ["--eval-points", "40", "--model", "beta-vae"])
    assert results["model"] == "beta-vae" and 0.0 <= results["mic"] <= 1.0
    assert "shd" not in results and not (tmp_path / "interventions.png").exists()
