"""Scores stay in their documented ranges on arbitrary small inputs."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyro_vae.metrics import dci_from_importance, mcc, mig, modularity
from pyro_vae.metrics.mic import mic_tic
from pyro_vae.metrics.sap import sap_from_score_matrix

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def codes_and_factors(draw):
    n = draw(st.integers(5, 60))
    d = draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    codes = rng.normal(size=(n, d))
    if draw(st.booleans()):
        codes[:, 0] = 1.0  # a collapsed latent
    codes = np.round(codes, draw(st.integers(0, 3)))  # ties
    sizes = [draw(st.integers(1, 6)) for _ in range(k)]
    factors = np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)
    return codes, factors


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@SETTINGS
@given(codes_and_factors())
def test_mig_modularity_mcc_in_unit_interval(data):
    codes, factors = data
    m = _quiet(mig, codes, factors)["mig"]
    assert 0.0 <= m <= 1.0 + 1e-12
    assert 0.0 <= _quiet(modularity, codes, factors)["modularity"] <= 1.0 + 1e-12
    assert 0.0 <= _quiet(mcc, codes, factors)["mcc"] <= 1.0 + 1e-12


@SETTINGS
@given(codes_and_factors())
def test_mic_in_unit_interval(data):
    codes, factors = data
    m, tic, tic_norm = mic_tic(codes[:, 0], factors[:, 0])
    assert 0.0 <= m <= 1.0 and 0.0 <= tic_norm <= m + 1e-12 and tic >= 0.0


@SETTINGS
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 1.0),
)
def test_dci_and_sap_in_unit_interval(d, k, seed, sparsity):
    rng = np.random.default_rng(seed)
    r = rng.exponential(size=(d, k)) * (rng.uniform(size=(d, k)) >= sparsity)
    out = dci_from_importance(r)
    for key in ("disentanglement", "completeness"):
        assert -1e-9 <= out[key] <= 1.0 + 1e-9
    s = rng.uniform(size=(d, k))
    assert 0.0 <= sap_from_score_matrix(s)[0] <= 1.0
