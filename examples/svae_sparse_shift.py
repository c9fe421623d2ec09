"""sVAE against a VAE with a conditional Gaussian prior on sparse mechanism shift data.

The data (:class:`pyro_vae.data.SparseMechanismShift`) come from actions that
each shift 1-3 of the latent variables.  The sVAE's spike-and-slab prior
p(z | a) = N(gamma_a * mu_a, I) must explain every action with a sparse mask
gamma_a; the baseline's prior p(z | a) = N(mu(a), sigma^2(a)) (iVAE's
:class:`~pyro_vae.priors.ConditionalGaussian`) may shift every latent.  Both
encoders read x only.  We report the MCC of the encoder means against the
true latents and the precision/recall/F1 of the recovered action-to-latent
mask after matching latents (:func:`pyro_vae.metrics.mask.mask_scores`): for
the sVAE the mask is ``pi > 0.5``; for the baseline, ``|mu_k(a)| /
sigma_k(a) > 1`` (a shift of more than one prior standard deviation).

    python examples/svae_sparse_shift.py                      # documented run
    python examples/svae_sparse_shift.py --actions 6 --per-action 30 --latent-dim 3 --steps 50
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyro
import torch

from pyro_vae.data import SparseMechanismShift
from pyro_vae.infer import BetaELBO
from pyro_vae.likelihoods import get_likelihood
from pyro_vae.metrics import mask_scores, mcc
from pyro_vae.models import IVAE, SVAE
from pyro_vae.nets import MLPDecoder, MLPEncoder
from pyro_vae.priors import ConditionalGaussian
from pyro_vae.train import fit


def build_models(
    data: SparseMechanismShift,
    hidden: int = 128,
    sparsity: float | None = None,
    init_logit: float = 5.0,
) -> dict[str, IVAE]:
    """sVAE and the conditional-Gaussian baseline, with the same networks q(z | x), p(x | z)."""
    shape, dim, actions = data.observation_shape, data.latent_dim, data.context_dim
    hidden_dims = (hidden, hidden)
    counts = data.observation == "poisson"

    def likelihood():
        return get_likelihood("poisson") if counts else get_likelihood("gaussian", scale=0.1)

    svae = SVAE.mlp(shape, actions, dim, hidden_dims, sparsity=sparsity, init_logit=init_logit,
                    likelihood=likelihood(), log1p_input=counts)  # fmt: skip
    baseline = IVAE(  # q(z | x): the encoder does not read the action
        MLPEncoder(shape, dim, hidden_dims),
        MLPDecoder(dim, shape, hidden_dims),
        shape,
        dim,
        actions,
        prior=ConditionalGaussian(actions, dim, learn_mean=True),
        likelihood=likelihood(),
        log1p_input=counts,
    )
    return {"svae": svae, "conditional": baseline}


def baseline_mask(model: IVAE) -> np.ndarray:
    """``|mu_k(a)| / sigma_k(a) > 1`` for each action ``a`` of the conditional prior."""
    with torch.no_grad():
        loc, scale = model.prior.params(torch.eye(model.context_dim))
    return (loc.abs() / scale > 1.0).numpy()


def run(
    actions: int = 100,
    per_action: int = 250,
    latent_dim: int = 15,
    observation: str = "gaussian",
    steps: int = 100_000,
    batch_size: int = 128,
    lr: float = 2e-3,
    sparsity: float | None = None,
    init_logit: float = 5.0,
    seed: int = 0,
    figure: str | Path | None = None,
    progress: bool = False,
    **data_options,
) -> dict[str, dict[str, float]]:
    """Train both models; return ``{model: {"mcc", "precision", "recall", "f1"}}``."""
    data = SparseMechanismShift(
        actions, per_action, latent_dim, observation=observation, seed=seed, **data_options
    )
    x, latents, u = data.get_batch(np.arange(len(data)))
    results: dict[str, dict[str, float]] = {}
    masks: dict[str, np.ndarray] = {}
    pyro.set_rng_seed(seed)  # the networks' initial weights
    for name, model in build_models(data, sparsity=sparsity, init_logit=init_logit).items():
        fit(model, BetaELBO(1.0), data, steps=steps, batch_size=batch_size, lr=lr,
            device="cpu", seed=seed, progress=progress)  # fmt: skip
        codes = model.representation(x).numpy()
        masks[name] = model.learned_mask().numpy() if name == "svae" else baseline_mask(model)
        scores = mask_scores(masks[name], data.true_mask, codes=codes, factors=latents.numpy())
        masks[name] = masks[name][:, scores.matching]  # columns in the true latents' order
        results[name] = {
            "mcc": mcc(codes, latents.numpy())["mcc"],
            "precision": scores.precision,
            "recall": scores.recall,
            "f1": scores.f1,
        }
    if figure is not None:
        plot(data.true_mask, masks, results, figure)
    return results


def plot(true_mask: np.ndarray, masks: dict[str, np.ndarray], results, path) -> Path:
    """The true mask next to each model's matched mask (first 30 actions)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pyro_vae.analysis import save_figure

    shown = slice(0, min(30, true_mask.shape[0]))
    panels = {"true mask": true_mask, **masks}
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 4.5))
    for ax, (name, mask) in zip(axes, panels.items(), strict=True):
        ax.imshow(mask[shown], cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        title = name
        if name in results:
            r = results[name]
            title = f"{name}\nMCC {r['mcc']:.2f}, F1 {r['f1']:.2f}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("latent (matched)")
    axes[0].set_ylabel("action")
    fig.tight_layout()
    path = save_figure(fig, path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", type=int, default=100)
    parser.add_argument("--per-action", type=int, default=250)
    parser.add_argument("--latent-dim", type=int, default=15)
    parser.add_argument("--observed-dim", type=int, default=100)
    parser.add_argument("--hidden-dim", type=int, default=40, help="of the data's decoder")
    parser.add_argument("--observation", choices=("gaussian", "poisson"), default="gaussian")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--sparsity", type=float, help="K of Beta(1, K) (default: latent size)")
    parser.add_argument("--init-logit", type=float, default=5.0, help="initial logit(pi)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", help="write the mask plot to this PNG")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small networks: one thread is fastest
    results = run(**vars(args))
    for name, r in results.items():
        print(f"{name:>12}: MCC {r['mcc']:.3f}  mask precision {r['precision']:.3f} "
              f"recall {r['recall']:.3f} F1 {r['f1']:.3f}")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
