"""``pyro-vae report RUN``: a self-contained HTML report of a fitted run."""

from __future__ import annotations

import argparse
from pathlib import Path

from pyro_vae.analysis.report import REPORT_NAME, write_report
from pyro_vae.train import resolve_device


def add_analysis_arguments(parser: argparse.ArgumentParser, examples: int) -> None:
    """Flags shared by ``report``, ``traverse`` and ``ppc``."""
    parser.add_argument("run", metavar="RUN", help="run folder written by `pyro-vae fit`")
    parser.add_argument(
        "--examples",
        type=int,
        default=examples,
        help=f"dataset items analysed, chosen with --seed (default {examples})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu or cuda (default auto)"
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write RUN/report.html: config, curves, images, traversals, KL, PPC, metrics",
        description=(
            f"Write a self-contained {REPORT_NAME} (images embedded) for a fitted run: config, "
            "training curves, reconstructions, prior samples, latent traversals and KL per "
            "dimension of every local latent site, a posterior predictive check, and the "
            "metrics of metrics.json when `pyro-vae evaluate` wrote one."
        ),
    )
    add_analysis_arguments(parser, examples=64)
    parser.add_argument("--out", help=f"the HTML file (default RUN/{REPORT_NAME})")
    parser.add_argument(
        "--num-samples", type=int, default=50, help="posterior predictive draws (default 50)"
    )
    parser.add_argument("--steps", type=int, default=8, help="values per traversal row (default 8)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = write_report(
        Path(args.run),
        args.out,
        device=resolve_device(args.device),
        examples=args.examples,
        num_samples=args.num_samples,
        steps=args.steps,
        seed=args.seed,
    )
    print(f"report: {path}")
    return 0
