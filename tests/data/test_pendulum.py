"""The procedural pendulum dataset: geometry, labels, determinism, protocol."""

import math

import numpy as np
import pytest
import torch

from pyro_vae.data import get_dataset
from pyro_vae.data.pendulum import VIEW_X, VIEW_Y, Pendulum, render, scene_geometry

SIZE = 96


@pytest.fixture(scope="module")
def train():
    return Pendulum("train", image_size=SIZE)


def _to_px_x(x):
    return (x - VIEW_X[0]) * SIZE / (VIEW_X[1] - VIEW_X[0])


def _to_px_y(y):
    return (VIEW_Y[1] - y) * SIZE / (VIEW_Y[1] - VIEW_Y[0])


def test_splits_cover_the_grid_like_the_original():
    all_ = Pendulum("all", image_size=16)
    test = Pendulum("test", image_size=16)
    train = Pendulum("train", image_size=16)
    assert len(all_) == 84 * 87 == 7308
    assert len(test) == 7308 // 5 and len(train) + len(test) == 7308
    assert all_.factor_sizes[:2] == (84, 87)
    assert train.observation_shape == (3, 16, 16)
    with pytest.raises(ValueError, match="split"):
        Pendulum("valid")


def test_labels_are_the_closed_form_concepts():
    ds = Pendulum("all", image_size=16)
    raw = ds.raw_labels
    theta, phi = raw[:, 0], raw[:, 1]
    # the original's angle grids, in units of pi / 200
    assert np.allclose(np.unique(np.round(theta * 200 / math.pi)), np.arange(-40, 44))
    steps = np.unique(np.round(phi * 200 / math.pi))
    assert 100 not in steps and len(steps) == 87 and steps.min() == 60 and steps.max() == 147
    # shadow length: the ball end 9.5 from the pivot, projected along phi, at least 3
    length = np.maximum(3.0, 9.5 * np.abs(np.cos(theta - phi)) / np.sin(phi))
    assert np.allclose(raw[:, 2], length)
    # shadow centre: mean of the ground projections of the pivot and the ball end
    pivot = 10.0 + (-0.5 - 10.5) / np.tan(phi)
    end = 10.0 + 9.5 * np.sin(theta) + (-0.5 - 10.5 + 9.5 * np.cos(theta)) / np.tan(phi)
    assert np.allclose(raw[:, 3], 0.5 * (pivot + end))
    u = ds.labels
    assert u.dtype == np.float32
    assert np.allclose(u.min(0), 0.0) and np.allclose(u.max(0), 1.0)


def _scene(ds, index):
    x, factors, u = ds[index]
    return x.numpy(), ds.raw_labels[index]


def test_shadow_pixels_lie_where_the_formula_puts_the_shadow(train):
    rng = np.random.default_rng(0)
    checked = 0
    for index in rng.choice(len(train), size=40, replace=False):
        image, (theta, phi, length, position) = _scene(train, index)
        row = int(_to_px_y(-0.5))  # the ground line
        dark = image[:, row].max(0) < 0.5  # black: every channel dark
        lo, hi = position - length / 2, position + length / 2
        lo_px, hi_px = _to_px_x(max(lo, VIEW_X[0])), _to_px_x(min(hi, VIEW_X[1]))
        cols = np.flatnonzero(dark)
        if hi <= VIEW_X[0] or lo >= VIEW_X[1]:
            assert cols.size == 0
            continue
        # the segment is drawn with a line width of 0.9 scene units (4.3 px at 96 px)
        assert cols.min() == pytest.approx(max(lo_px - 2.2, 0), abs=1.6)
        assert cols.max() + 1 == pytest.approx(min(hi_px + 2.2, SIZE), abs=1.6)
        assert dark[cols.min() : cols.max() + 1].all()  # one solid segment
        checked += 1
    assert checked > 30


def test_ball_and_light_are_where_the_geometry_puts_them(train):
    rng = np.random.default_rng(1)
    for index in rng.choice(len(train), size=20, replace=False):
        image, (theta, phi, _, _) = _scene(train, index)
        g = scene_geometry(theta, phi)
        red = (image[0] > 0.6) & (image[1] < 0.25) & (image[2] < 0.25)
        rows, cols = np.nonzero(red)
        assert cols.mean() + 0.5 == pytest.approx(_to_px_x(g["ball_x"]), abs=1.0)
        assert rows.mean() + 0.5 == pytest.approx(_to_px_y(g["ball_y"]), abs=1.0)
        orange = (image[0] > 0.9) & (image[1] > 0.5) & (image[1] < 0.8) & (image[2] < 0.2)
        rows, cols = np.nonzero(orange)
        # the light is cut by the top (and maybe a side) of the viewport: check the columns
        # of the row through its centre, at height 20.5
        centre_row = int(_to_px_y(20.5))
        in_row = cols[rows == centre_row]
        x_lo, x_hi = g["light_x"] - 3.0, g["light_x"] + 3.0
        assert in_row.min() == pytest.approx(max(_to_px_x(x_lo), 0), abs=1.5)
        assert in_row.max() + 1 == pytest.approx(min(_to_px_x(x_hi), SIZE), abs=1.5)


def test_generation_is_deterministic_and_batches_match_items():
    a, b = Pendulum("test", image_size=32), Pendulum("test", image_size=32)
    idx = np.array([0, 5, 17, 250])
    xa, fa, ua = a.get_batch(idx)
    xb, fb, ub = b.get_batch(idx)
    assert torch.equal(xa, xb) and torch.equal(fa, fb) and torch.equal(ua, ub)
    x1, f1, u1 = a[17]
    assert torch.equal(x1, xa[2]) and torch.equal(f1, fa[2]) and torch.equal(u1, ua[2])
    assert xa.dtype == torch.float32 and xa.min() >= 0 and xa.max() <= 1
    assert fa.dtype == torch.int64 and ua.dtype == torch.float32 and ua.shape == (4, 4)
    assert torch.equal(a.observations_from_factors(fa.numpy()), xa)
    assert torch.allclose(ua, torch.from_numpy(a.concepts(fa.numpy())))


def test_factors_protocol_and_caused_factors():
    ds = Pendulum("train", image_size=16)
    assert ds.factor_names[:2] == ds.free_factors
    assert ds.factor_names[2:] == ds.caused_factors
    assert ds.causal_graph.sum() == 4
    assert ds.causal_graph[:2, 2:].all()  # both angles cause both shadow concepts
    f = ds.sample_factors(50, np.random.default_rng(0))
    again = ds.sample_factors(50, np.random.default_rng(0))
    assert np.array_equal(f, again) and f.shape == (50, 4)
    assert ds.observations_from_factors(f).shape == (50, 3, 16, 16)
    # a caused factor cannot be set on its own
    bad = f.copy()
    bad[:, 2] = (bad[:, 2] + 1) % ds.factor_sizes[2]
    with pytest.raises(ValueError, match="caused"):
        ds.observations_from_factors(bad)
    with pytest.raises(ValueError, match="outside"):
        ds.observations_from_factors(np.array([[84, 0, 0, 0]]))
    # caused classes are ordered like the values they stand for
    raw = ds.raw_concepts(f)
    order = np.argsort(f[:, 3], kind="stable")
    assert np.all(np.diff(raw[order, 3]) >= 0)


def test_registered_by_name_with_options():
    ds = get_dataset("pendulum", image_size=32, split="test")
    assert isinstance(ds, Pendulum) and ds.observation_shape == (3, 32, 32)
    assert len(ds) == 7308 // 5


def test_render_sizes():
    img = render(np.array([0.1]), np.array([1.2]), image_size=40)
    assert img.shape == (1, 3, 40, 40)
    # white background, some black, red and orange pixels
    assert (img == 1.0).all(axis=1).mean() > 0.7
