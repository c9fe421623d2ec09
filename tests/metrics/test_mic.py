import itertools
import math

import numpy as np
import pytest

from pyro_vae.metrics import MetricWarning, compute_mic, mic, mic_concepts, mic_tic
from pyro_vae.metrics.mic import (
    _clumps,
    _equipartition,
    _optimize_x_axis,
    equicharacteristic_matrix,
)

from .conftest import MonotoneRepresentation


def test_equipartition_keeps_ties_together():
    rows, q = _equipartition(np.arange(12.0), 3)
    np.testing.assert_array_equal(rows, np.repeat([0, 1, 2], 4))
    assert q == 3
    vals = np.array([0, 0, 0, 0, 0, 1, 2, 3, 4, 5], dtype=float)
    rows, q = _equipartition(vals, 2)
    assert (rows[:5] == rows[0]).all() and q == 2
    rows, q = _equipartition(np.zeros(10), 4)  # one value: one row
    assert q == 1 and (rows == 0).all()


def _brute_force_best_mi(rows, clump, k):
    """Reference: try every partition of the clumps into at most k columns."""
    n, p = len(rows), clump.max() + 1
    best = 0.0
    for cuts in range(1, k):
        for bounds in itertools.combinations(range(1, p), cuts):
            cols = np.searchsorted(np.array(bounds), clump, side="right")
            table = np.zeros((cols.max() + 1, rows.max() + 1))
            np.add.at(table, (cols, rows), 1)
            pxy = table / n
            px, py = pxy.sum(1, keepdims=True), pxy.sum(0, keepdims=True)
            nz = pxy > 0
            best = max(best, float((pxy[nz] * np.log(pxy[nz] / (px @ py)[nz])).sum()))
    return best


def test_optimize_x_axis_dynamic_program_is_exact():
    rng = np.random.default_rng(0)
    for _ in range(5):
        n = 40
        x = np.sort(rng.normal(size=n))
        y = np.sin(3 * x) + 0.5 * rng.normal(size=n)
        order = np.argsort(y, kind="stable")
        rows_y, q = _equipartition(y[order], 3)
        rows = np.empty(n, int)
        rows[order] = rows_y
        clump = _clumps(x, rows, k_hat=10**6)
        mi = _optimize_x_axis(rows, q, clump, 4)
        for k in (2, 3, 4):
            assert mi[k - 2] == pytest.approx(_brute_force_best_mi(rows, clump, k), abs=1e-12)


def test_noiseless_functions_score_about_one():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=1000)
    for y in (3 * x - 1, np.exp(x), x**2, np.sin(np.pi * x)):
        m, tic, tic_norm = mic_tic(x, y)
        assert m == pytest.approx(1.0, abs=0.05)
        assert 0 < tic_norm <= 1
    assert mic_tic(x, 2 * x)[0] == 1.0
    assert mic_tic(x, rng.uniform(size=1000))[0] < 0.1  # independent: small


def test_tic_orders_increasingly_noisy_relations():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=800)
    eps = rng.normal(size=800)
    tics = [mic_tic(x, x**2 + s * eps)[1] for s in (0.0, 0.05, 0.2, 0.5, 2.0)]
    assert all(a > b for a, b in itertools.pairwise(tics))


def test_symmetry_and_matrix_layout():
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    y = x + rng.normal(size=300)
    assert mic_tic(x, y) == pytest.approx(mic_tic(y, x))
    M = equicharacteristic_matrix(x, y)
    B = 300**0.6
    for kx, ky in itertools.product(range(M.shape[0]), repeat=2):
        defined = kx >= 2 and ky >= 2 and kx * ky <= B
        assert np.isnan(M[kx, ky]) != defined
    np.testing.assert_allclose(M, equicharacteristic_matrix(y, x).T)


def test_discrete_factor_and_constant_inputs():
    rng = np.random.default_rng(4)
    f = rng.integers(0, 3, size=(500, 2))
    codes = np.stack([f[:, 0] + 0.01 * rng.normal(size=500), np.zeros(500)], 1)
    with pytest.warns(MetricWarning, match="collapsed"):
        out = mic(codes, f)
    m = np.array(out["mic_matrix"])
    assert m[0, 0] > 0.99 and m[0, 1] < 0.1 and (m[1] == 0).all()
    assert out["alpha"] == 0.6 and out["c"] == 15.0 and out["estimator"] == "MIC_e/TIC_e"
    f[:, 1] = 1
    with pytest.warns(MetricWarning, match="constant"):
        out = mic(codes[:, :1], f)
    assert out["mic_matrix"][0][1] == 0.0


def test_concept_aggregation():
    rng = np.random.default_rng(5)
    n = 400
    labels = rng.uniform(size=(n, 2))
    codes = np.stack(
        [labels[:, 0], rng.normal(size=n), rng.normal(size=n), np.exp(labels[:, 1])], 1
    )
    mean = mic_concepts(codes, labels)  # blocks [0, 1] and [2, 3]
    best = mic_concepts(codes, labels, reduce="max")
    assert mean["blocks"] == [[0, 1], [2, 3]]
    assert best["mic"] == pytest.approx(1.0)
    assert mean["mic"] == pytest.approx(
        np.mean(
            [
                (1 + mean_mic) / 2
                for mean_mic in (
                    mic_tic(codes[:, 1], labels[:, 0])[0],
                    mic_tic(codes[:, 2], labels[:, 1])[0],
                )
            ]
        )
    )
    assert 0 <= mean["tic"] <= best["tic"] <= 1
    swapped = mic_concepts(codes, labels, blocks=[[3], [0]])
    assert swapped["mic"] < 0.2
    with pytest.raises(ValueError, match="equal blocks"):
        mic_concepts(codes[:, :3], labels)


def test_compute_mic_on_dataset(grid):
    rep = MonotoneRepresentation()
    blocks = [[int(np.flatnonzero(rep.perm == k)[0])] for k in range(3)]  # concept k's code
    out = compute_mic(rep, grid, rng=0, num_points=300, blocks=blocks)
    assert out["num_points"] == 300 and out["seed"] == 0 and out["blocks"] == blocks
    # equipartitions of unevenly filled discrete levels fall a little short of 1
    assert out["mic"] == pytest.approx(1.0, abs=0.01) and 0 < out["tic"] <= 1
    assert math.isfinite(out["tic"])
    best = compute_mic(rep, grid, rng=0, num_points=300)  # no blocks: best dim per factor
    assert best["aggregation"].startswith("best dim") and best["mic"] == pytest.approx(out["mic"])
    assert np.array(best["mic_matrix"]).shape == (3, 3)
    with pytest.raises(ValueError, match="contiguous"):
        compute_mic(rep, grid, rng=0, num_points=50, blocks="diagonal")
