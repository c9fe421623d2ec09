"""``pyro-vae list``: the models (presets) and datasets available."""

from __future__ import annotations

import argparse

from pyro_vae.data import dataset_entries
from pyro_vae.zoo import presets, training_defaults


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list models (presets) with their hyperparameters, and datasets",
        description="List the models (presets) with their default hyperparameters, "
        "and the datasets.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print("models (--model):")
    for name, preset in presets().items():
        hyper = ", ".join(f"{k}={v}" for k, v in preset.hyperparameters.items()) or "-"
        train = training_defaults(preset)
        print(f"  {name:<16} {preset.summary}")
        print(
            f"  {'':<16} hyperparameters: {hyper}; lr={train['lr']}, "
            f"batch_size={train['batch_size']}"
        )
        print(f"  {'':<16} paper: {preset.paper}")
    print("datasets (--dataset):")
    for name, entry in dataset_entries().items():
        files = " [needs files: --data-root]" if entry.needs_files else ""
        print(f"  {name:<16} {entry.summary}{files}")
    return 0
