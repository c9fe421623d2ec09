"""A self-contained HTML report of a fitted run.

``write_report(run_dir)`` writes ``report.html`` into the run folder: the
config, training curves, reconstructions, prior samples, traversals and KL
per dimension of every local latent site, a posterior predictive check,
and the metrics of ``metrics.json`` when ``pyro-vae evaluate`` wrote one.
Every image is embedded as a base64 PNG, so the file can be mailed or
archived alone.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyro.poutine as poutine
import torch

from pyro_vae.analysis.examples import Examples, draw_examples
from pyro_vae.analysis.images import png_bytes, reconstruction_grid, sample_grid
from pyro_vae.analysis.interface import data_plate_name, latent_sites, traversal_interface
from pyro_vae.analysis.kl import kl_per_dim
from pyro_vae.analysis.plots import figure_png, plot_history, plot_kl, read_history
from pyro_vae.analysis.predictive import loo_summary, plot_ppc, posterior_predictive, ppc_table
from pyro_vae.analysis.seeding import seeded
from pyro_vae.analysis.traversal import traverse
from pyro_vae.runs import Run, load_run
from pyro_vae.utils.files import atomic_write

REPORT_NAME = "report.html"
METRICS_NAME = "metrics.json"
#: the section ids of a report, in order
SECTIONS = (
    "config",
    "training",
    "reconstructions",
    "samples",
    "traversals",
    "kl",
    "ppc",
    "metrics",
)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
nav a { margin-right: 1em; } figure { margin: 1em 0; } figcaption { color: #555; font-size: .9em; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc;
padding: .2em .6em; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; } .note { color: #555; }
"""


@dataclass
class Section:
    """One section of the report: an id (the HTML anchor), a title and its HTML body."""

    id: str
    title: str
    body: str


def image_html(png: bytes, alt: str, caption: str = "", width: int | None = None) -> str:
    """An ``<img>`` with the PNG embedded as a base64 data URI, in a figure.

    :param int width: display width in CSS pixels (default: the image's own).
    """
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    size = f' width="{int(width)}"' if width else ""
    img = f'<img alt="{html.escape(alt)}"{size} src="data:image/png;base64,{data}">'
    return f"<figure>{img}{cap}</figure>"


