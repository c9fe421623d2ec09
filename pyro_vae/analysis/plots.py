"""Matplotlib figures for a run: training curves and KL per dimension.

Figures are built as :class:`matplotlib.figure.Figure` on the Agg canvas,
never through ``pyplot``, so nothing depends on (or changes) the global
backend and no window opens; they are saved as PNG atomically.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pyro_vae.train import HISTORY_NAMES, read_history_file
from pyro_vae.utils.files import atomic_path

#: history columns that are not loss terms
NOT_TERMS = ("step", "time")


def new_figure(width: float = 6.4, height: float = 4.0) -> Figure:
    """A figure on the Agg canvas with constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure encoded as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Save ``fig`` as PNG at ``path``, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def read_history(run_dir: str | Path) -> list[dict[str, float]]:
    """The logged rows of a run: ``history.jsonl``, else ``history.csv``
    (see :func:`pyro_vae.train.fit`)."""
    run_dir = Path(run_dir)
    for name in (HISTORY_NAMES["jsonl"], HISTORY_NAMES["csv"]):
        if (run_dir / name).exists():
            return read_history_file(run_dir / name)
    raise FileNotFoundError(
        f"{run_dir} has no {HISTORY_NAMES['jsonl']} or {HISTORY_NAMES['csv']}: "
        "train the run with `pyro-vae fit` first"
    )


def history_terms(rows: Sequence[dict]) -> list[str]:
    """Every logged loss term, in order of first appearance."""
    terms: list[str] = []
    for row in rows:
        terms += [k for k in row if k not in NOT_TERMS and k not in terms]
    return terms


def plot_history(history: Sequence[dict] | str | Path, columns: int = 3) -> Figure:
    """Training curves: one panel per logged term (loss, recon, kl, ...) against
    the step.

    :param history: rows as :func:`read_history` returns them, or a run folder.
    :param int columns: panels per row.
    """
    rows = read_history(history) if isinstance(history, str | Path) else list(history)
    terms = history_terms(rows)
    if not terms:
        raise ValueError("the history has no logged terms to plot")
    columns = min(columns, len(terms))
    nrows = math.ceil(len(terms) / columns)
    fig = new_figure(3.2 * columns, 2.4 * nrows)
    axes = fig.subplots(nrows, columns, squeeze=False).ravel()
    for ax, term in zip(axes, terms, strict=False):
        points = [(r["step"], r[term]) for r in rows if term in r and "step" in r]
        steps, values = zip(*points, strict=True) if points else ((), ())
        ax.plot(steps, values, marker="o" if len(points) < 20 else None, markersize=3)
        ax.set_title(term, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in axes[len(terms) :]:
        ax.set_visible(False)
    return fig


def plot_kl(
    kl: torch.Tensor | Sequence[float],
    unit: str = "dim",
    title: str = "KL per dimension",
    order: str = "index",
) -> Figure:
    """A bar chart of the average KL (nats) per latent unit.

    :param kl: one value per unit (e.g. :func:`~pyro_vae.analysis.kl_per_dim`,
        summed over a unit's elements).
    :param str order: ``"index"`` or ``"kl"`` (largest first, labelled by index).
    """
    values = [float(v) for v in (kl.reshape(-1) if torch.is_tensor(kl) else kl)]
    if order not in ("index", "kl"):
        raise ValueError(f"order must be 'index' or 'kl', got {order!r}")
    index = list(range(len(values)))
    if order == "kl":
        index.sort(key=lambda i: -values[i])
    fig = new_figure(max(3.0, 0.45 * len(values) + 1.5), 3.0)
    ax = fig.subplots()
    ax.bar(range(len(index)), [values[i] for i in index], color="tab:blue")
    ax.set_xticks(range(len(index)), [str(i) for i in index])
    ax.set_xlabel(unit)
    ax.set_ylabel("KL (nats)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig
