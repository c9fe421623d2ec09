"""Data loading throughput: images/s delivered to a training loop.

Datasets: procedural dSprites (:class:`pyro_vae.data.DSprites`) and 3dshapes read from an
HDF5 file with DeepMind's layout (``images`` (N, 64, 64, 3) uint8, ``labels`` (N, 6)
float64) that this script writes first (``--shapes3d-images`` images, default 48,000 =
590 MB; 480,000 is the real size, 5.9 GB), read lazily (one h5py selection per batch) and
from memory (``in_memory=True``).

Loaders, all drawing shuffled batches of ``--batch-size`` items:

* ``BatchStream``: what :func:`pyro_vae.train.fit` uses: one ``dataset.get_batch(indices)``
  per batch, in the training process;
* ``DataLoader batched (w workers)``: a :class:`torch.utils.data.DataLoader` whose sampler
  yields index lists and whose dataset calls ``get_batch`` (one call per batch), with ``w``
  worker processes;
* ``DataLoader per-item (w workers)``: the textbook ``DataLoader(ds, batch_size, shuffle=True)``
  that reads items one by one and collates them.

Each measurement consumes ``--batches`` batches after ``--warmup`` batches (worker start-up
excluded) and touches every batch (a sum) as a training step would; with ``--device cuda``
each batch is also copied to the GPU (pinned memory for DataLoaders), and a conv64 beta-VAE
training step is timed for comparison.

It also times h5py's fancy indexing against :func:`pyro_vae.data.files.read_h5_rows` on the
same file, side by side.

Each loader is measured ``--rounds`` times (fresh iterator each time); the best and the
median rate are printed (the best is the least disturbed by other jobs on a shared machine).
The training process uses ``--threads`` torch threads (default 1; DataLoader workers use 1
each, torch's default).

Run: ``PYTHONPATH=. python benchmarks/data.py`` (add ``--device cuda`` on a GPU machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler

from pyro_vae.data import DSprites, Shapes3D
from pyro_vae.data.files import read_h5_rows
from pyro_vae.data.shapes3d import FACTOR_SIZES, FACTOR_VALUES
from pyro_vae.data.stream import BatchStream


class _Batched(Dataset):
    """``dataset[list_of_indices]`` -> ``dataset.get_batch(indices)`` for a DataLoader whose
    sampler yields whole batches (``batch_size=None``)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices):
        return self.dataset.get_batch(np.asarray(indices))


def write_shapes3d_file(path: Path, n: int, seed: int = 0) -> Path:
    """A 3dshapes-layout file with the first ``n`` items of the grid and random images,
    stored in chunks of one image (what h5py reads fastest at random)."""
    rng = np.random.default_rng(seed)
    classes = np.stack(np.unravel_index(np.arange(n), FACTOR_SIZES), axis=1)
    names = list(FACTOR_VALUES)
    labels = np.stack([FACTOR_VALUES[k][classes[:, i]] for i, k in enumerate(names)], axis=1)
    with h5py.File(path, "w") as h:
        images = h.create_dataset("images", (n, 64, 64, 3), np.uint8, chunks=(1, 64, 64, 3))
        for start in range(0, n, 4096):
            stop = min(n, start + 4096)
            images[start:stop] = rng.integers(0, 256, (stop - start, 64, 64, 3), np.uint8)
        h.create_dataset("labels", data=labels)
    return path


def _consume(batches, count: int, warmup: int, device: torch.device) -> float:
    """images/s over ``count`` batches after ``warmup`` batches."""
    it = iter(batches)
    for _ in range(warmup):
        next(it)
    n = 0
    start = time.perf_counter()
    for _ in range(count):
        x, _ = next(it)
        if device.type == "cuda":
            x = x.to(device, non_blocking=True)
        x.sum().item()  # touch the batch as a step would
        n += len(x)
    return n / (time.perf_counter() - start)


def _loaders(ds, batch_size: int, workers: list[int], seed: int, pin: bool):
    yield "BatchStream", lambda: BatchStream(ds, batch_size, seed)
    for w in workers:

        def batched(w=w):
            g = torch.Generator().manual_seed(seed)
            sampler = BatchSampler(RandomSampler(ds, generator=g), batch_size, drop_last=True)
            return DataLoader(_Batched(ds), sampler=sampler, batch_size=None, num_workers=w,
                              pin_memory=pin, persistent_workers=w > 0)  # fmt: skip

        yield f"DataLoader batched ({w} workers)", batched
    for w in workers:

        def per_item(w=w):
            g = torch.Generator().manual_seed(seed)
            return DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g,
                              num_workers=w, pin_memory=pin, drop_last=True,
                              persistent_workers=w > 0)  # fmt: skip

        yield f"DataLoader per-item ({w} workers)", per_item


