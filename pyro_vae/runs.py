"""Run folders: what ``pyro-vae fit`` writes and every other command reads.

A run folder holds ``config.json`` (everything needed to rebuild the model,
objective and dataset), ``checkpoint.pt`` (see :mod:`pyro_vae.train`), the
history, and the images and reports written from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pyro_vae import __version__
from pyro_vae.data import get_dataset
from pyro_vae.train import CHECKPOINT_NAME, load_checkpoint
from pyro_vae.utils.files import write_json
from pyro_vae.zoo import get_preset, spec_for_dataset

CONFIG_NAME = "config.json"
RUN_FORMAT = "pyro_vae.run/1"


def make_config(
    model: str,
    dataset: str,
    latent_dim: int,
    hyperparameters: dict[str, Any],
    training: dict[str, Any],
    likelihood: str | None = None,
    data_root: str | None = None,
    dataset_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``config.json`` of a run."""
    return {
        "format": RUN_FORMAT,
        "version": __version__,
        "model": model,
        "dataset": dataset,
        "data_root": data_root,
        "dataset_options": dict(dataset_options or {}),
        "latent_dim": int(latent_dim),
        "likelihood": likelihood,
        "hyperparameters": dict(hyperparameters),
        "training": dict(training),
    }


def write_config(run_dir: str | Path, config: dict[str, Any]) -> Path:
    path = Path(run_dir) / CONFIG_NAME
    write_json(path, config)
    return path


def read_config(run_dir: str | Path) -> dict[str, Any]:
    """Read and check ``config.json`` of a run folder."""
    path = Path(run_dir) / CONFIG_NAME
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: {run_dir} is not a run folder written by `pyro-vae fit`"
        )
    config = json.loads(path.read_text())
    if config.get("format") != RUN_FORMAT:
        raise ValueError(f"{path} is not a pyro_vae run config ({RUN_FORMAT})")
    return config


def build_from_config(config: dict[str, Any], dataset=None):
    """``(model, loss, dataset)`` as described by a run config (untrained)."""
    if dataset is None:
        dataset = get_dataset(
            config["dataset"], root=config.get("data_root"), **config.get("dataset_options", {})
        )
    preset = get_preset(config["model"])
    hyper = preset.resolve(config.get("hyperparameters", {}))
    spec = spec_for_dataset(dataset, config["latent_dim"], hyper, config.get("likelihood"))
    model, loss = preset.build(spec)
    return model, loss, dataset


@dataclass
class Run:
    """A fitted run loaded from its folder."""

    path: Path
    config: dict[str, Any]
    model: Any
    loss: Any
    dataset: Any
    step: int


def load_run(run_dir: str | Path, device: str | torch.device = "cpu", dataset=None) -> Run:
    """Rebuild a run's model, objective and dataset and load its last checkpoint."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    model, loss, dataset = build_from_config(config, dataset)
    ckpt = run_dir / CHECKPOINT_NAME
    if not ckpt.exists():
        raise FileNotFoundError(f"{ckpt} does not exist: the run has no checkpoint yet")
    state = load_checkpoint(ckpt, map_location=device)
    model.load_state_dict(state["model"])
    if hasattr(loss, "load_state_dict") and state.get("loss") is not None:
        loss.load_state_dict(state["loss"])
    model.to(device).eval()
    if hasattr(loss, "to"):
        loss.to(device)
    return Run(run_dir, config, model, loss, dataset, int(state["step"]))
