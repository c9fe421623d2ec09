"""A tiny fitted run on the toy dataset, for report and CLI tests."""

from pathlib import Path

import tests.toy  # noqa: F401  (registers toy-squares)
from pyro_vae.cli import main
from tests.threads import one_thread


def fit_toy_run(out: Path, steps: int = 5, latent_dim: int = 3) -> Path:
    """``pyro-vae fit`` a beta-VAE on toy-squares for a few steps into ``out``."""
    argv = [
        "fit", "--model", "beta-vae", "--dataset", "toy-squares", "--latent-dim",
        str(latent_dim), "--steps", str(steps), "--batch-size", "8", "--lr", "1e-3",
        "--device", "cpu", "--out", str(out), "--log-every", "1", "--no-progress",
    ]  # fmt: skip
    with one_thread():
        assert main(argv) == 0
    return out
