"""The identifiability examples run end to end at a tiny size."""

import pytest

from tests.examples.scripts import load_example
from tests.threads import one_thread


def test_ivae_example_runs_and_returns_mcc_of_both_models(tmp_path, capsys):
    example = load_example("ivae_identifiability")
    figure = tmp_path / "ivae.png"
    argv = ["--segments", "3", "--per-segment", "20", "--latent-dim", "2", "--steps", "4",
            "--batch-size", "16", "--figure", str(figure)]  # fmt: skip
    results = example.main(argv)
    assert set(results) == {"ivae", "vae"}
    assert all(0.0 <= value <= 1.0 for value in results.values())
    assert figure.stat().st_size > 0
    assert "MCC  iVAE" in capsys.readouterr().out
    assert example.main(argv[:-2]) == results  # seeded: the same numbers again


@pytest.mark.parametrize("observation", ["gaussian", "poisson"])
def test_svae_example_runs_and_returns_mcc_and_mask_scores(tmp_path, observation):
    example = load_example("svae_sparse_shift")
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


#: the small seeded instance of docs/models/ivae.md: about a minute on one CPU core
SMALL_INSTANCE = dict(
    segments=20, per_segment=200, latent_dim=3, mixing_layers=2, slope=0.25,
    steps=5000, batch_size=256, lr=2e-3, seed=0,
)  # fmt: skip


@pytest.mark.slow
def test_ivae_beats_the_vae_on_a_small_seeded_instance():
    with one_thread():  # tiny networks: one thread is fastest (and immune to load)
        results = load_example("ivae_identifiability").run(**SMALL_INSTANCE)
    assert results["ivae"] > 0.9
    assert results["ivae"] > results["vae"] + 0.05  # seed 0 measured: 0.979 vs 0.900
