"""The beta-TCVAE vs beta-VAE MIG comparison script runs at its tiny size."""

import json

from tests.examples.scripts import load_example


def test_tcvae_vs_betavae_runs_tiny_and_reports_both_migs(tmp_path, capsys):
    module = load_example("tcvae_vs_betavae")
    results = module.main(["--tiny", "--latent-dim", "3", "--out", str(tmp_path)])
    assert set(results) == {"beta-vae", "beta-tcvae"}
    for r in results.values():
        assert 0.0 <= r["mig_binned"] <= 1.0 and 0.0 <= r["mig_sampled_no_shape"] <= 1.0
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "MIG (sampled, no shape)" in capsys.readouterr().out


def test_only_trains_the_requested_objective():
    results = load_example("tcvae_vs_betavae").main(
        ["--tiny", "--latent-dim", "2", "--only", "beta-tcvae"]
    )
    assert set(results) == {"beta-tcvae"}
