"""``pyro-vae traverse RUN``: latent traversal grid (and GIF) of a fitted run."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from pyro_vae.analysis import draw_examples, save_image, traversal_gif, traverse
from pyro_vae.cli.report import add_analysis_arguments
from pyro_vae.runs import load_run
from pyro_vae.train import resolve_device


def parse_span(values: list[str]) -> tuple[float, float] | str:
    """``["quantiles"]`` or ``["LOW", "HIGH"]`` -> the ``span`` of :func:`traverse`."""
    if values == ["quantiles"]:
        return "quantiles"
    try:
        low, high = (float(v) for v in values)
    except ValueError:
        got = " ".join(values)
        raise ValueError(f"--span expects LOW HIGH or 'quantiles', got {got}") from None
    return low, high


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "traverse",
        help="latent traversal grid (PNG, optionally GIF) of a fitted run",
        description=(
            "Decode a seed code while sweeping one latent unit per row. Posterior traversal "
            "from a dataset example (rows ordered by average KL, Burgess et al. 2018), or a "
            "prior traversal with --prior. Writes RUN/traversal-SITE.png (and .gif with --gif)."
        ),
    )
    add_analysis_arguments(parser, examples=256)
    parser.add_argument("--site", help="latent site, e.g. z2 of a hierarchy (default: the model's)")
    parser.add_argument(
        "--dims", nargs="+", type=int, help="units to traverse (default: all)", metavar="D"
    )
    parser.add_argument(
        "--span",
        nargs="+",
        default=["-3", "3"],
        metavar="V",
        help="LOW HIGH in latent units (default -3 3), or 'quantiles': the 5%%..95%% "
        "quantiles of the posterior means over the examples, per dimension",
    )
    parser.add_argument("--steps", type=int, default=10, help="values per row (default 10)")
    parser.add_argument(
        "--order", choices=("kl", "index"), default="kl", help="row order (default kl)"
    )
    parser.add_argument("--prior", action="store_true", help="traverse around the prior mean")
    parser.add_argument(
        "--seed-index", type=int, default=0, help="which analysed example seeds the code"
    )
    parser.add_argument("--gif", action="store_true", help="also write an animated GIF")
    parser.add_argument("--out", help="PNG path (default RUN/traversal-SITE.png)")
    parser.set_defaults(func=run)


@torch.no_grad()
def run(args: argparse.Namespace) -> int:
    span = parse_span(args.span)
    loaded = load_run(args.run, device=resolve_device(args.device))
    examples = draw_examples(loaded.model, loaded.dataset, args.examples, args.seed)
    result = traverse(
        loaded.model,
        None if args.prior else examples.x,
        args.dims or "all",
        span,
        args.steps,
        args.order,
        args.seed_index,
        site=args.site,
        inputs=examples.inputs,
    )
    out = Path(args.out) if args.out else Path(args.run) / f"traversal-{result.site}.png"
    print(f"traversal of site {result.site!r}: rows {result.dims}")
    if result.kl is not None:
        print(
            "average KL of units 0, 1, ... (nats): "
            + ", ".join(f"{float(v):.3g}" for v in result.kl)
        )
    print(f"  png: {save_image(result.grid, out)}")
    if args.gif:
        print(f"  gif: {traversal_gif(result, out.with_suffix('.gif'))}")
    return 0
