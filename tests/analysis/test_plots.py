import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from pyro_vae.analysis import (
    plot_history,
    plot_kl,
    prior_samples,
    read_history,
    reconstruction_grid,
    sample_grid,
    save_figure,
)
from pyro_vae.analysis.plots import figure_png
from tests.analysis.standins import TwoLayer, linear_vae

ROWS = [
    {"step": 10, "loss": 5.0, "recon": 4.0, "kl": 1.0, "time": 0.1},
    {"step": 20, "loss": 4.0, "recon": 3.5, "kl": 0.5, "tc": 0.2, "time": 0.2},
]


def test_history_is_read_from_jsonl_or_csv(tmp_path):
    jsonl = tmp_path / "a"
    jsonl.mkdir()
    (jsonl / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert read_history(jsonl) == ROWS
    other = tmp_path / "b"
    other.mkdir()
    with open(other / "history.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "loss", "recon", "kl", "time", "tc"])
        writer.writeheader()
        writer.writerows(ROWS)
    assert read_history(other)[1]["tc"] == 0.2 and "tc" not in read_history(other)[0]
    with pytest.raises(FileNotFoundError, match="no history.jsonl or history.csv"):
        read_history(tmp_path)


def test_training_curves_have_one_panel_per_logged_term(tmp_path):
    fig = plot_history(ROWS)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "recon", "kl", "tc"]
    x, y = visible[3].lines[0].get_data()
    assert list(x) == [20] and list(y) == [0.2]  # a term logged only at step 20
    path = save_figure(fig, tmp_path / "curves.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]
    with pytest.raises(ValueError, match="no logged terms"):
        plot_history([{"step": 1, "time": 0.0}])


def test_kl_bar_chart_shows_the_values():
    fig = plot_kl(torch.tensor([0.1, 2.0, 0.5]), order="kl")
    ax = fig.axes[0]
    assert [round(b.get_height(), 6) for b in ax.patches] == [2.0, 0.5, 0.1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "0"]
    assert figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_prior_samples_come_from_the_prior_program():
    # identity decoder: the expected observation is the code, z ~ N(0, I)
    samples = prior_samples(linear_vae(), 4000).reshape(4000, 4)
    assert samples.mean(0).abs().max() < 0.1
    assert (samples.std(0) - 1).abs().max() < 0.1
    # a hierarchy: x_mean = V z1 with z1 ~ N(W z2, 0.25), cov = V (W W^T + 0.25 I) V^T
    model = TwoLayer()
    draws = prior_samples(model, 20000)
    cov = np.cov(draws.numpy().T)
    expected = model.V @ (model.W @ model.W.T + 0.25 * torch.eye(3)) @ model.V.T
    np.testing.assert_allclose(cov, expected.numpy(), atol=0.15 * expected.abs().max().item())


def test_grids_have_the_right_shape():
    model = linear_vae()
    assert sample_grid(model, 6, nrow=3).shape == (3, 2 + 2 * 4, 2 + 3 * 4)
    x = torch.rand(5, 1, 2, 2)
    assert reconstruction_grid(model, x, n=4).shape == (3, 2 + 2 * 4, 2 + 4 * 4)
    with pytest.raises(ValueError, match="n must be >= 1"):
        prior_samples(model, 0)
