"""Seeded draws that leave the global torch random state untouched."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int | None, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run the block with torch's RNG seeded by ``seed`` (CPU and, for a CUDA
    ``device``, that device), restoring the previous states afterwards;
    ``seed=None`` uses the global state as it is."""
    if seed is None:
        yield
        return
    device = torch.device(device)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