def compare_h5_reads(path: Path, batches: int, rounds: int, seed: int) -> dict[str, float]:
    """images/s of random 64-row batches read with h5py's fancy indexing
    (``images[sorted_unique_rows]``) and with :func:`read_h5_rows` (one slice per run of
    consecutive rows), alternating, best of ``rounds``."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "r") as h:
        images = h["images"]
        idx = rng.integers(0, images.shape[0], (batches, 64))

        def fancy(rows):
            unique, inverse = np.unique(rows, return_inverse=True)
            return images[unique][inverse]

        def slices(rows):
            return read_h5_rows(images, rows)

        rates: dict[str, list[float]] = {"h5py fancy indexing": [], "read_h5_rows": []}
        for _ in range(rounds):
            for name, read in zip(rates, (fancy, slices), strict=True):
                start = time.perf_counter()
                for rows in idx:
                    read(rows)
                rates[name].append(idx.size / (time.perf_counter() - start))
    return {name: max(r) for name, r in rates.items()}


def _step_time(device: torch.device, batch_size: int, steps: int = 30) -> float:
    """Seconds per conv64 beta-VAE training step (``fit``'s step after its first) on
    ``device``, for 3-channel 64 x 64 images."""
    import pyro

    from pyro_vae.infer import BetaELBO
    from pyro_vae.models import VAE
    from pyro_vae.train import svi_step

    torch.manual_seed(0)
    model = VAE.conv64(latent_dim=10, channels=3).to(device)
    loss = BetaELBO(4.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.rand(batch_size, 3, 64, 64, device=device)
    with pyro.validation_enabled(False), model.param_sites(False):
        for _ in range(5):
            svi_step(model, loss, optimizer, x=x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            svi_step(model, loss, optimizer, x=x)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--shapes3d-images", type=int, default=48_000)
    parser.add_argument("--dir", help="where to write the 3dshapes file (default: a temp dir)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per loader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-per-item", action="store_true", help="skip per-item loaders")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    pin = device.type == "cuda"
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
        f"load average {os.getloadavg()[0]:.1f}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), device {device}"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        start = time.perf_counter()
        path = write_shapes3d_file(Path(tmp) / "3dshapes.h5", args.shapes3d_images, args.seed)
        size = path.stat().st_size / 2**20
        print(f"# wrote {path.name}: {args.shapes3d_images} images, {size:.0f} MiB, "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        reads = compare_h5_reads(path, 60, args.rounds, args.seed)
        print(
            "# lazy 3dshapes reads, 64 random rows, best of "
            f"{args.rounds} alternating rounds: "
            + ", ".join(f"{k} {v:,.0f} images/s" for k, v in reads.items())
            + f" (ratio {reads['read_h5_rows'] / reads['h5py fancy indexing']:.1f}x)"
        )
        datasets = {
            "dsprites (procedural)": DSprites(),
            f"3dshapes h5, lazy ({args.shapes3d_images} images)": Shapes3D(path, checksum=None),
            f"3dshapes h5, in_memory ({args.shapes3d_images} images)": Shapes3D(
                path, checksum=None, in_memory=True
            ).load(),
        }
        print(f"| dataset | loader | images/s (best of {args.rounds}) | median |")
        print("| --- | --- | ---: | ---: |")
        for name, ds in datasets.items():
            for loader, make in _loaders(ds, args.batch_size, args.workers, args.seed, pin):
                if args.skip_per_item and "per-item" in loader:
                    continue
                rates = []
                for _ in range(args.rounds):
                    batches = make()
                    rates.append(_consume(batches, args.batches, args.warmup, device))
                    del batches
                best, median = max(rates), float(np.median(rates))
                print(f"| {name} | {loader} | {best:,.0f} | {median:,.0f} |", flush=True)
    step = _step_time(device, args.batch_size)
    print(
        f"# conv64 beta-VAE training step on {device}, batch {args.batch_size}: "
        f"{step * 1e3:.2f} ms = {args.batch_size / step:,.0f} images/s"
    )


if __name__ == "__main__":
    main()
