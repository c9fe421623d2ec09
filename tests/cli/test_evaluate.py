import json

import tests.toy  # noqa: F401  (registers toy-squares)
from pyro_vae.cli import main


def _fit(out):
    argv = ["fit", "--model", "beta-vae", "--dataset", "toy-squares", "--latent-dim", "3",
            "--steps", "20", "--batch-size", "16", "--lr", "1e-3", "--device", "cpu",
            "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0


def test_evaluate_writes_metrics_json_and_prints_a_table(tmp_path, capsys):
    out = tmp_path / "run"
    _fit(out)
    capsys.readouterr()
    argv = ["evaluate", str(out), "--metrics", "mig,modularity,mig-sampled", "--preset", "fast",
            "--device", "cpu", "--exclude-factors", "posY"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "metrics.json").read_text())
    assert set(results) == {"mig", "modularity", "mig-sampled"}
    assert 0.0 <= results["mig"]["mig"] <= 1.0
    assert results["mig"]["preset"] == "fast" and results["mig"]["seed"] == 0
    assert "posY" in json.dumps(results["mig"])  # the exclusion is recorded
    assert "mig=" in printed and "modularity=" in printed and "metrics.json" in printed
    # a second call merges into the same file
    assert main(["evaluate", str(out), "--metrics", "sap", "--preset", "fast",
                 "--device", "cpu"]) == 0  # fmt: skip
    assert set(json.loads((out / "metrics.json").read_text())) == {
        "mig", "modularity", "mig-sampled", "sap"
    }  # fmt: skip


def test_evaluate_rejects_unknown_metrics_and_missing_runs(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path), "--metrics", "mig"]) == 2
    assert "not a run folder" in capsys.readouterr().err
    out = tmp_path / "run"
    _fit(out)
    assert main(["evaluate", str(out), "--metrics", "nope"]) == 2
    assert "unknown metric" in capsys.readouterr().err
