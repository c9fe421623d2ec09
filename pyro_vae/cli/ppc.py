"""``pyro-vae ppc RUN``: posterior predictive check of a fitted run with ArviZ."""

from __future__ import annotations

import argparse
from pathlib import Path

from pyro_vae.analysis import (
    draw_examples,
    loo_summary,
    plot_ppc,
    posterior_predictive,
    ppc_table,
    save_figure,
)
from pyro_vae.cli.report import add_analysis_arguments
from pyro_vae.runs import load_run
from pyro_vae.train import resolve_device
from pyro_vae.utils.files import atomic_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ppc",
        help="posterior predictive check (ArviZ): RUN/ppc.png and p-values",
        description=(
            "Draw z ~ q(z | x) for dataset examples, replicate x ~ p(x | z), and compare "
            "summary statistics of replicated and observed data with az.plot_ppc. Writes "
            "RUN/ppc.png, prints posterior predictive p-values and PSIS-LOO (see "
            "docs/analysis.md for what LOO means with amortized local latents)."
        ),
    )
    add_analysis_arguments(parser, examples=64)
    parser.add_argument(
        "--num-samples", type=int, default=100, help="posterior draws (default 100)"
    )
    parser.add_argument(
        "--pixel-log-likelihood",
        action="store_true",
        help="also store log p(x | z) per pixel in the InferenceData",
    )
    parser.add_argument(
        "--save-idata",
        action="store_true",
        help="also write the InferenceData to RUN/posterior_predictive.nc (netCDF, h5netcdf)",
    )
    parser.add_argument("--out", help="PNG path (default RUN/ppc.png)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_run(args.run, device=resolve_device(args.device))
    examples = draw_examples(loaded.model, loaded.dataset, args.examples, args.seed)
    idata = posterior_predictive(
        loaded.model,
        None,
        examples.x,
        args.num_samples,
        inputs=examples.inputs,
        pixel_log_likelihood=args.pixel_log_likelihood,
        example_ids=examples.ids,
        seed=args.seed,
    )
    out = Path(args.out) if args.out else Path(args.run) / "ppc.png"
    print(f"posterior predictive check: {args.num_samples} draws, {len(examples.ids)} examples")
    print(f"  {'statistic':<28} {'observed':>10} {'replicated':>18} {'p-value':>8}")
    for row in ppc_table(idata):
        rep = f"{row['replicated_mean']:.4g} +- {row['replicated_sd']:.2g}"
        print(f"  {row['statistic']:<28} {row['observed']:>10.4g} {rep:>18} {row['p_value']:>8.3f}")
    loo = loo_summary(idata)
    print(
        f"  PSIS-LOO: elpd_loo={loo['elpd_loo']:.4g} (se {loo['se']:.3g}), "
        f"{100 * loo['fraction_k_above_0.7']:.0f}% of Pareto k > 0.7 "
        "(one latent per example: LOO is unreliable here)"
    )
    print(f"  png: {save_figure(plot_ppc(idata, seed=args.seed), out)}")
    if args.save_idata:
        nc = Path(args.run) / "posterior_predictive.nc"
        with atomic_path(nc) as tmp:
            idata.to_netcdf(str(tmp), engine="h5netcdf")
        print(f"  InferenceData: {nc}")
    return 0