def grid_html(grid: torch.Tensor, alt: str, caption: str = "", target: int = 640) -> str:
    """An image grid ``(C, H, W)`` embedded as PNG, shown enlarged by an integer
    factor (up to 4) so that small images (16x16 toys, 64x64 dSprites) stay visible."""
    width = grid.shape[-1]
    scale = max(1, min(4, target // max(width, 1)))
    return image_html(png_bytes(grid), alt, caption, width * scale)


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return html.escape(str(value))
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else f"{value:.4g}"
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return html.escape(text if len(text) <= 160 else text[:157] + "...")


def table_html(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> str:
    """An HTML table of ``rows`` (dicts), one column per key."""
    rows = list(rows)
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_number(row.get(c, ''))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


# ----------------------------------------------------------------- sections
def config_section(run: Run) -> Section:
    text = json.dumps(run.config, indent=2, sort_keys=True, default=str)
    intro = (
        f"<p>Run folder <code>{html.escape(str(run.path))}</code>: model "
        f"<b>{html.escape(str(run.config.get('model')))}</b> on "
        f"<b>{html.escape(str(run.config.get('dataset')))}</b>, "
        f"{run.step} training steps.</p>"
    )
    return Section("config", "Configuration", intro + f"<pre>{html.escape(text)}</pre>")


def training_section(run: Run) -> Section:
    try:
        rows = read_history(run.path)
    except FileNotFoundError as err:
        return Section("training", "Training curves", _note(str(err)))
    if not rows:
        return Section("training", "Training curves", _note("the history is empty"))
    png = figure_png(plot_history(rows))
    return Section(
        "training",
        "Training curves",
        image_html(png, "training curves", "every logged term of history, per example (nats)"),
    )


def reconstructions_section(model, examples: Examples, n: int = 8) -> Section:
    grid = reconstruction_grid(model, examples.x, n, examples.inputs)
    body = grid_html(grid, "reconstructions", "top: data; bottom: decoded posterior means")
    return Section("reconstructions", "Reconstructions", body)


def samples_section(model, examples: Examples, n: int = 32) -> Section:
    n = min(n, examples.x.shape[0]) if examples.inputs else n
    grid = sample_grid(model, n, examples.head(n).inputs or None)
    caption = "expected observations of draws from the prior program"
    return Section("samples", "Samples from the prior", grid_html(grid, "prior samples", caption))


def local_sites(model, examples: Examples) -> list[str]:
    """The local latent sites of the guide, in execution order."""
    one = examples.head(1)
    trace = poutine.trace(model.guide).get_trace(one.x, **one.inputs)
    return [s for s, local in latent_sites(trace, data_plate_name(model)).items() if local]


def traversal_and_kl_sections(
    model, examples: Examples, steps: int, span: tuple[float, float]
) -> tuple[Section, Section]:
    traversal_parts, kl_parts = [], []
    for site in local_sites(model, examples):
        interface = traversal_interface(model, site, examples.head(1).inputs or None)
        kl = kl_per_dim(model, examples.x, inputs=examples.inputs, interface=interface)
        kl_units = kl.reshape(interface.units, -1).sum(1)
        post = traverse(
            model, examples.x, "all", span, steps, "kl", inputs=examples.inputs, interface=interface
        )
        prior = traverse(
            model, None, "all", span, steps, "index", inputs=examples.inputs, interface=interface
        )
        order = ", ".join(f"{d} ({float(kl_units[d]):.2f})" for d in post.dims)
        traversal_parts.append(f"<h3>site <code>{html.escape(site)}</code></h3>")
        traversal_parts.append(
            grid_html(
                post.grid,
                f"posterior traversal of {site}",
                f"posterior traversal from example {int(examples.ids[0])}, values "
                f"{span[0]:g}..{span[1]:g}; rows by average KL, largest first: "
                f"{interface.unit} (KL nats) {order}",
            )
        )
        traversal_parts.append(
            grid_html(
                prior.grid,
                f"prior traversal of {site}",
                f"prior traversal around the prior mean; rows in {interface.unit} order",
            )
        )
        fig = plot_kl(kl_units, interface.unit, f"KL per {interface.unit} of {site}")
        kl_parts.append(
            image_html(
                figure_png(fig),
                f"KL per {interface.unit} of {site}",
                f"average KL(q({site}_j | x) || p({site}_j)) over {examples.x.shape[0]} "
                f"examples; total {float(kl_units.sum()):.3g} nats",
            )
        )
    return (
        Section("traversals", "Latent traversals", "".join(traversal_parts)),
        Section("kl", "KL per dimension", "".join(kl_parts)),
    )


def ppc_section(model, examples: Examples, num_samples: int, seed: int) -> Section:
    idata = posterior_predictive(
        model,
        None,
        examples.x,
        num_samples,
        inputs=examples.inputs,
        example_ids=examples.ids,
        seed=seed,
    )
    png = figure_png(plot_ppc(idata, seed=seed))
    caption = (
        f"{num_samples} posterior predictive draws for {examples.x.shape[0]} examples: "
        "z ~ q(z | x), then x_rep ~ p(x | z); left: mean intensity per image, "
        "right: each pixel's mean over the batch"
    )
    loo = loo_summary(idata)
    loo_text = (
        f"PSIS-LOO over examples: elpd_loo = {loo['elpd_loo']:.4g} (se {loo['se']:.3g}); "
        f"{100 * loo['fraction_k_above_0.7']:.0f}% of Pareto k above 0.7. With one latent per "
        "example every example is influential, so LOO is not a reliable comparison here "
        "(see docs/analysis.md)."
    )
    body = (
        image_html(png, "posterior predictive check", caption)
        + "<p>Posterior predictive p-values P(T(x_rep) &ge; T(x)) of batch statistics:</p>"
        + table_html(ppc_table(idata))
        + _note(loo_text)
    )
    return Section("ppc", "Posterior predictive check", body)


def metrics_section(run_dir: Path) -> Section:
    path = run_dir / METRICS_NAME
    if not path.exists():
        return Section(
            "metrics",
            "Metrics",
            _note(f"no {METRICS_NAME} in the run folder; `pyro-vae evaluate` writes one"),
        )
    metrics = json.loads(path.read_text())
    if not isinstance(metrics, dict):
        raise ValueError(f"{path} must hold a JSON object of metric name -> result")
    parts = []
    for name, result in metrics.items():
        parts.append(f"<h3>{html.escape(str(name))}</h3>")
        if isinstance(result, dict):
            parts.append(table_html([{"key": k, "value": v} for k, v in result.items()]))
        else:
            parts.append(f"<p>{_number(result)}</p>")
    return Section("metrics", "Metrics", "".join(parts))


# ------------------------------------------------------------------- report
def render_html(title: str, sections: list[Section]) -> str:
    """The report page: a title, a table of contents and the sections."""
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><nav>{nav}</nav>{body}</body></html>\n"
    )


@torch.no_grad()
def build_report(
    run: Run,
    *,
    examples: int = 64,
    num_samples: int = 50,
    steps: int = 8,
    span: tuple[float, float] = (-3.0, 3.0),
    seed: int = 0,
) -> str:
    """The HTML of the report of a loaded run (see :func:`write_report`)."""
    metrics = metrics_section(run.path)  # read first: a bad file fails before the work
    model = run.model
    model.eval()
    batch = draw_examples(model, run.dataset, examples, seed)
    with seeded(seed, model.device):
        traversals, kl = traversal_and_kl_sections(model, batch, steps, span)
        sections = [
            config_section(run),
            training_section(run),
            reconstructions_section(model, batch),
            samples_section(model, batch),
            traversals,
            kl,
            ppc_section(model, batch, num_samples, seed),
            metrics,
        ]
    title = f"pyro_vae report: {run.config.get('model')} on {run.config.get('dataset')}"
    return render_html(title, sections)


def write_report(
    run: str | Path | Run,
    out: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
    examples: int = 64,
    num_samples: int = 50,
    steps: int = 8,
    span: tuple[float, float] = (-3.0, 3.0),
    seed: int = 0,
) -> Path:
    """Write the self-contained HTML report of a fitted run, atomically.

    :param run: a run folder (loaded with :func:`pyro_vae.runs.load_run`) or a
        loaded :class:`~pyro_vae.runs.Run`.
    :param out: the HTML file (default ``RUN/report.html``).
    :param device: where to load the model.
    :param int examples: dataset items (chosen with ``seed``) used for
        reconstructions, KL, traversal seeds and the predictive check.
    :param int num_samples: posterior predictive draws.
    :param int steps: values per traversal row.
    :param span: traversal range in latent units.
    :param int seed: seed of the example choice and of the draws.
    :returns: the path of the report.
    """
    if not isinstance(run, Run):
        run = load_run(run, device=device)
    html_text = build_report(
        run, examples=examples, num_samples=num_samples, steps=steps, span=span, seed=seed
    )
    path = Path(out) if out is not None else run.path / REPORT_NAME
    atomic_write(path, lambda f: f.write(html_text))
    return path
