"""The README's Python snippets run (at a tiny number of steps)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_quickstart_and_prior_snippets_run(tmp_path, monkeypatch):
    quickstart, prior = _python_blocks()[:2]
    assert "range(200)" in quickstart
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(quickstart.replace("range(200)", "range(2)"), "README", "exec"), namespace)
    assert (tmp_path / "traversal.png").stat().st_size > 0
    exec("import torch, pyro\nimport pyro.distributions as dist\n" + prior, namespace)
    vae = namespace["vae"]
    x = namespace["x"]
    loss = namespace["BetaELBO"]().loss(vae.model, vae.guide, x)
    assert loss == loss  # finite, not NaN
