"""The "write your own prior" tutorial script runs at its tiny size."""

from tests.examples.scripts import load_example


def test_custom_prior_tutorial_runs_tiny(tmp_path):
    module = load_example("custom_prior")
    results = module.main(["--tiny", "--latent-dim", "4", "--out", str(tmp_path)])
    assert set(results) == {"beta-vae (beta=4)", "beta-tcvae (beta=6)"}
    for r in results.values():
        assert 0.0 <= r["mig"] <= 1.0 and 0.0 <= r["modularity"] <= 1.0
        assert set(r["ppc_p_values"]) and all(0 <= p <= 1 for p in r["ppc_p_values"].values())
        assert abs(sum(r["mixture_weights"]) - 1.0) < 1e-5
    assert (tmp_path / "results.json").is_file()
    assert (tmp_path / "traversal-beta-vae.png").is_file()
