"""``fit()``: the training loop shared by the Python API and the CLI.

One step is what ``pyro.infer.SVI.step`` does -- ``loss.loss_and_grads(model,
guide, batch)`` then an optimizer step -- with a ``torch.optim.Adam`` over
``model.parameters()`` so that the optimizer state can be checkpointed and
restored exactly.  Around it: device placement, a progress bar with the live
loss terms, a history file, atomic checkpoints with everything a bit-exact
resume needs, and a guard that stops on a non-finite loss.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyro
import pyro.poutine as poutine
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from pyro_vae.data.stream import BatchStream
from pyro_vae.utils.files import atomic_path, atomic_write
from pyro_vae.utils.malloc import tune_malloc
from pyro_vae.utils.rng import get_rng_state, set_rng_state

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "pyro_vae.checkpoint/1"
HISTORY_NAMES = {"jsonl": "history.jsonl", "csv": "history.csv"}


class NonFiniteLossError(RuntimeError):
    """Raised when a training step produces a NaN or infinite loss."""


@dataclass
class FitResult:
    """What :func:`fit` returns.

    :ivar int step: training steps completed.
    :ivar list history: logged rows (``step``, ``loss`` and the loss's terms).
    :ivar out: the run folder, or ``None``.
    :ivar checkpoint: path of the last checkpoint written, or ``None``.
    """

    step: int
    history: list[dict[str, float]] = field(default_factory=list)
    out: Path | None = None
    checkpoint: Path | None = None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but no CUDA GPU is available; use 'cpu'")
    return device


def _to_device(value: Any, device: torch.device) -> Any:
    if torch.is_tensor(value):
        return value.to(device, non_blocking=True)
    return value


def _batch_kwargs(model, batch, device, dataset_size: int) -> dict[str, Any]:
    kwargs = {k: _to_device(v, device) for k, v in model.inputs_from_batch(batch).items()}
    kwargs["dataset_size"] = dataset_size
    return kwargs


def _check_param_sites(model: torch.nn.Module, trace: poutine.Trace) -> None:
    """fit() optimises ``model.parameters()``: refuse Pyro params it would miss."""
    owned = {id(p) for p in model.parameters()}
    stray = [
        name
        for name, site in trace.nodes.items()
        if site["type"] == "param" and id(site["value"].unconstrained()) not in owned
    ]
    if stray:
        raise ValueError(
            f"parameters {stray} were created with pyro.param outside the model's modules; "
            "fit() optimises model.parameters() only -- make them nn.Parameters of a module "
            "the model owns (e.g. of the prior module)"
        )


def _param_sites_off(model):
    """fit() optimises model.parameters() itself: skip the per-step re-registration
    of every parameter in Pyro's param store (models that support it)."""
    toggle = getattr(model, "param_sites", None)
    return toggle(False) if toggle is not None else contextlib.nullcontext()


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint written by :func:`fit` with ``torch.load(weights_only=True)``.

    :raises ValueError: the file is not a pyro_vae checkpoint.
    """
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read checkpoint {path}: {err}") from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a pyro_vae checkpoint ({CHECKPOINT_FORMAT})")
    return state


def _save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_history_file(path: str | Path) -> list[dict]:
    """Rows of a history file written by :func:`fit` (``.jsonl`` or ``.csv``);
    ``[]`` when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


class _History:
    """Logged rows, kept in memory and mirrored to a JSON-lines or CSV file."""

    def __init__(self, out: Path | None, fmt: str, rows: list[dict]) -> None:
        if fmt not in HISTORY_NAMES:
            raise ValueError(f"history_format must be one of {sorted(HISTORY_NAMES)}, got {fmt!r}")
        self.rows = rows
        self.fmt = fmt
        self.path = out / HISTORY_NAMES[fmt] if out is not None else None
        if self.path is not None:
            self.flush()

    def append(self, row: dict) -> None:
        self.rows.append(row)
        if self.path is not None and self.fmt == "jsonl":
            with open(self.path, "a") as f:
                f.write(json.dumps(row) + "\n")

    def flush(self) -> None:
        if self.path is None:
            return
        if self.fmt == "jsonl":
            atomic_write(self.path, lambda f: f.writelines(json.dumps(r) + "\n" for r in self.rows))
            return
        keys: list[str] = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]

        def write(f):
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)

        atomic_write(self.path, write)


