"""``pyro-vae demo``: a small beta-VAE on procedural dSprites, a few minutes on a CPU."""

from __future__ import annotations

import argparse
from pathlib import Path

from pyro_vae.analysis.report import write_report
from pyro_vae.cli.fit import add_training_arguments, run_config
from pyro_vae.runs import make_config
from pyro_vae.train import resolve_device

#: the demo's settings; chosen so that a 2-core CPU finishes in 2-3 minutes
DEMO = {
    "model": "beta-vae",
    "dataset": "dsprites",
    "latent_dim": 10,
    "hyperparameters": {"beta": 4.0},
    "training": {"steps": 2400, "batch_size": 64, "lr": 1e-3},
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="train a small beta-VAE on procedural dSprites (a few minutes on a CPU)",
        description=(
            f"Train a beta-VAE (beta={DEMO['hyperparameters']['beta']}, "
            f"{DEMO['latent_dim']} latents) on procedural dSprites for "
            f"{DEMO['training']['steps']} steps, write the run folder and its report.html."
        ),
    )
    parser.add_argument("--out", default="runs/demo", help="run folder (default runs/demo)")
    add_training_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    training = dict(DEMO["training"])
    for key in ("steps", "batch_size", "lr"):
        if getattr(args, key) is not None:
            training[key] = getattr(args, key)
    training.update(
        seed=args.seed,
        device=args.device,
        checkpoint_every=args.checkpoint_every,
        log_every=args.log_every,
    )
    config = make_config(
        model=DEMO["model"],
        dataset=DEMO["dataset"],
        latent_dim=DEMO["latent_dim"],
        hyperparameters=DEMO["hyperparameters"],
        training=training,
    )
    out = Path(args.out)
    status = run_config(config, out, resume=False, progress=not args.no_progress)
    if status != 0:
        return status
    report = write_report(out, device=resolve_device(args.device), seed=args.seed)
    print(f"report: {report}")
    return 0
