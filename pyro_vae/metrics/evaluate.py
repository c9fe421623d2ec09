"""The one entry point of the metrics: :func:`evaluate`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.metrics._utils import to_builtin
from pyro_vae.metrics.beta_vae import compute_beta_vae
from pyro_vae.metrics.dci import compute_dci
from pyro_vae.metrics.factor_vae import compute_factor_vae
from pyro_vae.metrics.mcc import compute_mcc
from pyro_vae.metrics.mic import compute_mic
from pyro_vae.metrics.mig import compute_mig, compute_mig_sampled
from pyro_vae.metrics.modularity import compute_modularity_explicitness
from pyro_vae.metrics.presets import get_preset
from pyro_vae.metrics.sampling import DEFAULT_EVAL_BATCH_SIZE, PosteriorFn, RepresentationFn
from pyro_vae.metrics.sap import compute_sap

__all__ = ["evaluate", "METRICS", "DEFAULT_METRICS"]

#: metric name -> ``compute_*`` function (first two arguments: the
#: representation (or posterior) function and the dataset)
METRICS: dict[str, Callable[..., dict]] = {
    "mig": compute_mig,
    "mig-sampled": compute_mig_sampled,
    "dci": compute_dci,
    "sap": compute_sap,
    "factor-vae": compute_factor_vae,
    "beta-vae": compute_beta_vae,
    "modularity": compute_modularity_explicitness,
    "mcc": compute_mcc,
    "mic": compute_mic,
}

#: disentanglement_lib's set
DEFAULT_METRICS = ("mig", "dci", "sap", "factor-vae", "beta-vae", "modularity")


def evaluate(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    metrics: Sequence[str] = DEFAULT_METRICS,
    preset: str = "dlib",
    seed: int = 0,
    posterior_fn: PosteriorFn | None = None,
    options: Mapping[str, Mapping] | None = None,
    eval_batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
) -> dict[str, dict]:
    """Evaluate a representation on a ground-truth dataset.

    Each metric draws its own points with ``numpy.random.default_rng(seed)``
    (as disentanglement_lib seeds each metric), so a metric's result does
    not depend on which other metrics are requested, and equals its
    ``compute_*`` function called with the same settings and seed.

    :param representation_fn: ``x (n, *observation_shape) -> mean codes (n, d)``.
    :param dataset: a :class:`~pyro_vae.data.base.GroundTruthDataset`.
    :param metrics: names among :data:`METRICS`: ``mig``, ``mig-sampled``,
        ``dci``, ``sap``, ``factor-vae``, ``beta-vae``, ``modularity``
        (modularity and explicitness), ``mcc``, ``mic``.
    :param str preset: ``"dlib"`` or ``"fast"`` (:mod:`pyro_vae.metrics.presets`).
    :param int seed: seed of every metric's generator.
    :param posterior_fn: ``x -> (loc, scale)``, needed by ``mig-sampled``.
    :param options: per-metric overrides of the preset, e.g.
        ``{"mig": {"exclude_factors": ["shape"]}}``.
    :param int eval_batch_size: observations per call of the representation
        function (does not change results).
    :returns: ``{metric: result}``; every result is JSON-serializable and
        names its estimator and settings, plus ``"preset"``, ``"seed"`` and
        ``"elapsed_s"``.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid metrics: {list(METRICS)}")
    options = dict(options or {})
    bad = [m for m in options if m not in METRICS]
    if bad:
        raise ValueError(f"options for unknown metric(s) {bad}; valid metrics: {list(METRICS)}")
    settings = get_preset(preset)
    if "mig-sampled" in metrics and posterior_fn is None:
        raise ValueError("metric 'mig-sampled' needs posterior_fn (x -> (loc, scale))")
    results: dict[str, dict] = {}
    for name in metrics:
        kwargs = {**settings[name], **dict(options.get(name, {}))}
        fn = posterior_fn if name == "mig-sampled" else representation_fn
        start = time.perf_counter()
        out = METRICS[name](fn, dataset, seed, eval_batch_size=eval_batch_size, **kwargs)
        out.update(preset=preset, seed=int(seed), elapsed_s=time.perf_counter() - start)
        results[name] = to_builtin(out)
    return results
