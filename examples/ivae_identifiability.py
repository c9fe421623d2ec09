"""iVAE against a plain VAE on nonlinear ICA data: which one recovers the sources?

Both models use the same encoder/decoder architecture and the same data
(:class:`pyro_vae.data.NonlinearICA`: Gaussian sources whose variances change
from segment to segment, mixed by a random leaky-ReLU MLP).  The iVAE's
prior is conditional on the segment u (and its encoder reads u); the VAE's
prior is N(0, I).  After training, the mean correlation coefficient (MCC)
between the encoder means and the true sources measures identifiability
(1 = every source recovered up to an elementwise map).

    python examples/ivae_identifiability.py                   # documented run
    python examples/ivae_identifiability.py --steps 200 --segments 5 --per-segment 40
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyro
import torch

from pyro_vae.data import NonlinearICA
from pyro_vae.infer import BetaELBO
from pyro_vae.likelihoods import Gaussian
from pyro_vae.metrics import mcc
from pyro_vae.metrics.mask import match_latents
from pyro_vae.models import IVAE, VAE
from pyro_vae.nets import MLPDecoder, MLPEncoder
from pyro_vae.priors.conditional import IVAE_ACTIVATION
from pyro_vae.train import fit


def build_models(
    data: NonlinearICA, hidden: int = 50, learn_prior_mean: bool = False, obs_scale: float = 0.1
) -> dict[str, VAE]:
    """An iVAE and a VAE with the same networks (the VAE's encoder does not read u)."""
    shape, dim, hidden_dims = data.observation_shape, data.latent_dim, (hidden, hidden)
    ivae = IVAE.mlp(
        shape,
        data.context_dim,
        dim,
        hidden_dims,
        learn_prior_mean=learn_prior_mean,
        likelihood=Gaussian(obs_scale),
    )
    vae = VAE(
        MLPEncoder(shape, dim, hidden_dims, activation=IVAE_ACTIVATION),
        MLPDecoder(dim, shape, hidden_dims, IVAE_ACTIVATION),
        shape,
        dim,
        likelihood=Gaussian(obs_scale),
    )
    return {"ivae": ivae, "vae": vae}


def run(
    segments: int = 40,
    per_segment: int = 1000,
    latent_dim: int = 5,
    mixing_layers: int = 3,
    slope: float = 0.1,
    steps: int = 20_000,
    batch_size: int = 64,
    lr: float = 1e-3,
    learn_prior_mean: bool = False,
    seed: int = 0,
    figure: str | Path | None = None,
    progress: bool = False,
) -> dict[str, float]:
    """Train both models and return their MCC (``{"ivae": ..., "vae": ...}``)."""
    data = NonlinearICA(
        segments, per_segment, latent_dim, mixing_layers=mixing_layers, slope=slope, seed=seed
    )
    x, sources, u = data.get_batch(np.arange(len(data)))
    results: dict[str, float] = {}
    codes: dict[str, np.ndarray] = {}
    pyro.set_rng_seed(seed)  # the networks' initial weights
    for name, model in build_models(data, learn_prior_mean=learn_prior_mean).items():
        fit(model, BetaELBO(1.0), data, steps=steps, batch_size=batch_size, lr=lr,
            device="cpu", seed=seed, progress=progress)  # fmt: skip
        codes[name] = model.representation(x, u) if name == "ivae" else model.representation(x)
        codes[name] = codes[name].numpy()
        results[name] = mcc(codes[name], sources.numpy())["mcc"]
    if figure is not None:
        plot(codes, sources.numpy(), results, figure)
    return results


def plot(codes: dict[str, np.ndarray], sources: np.ndarray, mcc: dict[str, float], path) -> Path:
    """Scatter each true source against the latent matched to it, one row per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pyro_vae.analysis import save_figure

    dims = sources.shape[1]
    fig, axes = plt.subplots(len(codes), dims, figsize=(2.2 * dims, 2.3 * len(codes)))
    axes = np.atleast_2d(axes)
    show = np.random.default_rng(0).choice(len(sources), size=min(2000, len(sources)))
    for row, (name, z) in enumerate(codes.items()):
        matching = match_latents(z, sources)
        for k in range(dims):
            ax = axes[row, k]
            ax.scatter(sources[show, k], z[show, matching[k]], s=1, alpha=0.3)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"source s{k + 1}")
            if k == 0:
                ax.set_ylabel(f"{name} (MCC {mcc[name]:.2f})\nmatched latent")
    fig.tight_layout()
    path = save_figure(fig, path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=40)
    parser.add_argument("--per-segment", type=int, default=1000)
    parser.add_argument("--latent-dim", type=int, default=5)
    parser.add_argument("--mixing-layers", type=int, default=3)
    parser.add_argument("--slope", type=float, default=0.1, help="of the mixing's leaky ReLU")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--learn-prior-mean",
        action="store_true",
        help="learn mu(u) too (default: fixed at 0, as the official code)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", help="write the scatter plots to this PNG")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small networks: one thread is fastest
    results = run(**vars(args))
    print(f"MCC  iVAE: {results['ivae']:.3f}   VAE: {results['vae']:.3f}")
    return results


if __name__ == "__main__":
    main()
