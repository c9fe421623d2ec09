"""Disentanglement and identifiability metrics.

Pure functions on arrays -- ``codes`` ``(n, d)`` and ``factors`` ``(n, K)``
-- plus samplers that build those arrays from a representation function and
a ground-truth dataset (:mod:`pyro_vae.data.base`), and one entry point,
:func:`evaluate`. Every result is a JSON-serializable dict that names its
estimator and settings. Metrics know arrays and datasets, not models.
"""

from pyro_vae.metrics._utils import (
    MetricWarning,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)
from pyro_vae.metrics.beta_vae import beta_vae_features, beta_vae_score, compute_beta_vae
from pyro_vae.metrics.dci import (
    completeness,
    compute_dci,
    dci,
    dci_from_importance,
    disentanglement,
)
from pyro_vae.metrics.evaluate import DEFAULT_METRICS, METRICS, evaluate
from pyro_vae.metrics.factor_vae import compute_factor_vae, factor_vae_score
from pyro_vae.metrics.graph import graph_metrics
from pyro_vae.metrics.mask import mask_scores
from pyro_vae.metrics.mcc import compute_mcc, mcc
from pyro_vae.metrics.mic import compute_mic, mic, mic_concepts, mic_tic
from pyro_vae.metrics.mig import compute_mig, compute_mig_sampled, mig, mig_sampled
from pyro_vae.metrics.modularity import (
    compute_modularity_explicitness,
    explicitness,
    modularity,
    modularity_explicitness,
)
from pyro_vae.metrics.presets import PRESETS
from pyro_vae.metrics.sampling import (
    sample_beta_vae_features,
    sample_codes_factors,
    sample_factor_vae_variances,
    sample_posterior_factors,
)
from pyro_vae.metrics.sap import compute_sap, sap

__all__ = [
    "graph_metrics",
    "evaluate",
    "METRICS",
    "DEFAULT_METRICS",
    "PRESETS",
    "MetricWarning",
    # array-level metrics
    "mig",
    "mig_sampled",
    "dci",
    "dci_from_importance",
    "disentanglement",
    "completeness",
    "sap",
    "modularity",
    "explicitness",
    "modularity_explicitness",
    "beta_vae_features",
    "beta_vae_score",
    "factor_vae_score",
    "mcc",
    "mask_scores",
    "mic",
    "mic_tic",
    "mic_concepts",
    # dataset-level metrics
    "compute_mig",
    "compute_mig_sampled",
    "compute_dci",
    "compute_sap",
    "compute_modularity_explicitness",
    "compute_beta_vae",
    "compute_factor_vae",
    "compute_mcc",
    "compute_mic",
    # samplers and helpers
    "sample_codes_factors",
    "sample_posterior_factors",
    "sample_beta_vae_features",
    "sample_factor_vae_variances",
    "histogram_discretize",
    "discrete_mutual_info",
    "discrete_entropy",
]
