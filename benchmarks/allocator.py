"""Measure glibc malloc tuning (pyro_vae.utils.malloc.tune_malloc) on CPU steps.

mallopt settings are per process, so each measurement runs in a child
process; children with and without tuning alternate, and the script prints
median ms/step and minor page faults per step for both, and their ratio.

    python benchmarks/allocator.py --pairs 4 --steps 30
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def child(tune: bool, steps: int, threads: int, batch_size: int) -> None:
    import pyro
    import torch

    from pyro_vae.infer import BetaELBO
    from pyro_vae.models import VAE
    from pyro_vae.train import svi_step
    from pyro_vae.utils.malloc import tune_malloc

    tuned = tune_malloc() if tune else False
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    vae = VAE.conv64(latent_dim=10)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-4)
    loss = BetaELBO(4.0)
    x = (torch.rand(batch_size, 1, 64, 64) > 0.5).float()
    with pyro.validation_enabled(False), vae.param_sites(False):
        for _ in range(5):
            svi_step(vae, loss, opt, x=x)
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        for _ in range(steps):
            svi_step(vae, loss, opt, x=x)
        elapsed = time.perf_counter() - t0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
    print(json.dumps({"tuned": tuned, "ms": 1000 * elapsed / steps, "faults": faults / steps}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--child", choices=["tuned", "default"])
    args = parser.parse_args()
    if args.child:
        child(args.child == "tuned", args.steps, args.threads, args.batch_size)
        return
    results: dict[str, list[dict]] = {"default": [], "tuned": []}
    for i in range(args.pairs):
        order = ["default", "tuned"] if i % 2 == 0 else ["tuned", "default"]
        for kind in order:
            cmd = [sys.executable, __file__, "--child", kind, "--steps", str(args.steps)]
            cmd += ["--threads", str(args.threads), "--batch-size", str(args.batch_size)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[kind].append(json.loads(out.strip().splitlines()[-1]))
    med = {
        k: (statistics.median(r["ms"] for r in v), statistics.median(r["faults"] for r in v))
        for k, v in results.items()
    }
    print(f"conv64 beta-VAE step, batch {args.batch_size}, {args.threads} threads, "
          f"{args.pairs} alternating child pairs x {args.steps} steps")  # fmt: skip
    for kind, (ms, faults) in med.items():
        print(f"  {kind:<8} {ms:8.2f} ms/step  {faults:9.0f} minor page faults/step")
    print(f"  speed-up default / tuned = {med['default'][0] / med['tuned'][0]:.2f}x")


if __name__ == "__main__":
    main()
