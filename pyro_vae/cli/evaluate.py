"""``pyro-vae evaluate``: score a fitted run with the disentanglement metrics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from pyro_vae.metrics.evaluate import DEFAULT_METRICS, METRICS, evaluate
from pyro_vae.runs import load_run
from pyro_vae.train import resolve_device
from pyro_vae.utils.files import write_json

METRICS_NAME = "metrics.json"

#: the numbers shown in the printed table for each metric
HEADLINES = {
    "mig": ("mig",),
    "mig-sampled": ("mig",),
    "dci": ("disentanglement", "completeness", "informativeness_test"),
    "sap": ("sap",),
    "factor-vae": ("eval_accuracy", "num_active_dims"),
    "beta-vae": ("eval_accuracy",),
    "modularity": ("modularity", "explicitness_test"),
    "mcc": ("mcc", "mcc_spearman"),
    "mic": ("mic", "tic"),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a run with disentanglement metrics; writes RUN/metrics.json",
        description=(
            "Compute disentanglement metrics of a fitted run's mean representation on its "
            "dataset, write RUN/metrics.json (merged with earlier results) and print a table."
        ),
    )
    parser.add_argument("run", help="run folder written by `pyro-vae fit`")
    parser.add_argument(
        "--metrics",
        default=",".join(DEFAULT_METRICS),
        help=f"comma-separated metric names among {', '.join(METRICS)} "
        f"(default: {','.join(DEFAULT_METRICS)})",
    )
    parser.add_argument(
        "--preset", default="dlib", help="dlib (disentanglement_lib sizes) or fast (default dlib)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every metric (default 0)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument(
        "--exclude-factors",
        default="",
        help="comma-separated factor names left out of MIG (e.g. shape, as Chen et al.)",
    )
    parser.set_defaults(func=run)


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """One line per metric with its headline numbers."""
    lines = [f"{'metric':<12} {'value':<60}"]
    for name, result in results.items():
        keys = HEADLINES.get(name, ())
        cells = [f"{k}={result[k]:.4g}" for k in keys if isinstance(result.get(k), int | float)]
        lines.append(f"{name:<12} {', '.join(cells)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid metrics: {', '.join(METRICS)}")
    device = resolve_device(args.device)
    loaded = load_run(args.run, device=device)
    model = loaded.model

    def representation(x: torch.Tensor) -> torch.Tensor:
        return model.representation(x.to(device))

    def posterior(x: torch.Tensor):
        with torch.no_grad():
            return model.encode(x.to(device))

    options = {}
    excluded = [f.strip() for f in args.exclude_factors.split(",") if f.strip()]
    if excluded:
        options = {m: {"exclude_factors": excluded} for m in ("mig", "mig-sampled") if m in names}
    results = evaluate(
        representation,
        loaded.dataset,
        metrics=names,
        preset=args.preset,
        seed=args.seed,
        posterior_fn=posterior,
        options=options,
    )
    path = Path(args.run) / METRICS_NAME
    previous = json.loads(path.read_text()) if path.exists() else {}
    write_json(path, {**previous, **results})
    print(format_table(results))
    print(f"metrics written to {path}")
    return 0
