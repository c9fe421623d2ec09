"""The examples in pyro_vae's docstrings run with the tests and must not rot away.

``pytest --doctest-modules`` (in ``addopts``, with ``pyro_vae`` in ``testpaths``) runs
every ``>>>`` example of the package; this file checks that it is configured to and that
the examples are still there, so that deleting them, skipping them or dropping the
doctest collection fails the suite instead of passing silently.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pyro_vae

#: docstrings with runnable examples when this test was written; raise it when you add more
MIN_DOCSTRINGS_WITH_EXAMPLES = 27


def _module_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(pyro_vae.__path__, prefix="pyro_vae.")
        if not info.name.endswith(".__main__")  # runs the CLI; pytest skips it too
    )


def _docstrings_with_examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for name in _module_names():
        for test in finder.find(importlib.import_module(name)):
            if any(not example.options.get(doctest.SKIP) for example in test.examples):
                found.append(test)
    return found


def test_every_module_imports():
    """Doctest collection imports every module; none may need an optional extra."""
    names = _module_names()
    assert "pyro_vae.models.vae" in names and len(names) > 50
    for name in names:
        importlib.import_module(name)


def test_docstring_examples_are_collected(pytestconfig):
    assert "pyro_vae" in pytestconfig.getini("testpaths")
    assert pytestconfig.getoption("doctestmodules"), "add --doctest-modules to addopts"


def test_number_of_docstring_examples_does_not_drop():
    tests = _docstrings_with_examples()
    names = {test.name for test in tests}
    assert len(tests) >= MIN_DOCSTRINGS_WITH_EXAMPLES, sorted(names)
    # the main entry points keep theirs
    for name in (
        "pyro_vae.models.vae.VAE",
        "pyro_vae.infer.beta_elbo.BetaELBO",
        "pyro_vae.infer.tc_elbo.mss_log_weights",
        "pyro_vae.metrics.mig.mig",
        "pyro_vae.metrics.mcc.mcc",
        "pyro_vae.likelihoods.Bernoulli",
        "pyro_vae.data.dsprites.DSprites",
        "pyro_vae.train.fit",
    ):
        assert name in names, f"{name} lost its docstring example"
