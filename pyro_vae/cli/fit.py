"""``pyro-vae fit``: train a preset on a dataset into a run folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pyro_vae.analysis import reconstruction_grid, save_image, traverse
from pyro_vae.data.stream import fetch_batch
from pyro_vae.runs import CONFIG_NAME, build_from_config, make_config, read_config, write_config
from pyro_vae.train import fit, resolve_device
from pyro_vae.zoo import get_preset, training_defaults


def parse_hp(items: list[str], flag: str = "--hp") -> dict[str, Any]:
    """``["beta=4", "estimator=mss"]`` -> ``{"beta": 4, "estimator": "mss"}`` (JSON values)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by ``fit`` and ``demo``."""
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="examples per step (default 64)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default 1e-4)")
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu or cuda (default auto)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--checkpoint-every", type=int, default=1000, help="default 1000")
    parser.add_argument("--log-every", type=int, default=50, help="default 50")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="train a model on a dataset into a run folder",
        description=(
            "Train a model (preset) on a dataset. Writes OUT/config.json, OUT/checkpoint.pt, "
            "OUT/history.jsonl, OUT/reconstructions.png and OUT/traversal.png. "
            "`pyro-vae list` shows the models, their hyperparameters and the datasets."
        ),
    )
    parser.add_argument("--model", required=True, help="preset name, e.g. beta-vae")
    parser.add_argument("--dataset", required=True, help="dataset name, e.g. dsprites")
    parser.add_argument("--data-root", help="folder with the dataset's files (file datasets)")
    parser.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option of the dataset's constructor, repeatable "
        "(e.g. --dataset-option allow_subset=true for a partial dSprites file)",
    )
    parser.add_argument("--latent-dim", type=int, help="latent size (default 10)")
    parser.add_argument("--likelihood", help="bernoulli, gaussian or laplace (default: dataset's)")
    parser.add_argument("--beta", type=float, help="KL weight (beta-vae, beta-tcvae, ...)")
    parser.add_argument("--gamma", type=float, help="gamma (annealed-vae, factor-vae, ...)")
    parser.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other hyperparameter of the preset, repeatable (e.g. --hp c_max=25)",
    )
    parser.add_argument("--out", help="run folder (default runs/MODEL-DATASET-sSEED)")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in OUT from its checkpoint"
    )
    add_training_arguments(parser)
    parser.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    preset = get_preset(args.model)
    hyper = parse_hp(args.hp)
    for name in ("beta", "gamma"):
        if getattr(args, name) is not None:
            hyper[name] = getattr(args, name)
    hyper = preset.resolve(hyper)
    defaults = training_defaults(preset)
    training = {
        "steps": args.steps or defaults["steps"],
        "batch_size": args.batch_size or defaults["batch_size"],
        "lr": args.lr or defaults["lr"],
        "seed": args.seed,
        "device": args.device,
        "checkpoint_every": args.checkpoint_every,
        "log_every": args.log_every,
    }
    return make_config(
        model=args.model,
        dataset=args.dataset,
        latent_dim=args.latent_dim or defaults["latent_dim"],
        hyperparameters=hyper,
        training=training,
        likelihood=args.likelihood,
        data_root=args.data_root,
        dataset_options=parse_hp(args.dataset_option, "--dataset-option"),
    )


@torch.no_grad()
def write_images(model, dataset, out: Path, seed: int = 0, n: int = 256) -> dict[str, Path]:
    """Write ``reconstructions.png`` and ``traversal.png`` for a fitted model."""
    rng = np.random.default_rng(seed)
    idx = torch.from_numpy(rng.choice(len(dataset), size=min(n, len(dataset)), replace=False))
    batch = fetch_batch(dataset, idx)
    inputs = model.inputs_from_batch(batch)
    x = inputs.pop("x").to(model.device)  # what remains: e.g. the context u of iVAE
    model.eval()
    paths = {
        "reconstructions": save_image(
            reconstruction_grid(model, x, inputs=inputs), out / "reconstructions.png"
        ),
        "traversal": save_image(traverse(model, x, inputs=inputs).grid, out / "traversal.png"),
    }
    return paths


def run_config(config: dict[str, Any], out: Path, resume: bool, progress: bool) -> int:
    """Train the run described by ``config`` into ``out`` and write its images."""
    model, loss, dataset = build_from_config(config)
    training = config["training"]
    device = resolve_device(training["device"])
    write_config(out, config)
    print(f"training {config['model']} on {config['dataset']} ({len(dataset)} items) on {device}")
    result = fit(
        model,
        loss,
        dataset,
        steps=training["steps"],
        batch_size=training["batch_size"],
        lr=training["lr"],
        device=device,
        seed=training["seed"],
        out=out,
        checkpoint_every=training["checkpoint_every"],
        log_every=training["log_every"],
        resume=resume,
        progress=progress,
    )
    images = write_images(model, dataset, out, seed=training["seed"])
    last = result.history[-1] if result.history else {}
    summary = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k not in ("step", "time"))
    print(f"done: {result.step} steps; last logged terms: {summary}")
    print(f"run folder: {out}")
    for name, path in images.items():
        print(f"  {name}: {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    out = Path(args.out or f"runs/{args.model}-{args.dataset}-s{args.seed}")
    if args.resume and (out / CONFIG_NAME).exists():
        config = read_config(out)
        if args.steps:
            config["training"]["steps"] = args.steps
    else:
        config = config_from_args(args)
    return run_config(config, out, resume=args.resume, progress=not args.no_progress)