def svi_step(model, loss, optimizer: torch.optim.Optimizer, **kwargs: Any) -> float:
    """One training step as ``SVI.step`` does it: ``loss.loss_and_grads(model.model,
    model.guide, **kwargs)``, then ``optimizer.step()`` and zeroed gradients.

    Returns the loss; a non-finite loss leaves the parameters untouched.
    """
    value = loss.loss_and_grads(model.model, model.guide, **kwargs)
    if math.isfinite(value):
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return value


def fit(
    model: torch.nn.Module,
    loss: Any,
    data: Dataset | torch.Tensor,
    *,
    steps: int | None = None,
    epochs: float | None = None,
    batch_size: int = 64,
    lr: float = 1e-4,
    betas: Sequence[float] = (0.9, 0.999),
    device: str | torch.device = "auto",
    seed: int = 0,
    out: str | Path | None = None,
    checkpoint_every: int = 1000,
    log_every: int = 50,
    resume: bool = False,
    progress: bool = True,
    history_format: str = "jsonl",
    validate: str = "first",
    tune_allocator: bool = True,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> FitResult:
    """Train ``model`` (a model/guide pair) on ``data`` by minimising ``loss``.

    Example::

        >>> import tempfile, torch
        >>> from pyro_vae.infer import BetaELBO, Linear
        >>> from pyro_vae.models import VAE
        >>> from pyro_vae.train import fit
        >>> data = torch.rand(32, 6)
        >>> def build():
        ...     torch.manual_seed(0)  # the same initial weights every time
        ...     return VAE.mlp((6,), 2, hidden_dims=(8,)), BetaELBO(Linear(0.0, 1.0, steps=10))
        >>> options = dict(batch_size=8, lr=1e-3, device="cpu", log_every=1, progress=False)
        >>> model, loss = build()
        >>> result = fit(model, loss, data, steps=4, **options)
        >>> result.step, loss.step  # the loss's schedules follow the training steps
        (4, 4)
        >>> [round(row["beta"], 6) for row in result.history]  # KL warm-up
        [0.0, 0.1, 0.2, 0.3]
        >>> run = tempfile.TemporaryDirectory()
        >>> model, loss = build()
        >>> _ = fit(model, loss, data, steps=2, out=run.name, **options)  # stopped after 2 steps
        >>> model, loss = build()
        >>> resumed = fit(model, loss, data, steps=4, out=run.name, resume=True, **options)
        >>> [row["loss"] for row in resumed.history] == [row["loss"] for row in result.history]
        True
        >>> run.cleanup()

    :param model: a :class:`~pyro_vae.models.LatentVariableModel` (anything
        with ``model``, ``guide``, ``inputs_from_batch`` and parameters).
    :param loss: a :class:`~pyro_vae.infer.PerExampleLoss` (any Pyro ELBO
        with ``loss_and_grads`` works; ``state_dict``/``load_state_dict`` and
        ``to(device)`` are used when present, e.g. FactorVAE's discriminator).
    :param data: a map-style dataset (``get_batch`` is used when present) or a
        tensor of observations.
    :param int steps: training steps; or give ``epochs`` (passes over the data).
    :param int batch_size: examples per step.
    :param float lr: Adam learning rate (disentanglement_lib uses 1e-4).
    :param device: ``"auto"``, ``"cpu"``, ``"cuda"`` or a ``torch.device``.
    :param int seed: seeds Pyro/torch/NumPy/Python and the batch order
        (ignored on resume, where the saved states are restored).
    :param out: run folder for checkpoints and history; ``None`` keeps nothing.
    :param int checkpoint_every: steps between checkpoints (and one at the end).
    :param int log_every: steps between history rows and progress-bar updates.
    :param bool resume: continue from ``out/checkpoint.pt`` when it exists; the
        continued run gives the same losses as an uninterrupted one.
    :param str history_format: ``"jsonl"`` or ``"csv"``.
    :param str validate: ``"first"`` runs Pyro's validation (shapes, support,
        data range) on the first step only, ``"always"`` on every step.
    :param bool tune_allocator: raise glibc's malloc thresholds (see
        :mod:`pyro_vae.utils.malloc`); measured 1.1-2x faster CPU steps.
    :param callback: called as ``callback(step, row)`` after each history row.
    :raises NonFiniteLossError: a step's loss is NaN or infinite; parameters
        are not updated with it and the last checkpoint is kept.
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps or epochs")
    if validate not in ("first", "always"):
        raise ValueError(f"validate must be 'first' or 'always', got {validate!r}")
    if checkpoint_every < 1 or log_every < 1:
        raise ValueError("checkpoint_every and log_every must be >= 1")
    if tune_allocator:
        tune_malloc()
    device = resolve_device(device)
    out_path = Path(out) if out is not None else None
    ckpt_path = out_path / CHECKPOINT_NAME if out_path is not None else None
    if resume and out_path is None:
        raise ValueError("resume=True needs the run folder `out`")

    if not resume or ckpt_path is None or not ckpt_path.exists():
        pyro.set_rng_seed(seed)
    stream = BatchStream(data, batch_size, seed)
    total = steps if steps is not None else math.ceil(epochs * stream.batches_per_epoch)
    if total < 0:
        raise ValueError(f"steps must be >= 0, got {total}")

    model.to(device)
    if hasattr(loss, "to"):
        loss.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=tuple(betas))
    start = 0
    rows: list[dict] = []
    if resume and ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if hasattr(loss, "load_state_dict") and state.get("loss") is not None:
            loss.load_state_dict(state["loss"])
        stream.load_state_dict(state["batches"])
        set_rng_state(state["rng"])
        start = int(state["step"])
        history_file = out_path / HISTORY_NAMES[history_format]
        rows = [r for r in read_history_file(history_file) if r.get("step", 0) <= start]
    history = _History(out_path, history_format, rows)

    def checkpoint(step: int) -> Path | None:
        if ckpt_path is None:
            return None
        _save_checkpoint(
            ckpt_path,
            {
                "format": CHECKPOINT_FORMAT,
                "step": step,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "loss": loss.state_dict() if hasattr(loss, "state_dict") else None,
                "batches": stream.state_dict(),
                "rng": get_rng_state(),
            },
        )
        history.flush()
        return ckpt_path

    last_ckpt = ckpt_path if start > 0 else None
    model.train()
    bar = tqdm(total=total, initial=start, desc="fit", disable=not progress, dynamic_ncols=True)
    t0 = time.perf_counter()
    try:
        for step in range(start + 1, total + 1):
            kwargs = _batch_kwargs(model, next(stream), device, stream.size)
            with pyro.validation_enabled(validate == "always" or step == start + 1):
                if step == start + 1:
                    with poutine.trace(param_only=True) as params:
                        value = svi_step(model, loss, optimizer, **kwargs)
                    _check_param_sites(model, params.trace)
                else:
                    with _param_sites_off(model):
                        value = svi_step(model, loss, optimizer, **kwargs)
            if not math.isfinite(value):
                where = f"; the last good checkpoint is {last_ckpt}" if last_ckpt else ""
                raise NonFiniteLossError(
                    f"the loss is {value} at step {step}; parameters were not updated"
                    f"{where}. Lower the learning rate, check the data, or resume from the "
                    "checkpoint"
                )
            bar.update(1)
            if step % log_every == 0 or step == total:
                row = {"step": step, "loss": value}
                for key, term in getattr(loss, "last_terms", {}).items():
                    if key != "loss":
                        row[key] = float(term)
                row["time"] = round(time.perf_counter() - t0, 3)
                history.append(row)
                bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k not in ("step",)})
                if callback is not None:
                    callback(step, row)
            if step % checkpoint_every == 0 or step == total:
                last_ckpt = checkpoint(step)
    finally:
        bar.close()
    model.eval()
    history.flush()
    return FitResult(
        step=max(start, total), history=history.rows, out=out_path, checkpoint=last_ckpt
    )
