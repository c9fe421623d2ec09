"""Time pyro_vae's training step against a hand-written PyTorch beta-VAE step.

Both sides use the same conv64 encoder/decoder (same initial weights), batch
64, latent 10, analytic KL to N(0, I), Bernoulli log-likelihood (BCE with
logits summed over pixels, averaged over the batch) and Adam.  Blocks of
steps of the two are interleaved in one process and the ratio of median
block times is printed (ours / hand-written; 1.0 = no overhead).

    python benchmarks/svi_step.py                 # CPU, 2 threads
    python benchmarks/svi_step.py --device cuda   # also prints images/s
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import pyro
import torch
import torch.nn.functional as F

from pyro_vae.infer import BetaELBO
from pyro_vae.models import VAE
from pyro_vae.train import svi_step
from pyro_vae.utils.malloc import tune_malloc


def handwritten_step(encoder, decoder, optimizer, x, beta):
    loc, scale = encoder(x)
    z = loc + scale * torch.randn_like(loc)
    logits = decoder(z)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    var = scale.pow(2)
    kl = 0.5 * (var + loc.pow(2) - 1.0 - var.log()).sum() / x.shape[0]
    loss = recon + beta * kl
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--block", type=int, default=10, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved block pairs")
    parser.add_argument("--no-malloc-tuning", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    tuned = False if args.no_malloc_tuning else tune_malloc()
    device = torch.device(args.device)
    torch.manual_seed(0)
    vae = VAE.conv64(latent_dim=10).to(device)
    encoder = copy.deepcopy(vae.encoder)
    decoder = copy.deepcopy(vae.decoder)
    ours_opt = torch.optim.Adam(vae.parameters(), lr=1e-4)
    ref_opt = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-4)
    loss = BetaELBO(4.0)
    x = (torch.rand(args.batch_size, 1, 64, 64, device=device) > 0.5).float()

    def ours():
        svi_step(vae, loss, ours_opt, x=x)

    def reference():
        handwritten_step(encoder, decoder, ref_opt, x, 4.0)

    times = {"pyro_vae": [], "torch": []}
    with pyro.validation_enabled(False), vae.param_sites(False):  # as fit() after step 1
        for fn in (ours, reference):  # warm-up
            for _ in range(args.block):
                fn()
        for r in range(args.rounds):
            order = [("pyro_vae", ours), ("torch", reference)]
            if r % 2:
                order.reverse()
            for name, fn in order:
                sync(device)
                t0 = time.perf_counter()
                for _ in range(args.block):
                    fn()
                sync(device)
                times[name].append((time.perf_counter() - t0) / args.block)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"device={device} threads={args.threads} batch={args.batch_size} "
        f"malloc_tuned={tuned} torch={torch.__version__} pyro={pyro.__version__}"
    )
    for name, t in med.items():
        print(f"  {name:<9} {1000 * t:8.2f} ms/step  {args.batch_size / t:10.0f} images/s")
    print(f"  ratio pyro_vae / torch = {med['pyro_vae'] / med['torch']:.3f}")


if __name__ == "__main__":
    main()
