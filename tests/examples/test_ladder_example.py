import json

import pytest

from tests.examples.scripts import load_example


@pytest.fixture(scope="module")
def example():
    return load_example("ladder_vae")


def test_tiny_run_reports_likelihood_and_active_units(example, tmp_path, capsys):
    out = tmp_path / "results.json"
    results = example.main(["--tiny", "--device", "cpu", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "| LVAE |" in printed and "| VAE |" in printed and "IW k=20" in printed
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    assert results["dataset"] == "digits" and results["num_samples"] == 20
    assert results["test_examples"] == 48 and results["train_examples"] == 1438
    lvae, vae = results["models"]["LVAE"], results["models"]["VAE"]
    assert list(lvae["active_units"]) == ["z1", "z2"] and list(vae["active_units"]) == ["z"]
    assert lvae["units"] == {"z1": 4, "z2": 2} and vae["units"] == {"z": 4}
    # comparable size: the VAE's width is matched to the LVAE's parameter count
    assert abs(vae["parameters"] - lvae["parameters"]) < 0.05 * lvae["parameters"]
    for row in (lvae, vae):
        assert 0 <= sum(row["active_units"].values()) <= sum(row["units"].values())
        assert -80.0 < row["elbo"] < 0.0
        # importance weighting with k = 20 tightens the bound on average
        assert row["log_likelihood"] > row["elbo"] - 0.1
        assert all(kl >= 0 for kl in row["kl_per_layer"].values())


def test_missing_mnist_is_a_clear_message(example, monkeypatch):
    from pyro_vae.data import registry

    monkeypatch.delitem(registry._REGISTRY, "binarized-mnist", raising=False)
    with pytest.raises(SystemExit, match="'binarized-mnist' is not registered"):
        example.main(["--tiny", "--dataset", "binarized-mnist"])

    def missing_files(root=None, **options):
        raise FileNotFoundError(f"no MNIST files in {root}")

    entry = registry.DatasetEntry("binarized-mnist", "test stand-in", missing_files, True)
    monkeypatch.setitem(registry._REGISTRY, "binarized-mnist", entry)
    with pytest.raises(SystemExit, match="no MNIST files in /x"):
        example.main(["--tiny", "--dataset", "binarized-mnist", "--data-root", "/x"])


def test_mnist_without_its_files_is_a_clear_message(example, tmp_path):
    expected = r"could not load 'binarized-mnist' \(--data-root\): mnist: missing"
    with pytest.raises(SystemExit, match=expected):
        example.main(["--tiny", "--dataset", "binarized-mnist", "--data-root", str(tmp_path)])


def test_tiny_run_on_mnist_files(example, tmp_path):
    from tests.data.fake_files import write_mnist

    write_mnist(tmp_path, n_train=96, n_test=32, gz=False)
    argv = ["--tiny", "--dataset", "binarized-mnist", "--data-root", str(tmp_path)]
    results = example.main(argv + ["--device", "cpu"])
    assert results["dataset"] == "binarized-mnist"
    assert results["train_examples"] == 96 and results["test_examples"] == 32
    for row in results["models"].values():
        assert row["elbo"] < 0 and row["log_likelihood"] > row["elbo"] - 0.5
