# Two commands for a fresh machine: `make demo` and `make test`.
# Both create .venv (if missing) and install the package with its dev extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= runs/demo

.PHONY: install demo test test-fast lint format docs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/pyro-vae demo --out $(DEMO_OUT)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: install
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

bench: install
	$(BIN)/python benchmarks/svi_step.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
