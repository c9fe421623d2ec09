import json

import numpy as np
import pytest
import torch

from pyro_vae.metrics import METRICS, PRESETS, compute_mig, evaluate
from pyro_vae.metrics.presets import get_preset

from .conftest import MonotoneRepresentation

ALL = ("mig", "mig-sampled", "dci", "sap", "factor-vae", "beta-vae", "modularity", "mcc", "mic")


def _posterior(x):
    loc = MonotoneRepresentation()(x)
    return loc, torch.full_like(loc, 0.05)


def test_metric_names_and_presets():
    assert tuple(METRICS) == ALL
    for preset in PRESETS.values():
        assert set(preset) == set(ALL)
    dlib = get_preset("dlib")
    assert dlib["mig"] == {"num_points": 10000, "num_bins": 20}
    assert dlib["factor-vae"]["num_variance_estimate"] == 10000
    assert dlib["beta-vae"] == {"batch_size": 64, "num_train": 10000, "num_eval": 5000}
    assert dlib["dci"]["num_test"] == dlib["sap"]["num_test"] == 5000
    with pytest.raises(ValueError, match="valid presets"):
        get_preset("huge")


def test_unknown_names_raise(grid):
    with pytest.raises(ValueError, match=r"valid metrics: \['mig', 'mig-sampled'"):
        evaluate(MonotoneRepresentation(), grid, metrics=["mig", "irs"])
    with pytest.raises(ValueError, match="needs posterior_fn"):
        evaluate(MonotoneRepresentation(), grid, metrics=["mig-sampled"])
    with pytest.raises(ValueError, match="options for unknown"):
        evaluate(MonotoneRepresentation(), grid, metrics=["mig"], options={"migg": {}})


def test_fast_preset_all_metrics_json(grid):
    options = {
        "dci": {
            "num_train": 300,
            "num_test": 100,
            "importance": "random-forest",
            "n_estimators": 10,
        },
        "mic": {"num_points": 200, "blocks": [[0], [1], [2]]},
    }
    res = evaluate(
        MonotoneRepresentation(),
        grid,
        metrics=ALL,
        preset="fast",
        seed=3,
        posterior_fn=_posterior,
        options=options,
    )
    assert list(res) == list(ALL)
    text = json.dumps(res)
    assert "NaN" not in text and "Infinity" not in text
    for name, out in res.items():
        assert out["preset"] == "fast" and out["seed"] == 3, name
        assert out["elapsed_s"] >= 0
    assert res["mig"]["estimator"] == "binned" and res["mig"]["num_points"] == 2000
    assert res["mig-sampled"]["estimator"] == "sampled"
    assert res["dci"]["estimator"] == "random-forest" and res["dci"]["num_train"] == 300
    assert res["mic"]["num_points"] == 200
    assert res["mig"]["mig"] > 0.95 and res["factor-vae"]["eval_accuracy"] == 1.0
    assert res["beta-vae"]["eval_accuracy"] == 1.0 and res["mcc"]["mcc_spearman"] > 0.99
    assert res["modularity"]["modularity"] > 0.95 and res["dci"]["disentanglement"] > 0.9


def test_each_metric_is_seeded_on_its_own(grid):
    alone = evaluate(MonotoneRepresentation(), grid, metrics=["mig"], preset="fast", seed=5)
    both = evaluate(MonotoneRepresentation(), grid, metrics=["mcc", "mig"], preset="fast", seed=5)
    direct = compute_mig(MonotoneRepresentation(), grid, rng=5, num_points=2000)
    assert alone["mig"]["mig"] == both["mig"]["mig"] == direct["mig"]
    assert alone["mig"]["mutual_information"] == direct["mutual_information"]
    other = evaluate(MonotoneRepresentation(), grid, metrics="mig", preset="fast", seed=6)
    assert other["mig"]["mutual_information"] != alone["mig"]["mutual_information"]


def test_options_override_preset(grid):
    res = evaluate(
        MonotoneRepresentation(),
        grid,
        metrics=["mig"],
        preset="fast",
        options={"mig": {"num_points": 300, "exclude_factors": ["shape"]}},
    )
    assert res["mig"]["num_points"] == 300 and res["mig"]["excluded_factors"] == ["shape"]
    assert np.isfinite(res["mig"]["mig"])
