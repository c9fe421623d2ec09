"""Named settings of every metric: sample sizes, bins, classifiers.

* ``"dlib"``: disentanglement_lib's settings (its ``metric_configs/*.gin``
  of the unsupervised study: 10000 training / 5000 test points, 20 bins,
  batch 64, 10000 points for FactorVAE's variances). Metrics that are not
  in disentanglement_lib (sampled MIG, MCC, MIC) use 10000 points, the
  publication size of the others.
* ``"fast"``: small sizes for quick feedback during development and in
  tests; the numbers are noisier and not for publication.

``PRESETS[name][metric]`` are keyword arguments of the metric's
``compute_*`` function (see :data:`pyro_vae.metrics.evaluate.METRICS`).
"""

from __future__ import annotations

import copy

__all__ = ["PRESETS", "get_preset"]

PRESETS: dict[str, dict[str, dict]] = {
    "dlib": {
        "mig": {"num_points": 10000, "num_bins": 20},
        "mig-sampled": {"num_points": 10000, "num_samples": None},
        "dci": {"num_train": 10000, "num_test": 5000, "importance": "gbt"},
        "sap": {"num_train": 10000, "num_test": 5000, "continuous_factors": False},
        "factor-vae": {
            "batch_size": 64,
            "num_train": 10000,
            "num_eval": 5000,
            "num_variance_estimate": 10000,
            "threshold": 0.05,
        },
        "beta-vae": {"batch_size": 64, "num_train": 10000, "num_eval": 5000},
        "modularity": {"num_train": 10000, "num_test": 5000, "num_bins": 20},
        "mcc": {"num_points": 10000},
        "mic": {"num_points": 10000, "alpha": 0.6, "c": 15.0},
    },
    "fast": {
        "mig": {"num_points": 2000, "num_bins": 20},
        "mig-sampled": {"num_points": 1000, "num_samples": None},
        "dci": {"num_train": 1000, "num_test": 500, "importance": "gbt"},
        "sap": {"num_train": 1000, "num_test": 500, "continuous_factors": False},
        "factor-vae": {
            "batch_size": 64,
            "num_train": 500,
            "num_eval": 250,
            "num_variance_estimate": 1000,
            "threshold": 0.05,
        },
        "beta-vae": {"batch_size": 64, "num_train": 500, "num_eval": 250},
        "modularity": {"num_train": 1000, "num_test": 500, "num_bins": 20},
        "mcc": {"num_points": 2000},
        "mic": {"num_points": 500, "alpha": 0.6, "c": 15.0},
    },
}


def get_preset(name: str) -> dict[str, dict]:
    """A copy of preset ``name``; ``ValueError`` listing the valid names otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
