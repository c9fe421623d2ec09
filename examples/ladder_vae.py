"""Train a VAE and a Ladder VAE of comparable size and compare their
importance-weighted test log-likelihood and active units per layer.

Sonderby et al. 2016 (Ladder Variational Autoencoders), Table 1 reports on
MNIST log p(x) ~ -82.12 nats for a 5-layer LVAE (k = 5000 importance
samples).  This script reproduces the protocol at a small scale:

* data: sklearn's 8x8 digits (default; bundled, minutes on a CPU) with dynamic
  binarisation for training and one fixed binarisation of the held-out split,
  or ``--dataset binarized-mnist`` (the registered MNIST dataset; needs its
  files, see ``--data-root``);
* models: :class:`~pyro_vae.models.LadderVAE` and a one-layer
  :class:`~pyro_vae.models.VAE` with MLPs whose width is chosen so that both
  have about the same number of parameters;
* training: :func:`pyro_vae.train.fit` with :class:`~pyro_vae.infer.BetaELBO`
  and the KL warm-up ``beta: 0 -> 1`` of Sonderby et al. 2016;
* evaluation (``model.eval()``): the test ELBO, the importance-weighted
  log-likelihood :func:`~pyro_vae.infer.importance_log_likelihood` (Burda et al.
  2016, eq. 8; k = 5000 by default), KL and active units per layer
  (:func:`~pyro_vae.analysis.active_units`).

Usage::

    python examples/ladder_vae.py                     # digits, default sizes
    python examples/ladder_vae.py --tiny              # seconds: a smoke run (CI)
    python examples/ladder_vae.py --dataset binarized-mnist --data-root DIR \\
        --latent-dims 64 32 16 8 4 --hidden-dims 512 256 128 64 32 --batch-size 256
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

from pyro_vae.analysis import active_units, kl_per_layer
from pyro_vae.data import Digits, get_dataset
from pyro_vae.data.files import DatasetFileError
from pyro_vae.data.stream import fetch_batch
from pyro_vae.infer import BetaELBO, importance_log_likelihood
from pyro_vae.models import VAE, LadderVAE
from pyro_vae.train import fit, resolve_device
from pyro_vae.utils.files import write_json
from pyro_vae.zoo.ladder import warmup_loss

MNIST = "binarized-mnist"
DEFAULTS = {
    "digits": {
        "latent_dims": [32, 16, 8, 4],
        "hidden_dims": [256, 128, 64, 32],
        "mlp_layers": 2,
        "steps": 6000,
        "warmup_steps": 1000,
        "batch_size": 64,
        "lr": 2e-3,
    },
    MNIST: {
        "latent_dims": [64, 32, 16, 8, 4],
        "hidden_dims": [512, 256, 128, 64, 32],
        "mlp_layers": 2,
        "steps": 100_000,
        "warmup_steps": 46_875,
        "batch_size": 256,
        "lr": 2e-3,
    },
}
TINY = {
    "latent_dims": [4, 2],
    "hidden_dims": [16, 8],
    "mlp_layers": 1,
    "steps": 20,
    "warmup_steps": 10,
    "batch_size": 32,
    "num_samples": 20,
    "chunk": 8,
    "eval_examples": 48,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="digits", help=f"digits (default) or {MNIST}")
    p.add_argument("--data-root", help=f"folder with the files of {MNIST}")
    p.add_argument("--latent-dims", type=int, nargs="+", help="LVAE layer sizes z1..zL")
    p.add_argument("--hidden-dims", type=int, nargs="+", help="LVAE deterministic widths")
    p.add_argument("--mlp-layers", type=int, help="hidden layers per MLP (default 2)")
    p.add_argument("--steps", type=int, help="training steps per model")
    p.add_argument("--warmup-steps", type=int, help="steps of the KL warm-up 0 -> 1")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--num-samples", type=int, default=5000, help="importance samples k (5000)")
    p.add_argument("--chunk", type=int, default=500, help="particles traced at once (500)")
    p.add_argument("--eval-examples", type=int, help="held-out examples evaluated (default all)")
    p.add_argument("--eval-batch-size", type=int, default=128, help="examples traced at once")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (CI)")
    p.add_argument("--json", type=Path, help="also write the results to this JSON file")
    p.add_argument("--progress", action="store_true", help="show training progress bars")
    args = p.parse_args(argv)
    if args.dataset not in DEFAULTS:
        p.error(f"--dataset must be one of {sorted(DEFAULTS)}, got {args.dataset!r}")
    defaults = dict(DEFAULTS[args.dataset])
    if args.tiny:
        defaults.update(TINY)
    for key, value in defaults.items():
        if getattr(args, key, None) is None or (args.tiny and key in ("num_samples", "chunk")):
            setattr(args, key, value)
    return args


def load_data(args: argparse.Namespace):
    """``(train dataset, held-out observations tensor)``."""
    if args.dataset == "digits":
        train = Digits(split="train", binarize="dynamic", seed=args.seed)
        test = Digits(split="test", binarize="fixed", seed=args.seed + 1)
        return train, test.images
    try:
        train = get_dataset(MNIST, root=args.data_root, split="train")
        test = get_dataset(MNIST, root=args.data_root, split="test")
    except (OSError, RuntimeError, DatasetFileError) as err:
        raise SystemExit(f"error: could not load {MNIST!r} (--data-root): {err}") from err
    except ValueError as err:
        if "unknown dataset" not in str(err):
            raise
        raise SystemExit(
            f"error: the dataset {MNIST!r} is not registered in this installation of "
            "pyro_vae (it comes with the MNIST dataset module); run with --dataset digits"
        ) from err
    x = fetch_batch(test, torch.arange(len(test)))  # one fixed draw of the test set
    return train, x[0] if isinstance(x, tuple | list) else x


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matched_vae(input_shape, latent_dim: int, target: int) -> VAE:
    """A two-hidden-layer MLP VAE whose width makes its parameter count closest to ``target``."""
    d = math.prod(input_shape)
    # encoder d->w->w->2L, decoder L->w->w->d: 2w^2 + w(d + L + 2L + d + 4) + 2L + d
    a, b, c = 2.0, float(2 * d + 3 * latent_dim + 4), float(2 * latent_dim + d - target)
    width = max(1, round((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))
    return VAE.mlp(input_shape, latent_dim=latent_dim, hidden_dims=(width, width))


def build_models(args: argparse.Namespace, input_shape) -> dict[str, Any]:
    lvae = LadderVAE(input_shape, args.latent_dims, args.hidden_dims, mlp_layers=args.mlp_layers)
    vae = matched_vae(input_shape, args.latent_dims[0], count_parameters(lvae))
    return {"VAE": vae, "LVAE": lvae}


@torch.no_grad()
def held_out_elbo(model, x: torch.Tensor, batch_size: int, repeats: int = 10) -> float:
    """Average held-out ELBO (beta = 1, analytic KL per layer), in nats: the one-sample
    estimate averaged over ``repeats`` draws per example."""
    loss = BetaELBO(1.0)
    total = 0.0
    for _ in range(repeats):
        for start in range(0, x.shape[0], batch_size):
            xb = x[start : start + batch_size]
            total -= loss.loss(model.model, model.guide, xb) * xb.shape[0]
    return total / (repeats * x.shape[0])


def evaluate(model, x: torch.Tensor, args: argparse.Namespace) -> dict[str, Any]:
    model.eval()
    x = x.to(model.device)
    t0 = time.perf_counter()
    ll = importance_log_likelihood(
        model.model,
        model.guide,
        x,
        num_samples=args.num_samples,
        chunk=args.chunk,
        batch_size=args.eval_batch_size,
    )
    elbo = held_out_elbo(model, x, args.eval_batch_size)
    units = active_units(model, x, batch_size=args.eval_batch_size)
    return {
        "elbo": elbo,
        "log_likelihood": float(ll.mean()),
        "kl_per_layer": kl_per_layer(model, x, batch_size=args.eval_batch_size),
        "active_units": units.counts,
        "units": units.sizes,
        "eval_seconds": round(time.perf_counter() - t0, 1),
    }


def format_table(results: dict[str, Any]) -> str:
    k = results["num_samples"]
    lines = [
        f"| model | parameters | test ELBO | test log p(x), IW k={k} | KL per layer "
        "(z1..zL) | active units per layer (z1..zL) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results["models"].items():
        kl = " / ".join(f"{v:.2f}" for v in r["kl_per_layer"].values())
        au = " / ".join(f"{r['active_units'][s]}/{r['units'][s]}" for s in r["active_units"])
        lines.append(
            f"| {name} | {r['parameters']:,} | {r['elbo']:.2f} | {r['log_likelihood']:.2f} "
            f"| {kl} | {au} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison; print and return the results."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    train, x_test = load_data(args)
    if args.eval_examples:
        x_test = x_test[: args.eval_examples]
    input_shape = tuple(x_test.shape[1:])
    torch.manual_seed(args.seed)
    models = build_models(args, input_shape)
    results: dict[str, Any] = {
        "dataset": args.dataset,
        "train_examples": len(train),
        "test_examples": int(x_test.shape[0]),
        "num_samples": args.num_samples,
        "settings": {
            k: getattr(args, k)
            for k in ("latent_dims", "hidden_dims", "mlp_layers", "steps", "warmup_steps")
            + ("batch_size", "lr", "seed")
        },
        "models": {},
    }
    print(
        f"{args.dataset}: {len(train)} training and {x_test.shape[0]} held-out examples; "
        f"{args.steps} steps each on {device}"
    )
    for name, model in models.items():
        t0 = time.perf_counter()
        history = fit(
            model,
            warmup_loss(args.warmup_steps),
            train,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            device=device,
            seed=args.seed,
            progress=args.progress,
            log_every=max(1, args.steps // 10),
        ).history
        row = evaluate(model, x_test, args)
        row.update(
            parameters=count_parameters(model),
            train_seconds=round(time.perf_counter() - t0 - row["eval_seconds"], 1),
            final_train_loss=history[-1]["loss"] if history else float("nan"),
        )
        results["models"][name] = row
        print(
            f"{name}: {row['parameters']:,} parameters, test ELBO {row['elbo']:.2f}, "
            f"log p(x) >= {row['log_likelihood']:.2f} (k={args.num_samples}), "
            f"active units {row['active_units']}"
        )
    print()
    print(format_table(results))
    if args.json:
        write_json(args.json, results)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
