"""Interventions with poutine.do reach descendants and no ancestor."""

import pytest
import torch
from PIL import Image

from pyro_vae.analysis.interventions import (
    intervene,
    intervention_grid,
    save_intervention_grid,
)
from pyro_vae.models import VAE, CausalVAE
from pyro_vae.nets import MLPDecoder, MLPEncoder

# 0 -> 2 <- 1, 2 -> 3: roots 0 and 1, a middle node 2, a leaf 3
GRAPH = torch.tensor(
    [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, -0.8, 0.0], [0.0, 0.0, 0.0, 1.5], [0.0, 0.0, 0.0, 0.0]]
)
DESCENDANTS = {0: {2, 3}, 1: {2, 3}, 2: {3}, 3: set()}


def _model():
    torch.manual_seed(0)
    model = CausalVAE(
        MLPEncoder((12,), 8, (16,)),
        MLPDecoder(8, (12,), (16,)),
        (12,),
        4,
        2,
        concept_names=["a", "b", "c", "d"],
    )
    model.prior.set_graph(GRAPH)
    return model


def _changed(before, after):
    return {i for i in range(before.shape[1]) if not torch.allclose(before[:, i], after[:, i])}


@pytest.mark.parametrize("concept", [0, 1, 2, 3])
def test_intervention_changes_descendants_only(concept):
    model = _model()
    x = torch.rand(5, 12)
    result = intervene(model, x, concept, 4.0)
    assert torch.allclose(result.latents[:, concept], torch.full((5, 2), 4.0))
    assert _changed(result.factual, result.latents) == {concept} | DESCENDANTS[concept]
    # upstream and unrelated concepts keep their factual values exactly
    for j in set(range(4)) - {concept} - DESCENDANTS[concept]:
        assert torch.allclose(result.latents[:, j], result.factual[:, j], atol=1e-6)
    assert result.images.shape == (5, 12)
    assert result.concept == concept


def test_children_follow_the_mask_layer_equations():
    model = _model()
    x = torch.rand(3, 12)
    result = intervene(model, x, "a", -2.0)  # by name
    z = result.latents
    noise = model.prior.abduct(result.factual)
    # every concept but the intervened one satisfies z_i = g_i(A_i o z) + eps_i
    rhs = model.prior.mask(z) + noise
    assert torch.allclose(z[:, 1:], rhs[:, 1:], atol=1e-5)
    assert not torch.allclose(z[:, 0], rhs[:, 0])


def test_factual_value_reproduces_the_posterior_mean():
    model = _model()
    x = torch.rand(4, 12)
    factual = model.posterior_mean(x)
    result = intervene(model, x, 1, factual[:, 1])
    assert torch.allclose(result.latents, factual, atol=1e-5)
    assert torch.allclose(result.images, model.decode(factual), atol=1e-5)


def test_grid_has_a_row_per_concept_and_saves_a_png(tmp_path):
    model = _model()
    x = torch.rand(20, 12)
    grid, values = intervention_grid(model, x, steps=5)
    assert values.shape == (4, 5, 2)
    assert grid.shape[0] == 3 and grid.dim() == 3
    # default values are blocks that examples of x have, ordered along a principal axis
    means = model.posterior_mean(x)
    for i in range(4):
        for value in values[i]:
            assert (means[:, i] - value).abs().sum(-1).min() < 1e-6
    _, scalar = intervention_grid(model, x, values=[-1.0, 1.0], concepts=["b"])
    assert scalar.shape == (1, 2, 2) and torch.equal(scalar[0, 1], torch.ones(2))
    path = save_intervention_grid(model, x, tmp_path / "grid.png", values=[-1.0, 0.0, 1.0])
    with Image.open(path) as image:
        assert image.format == "PNG"


def test_bad_requests_are_refused():
    model = _model()
    x = torch.rand(2, 12)
    with pytest.raises(ValueError, match="unknown concept"):
        intervene(model, x, "shadow", 1.0)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        intervene(model, x, 4, 1.0)
    with pytest.raises(TypeError, match="structural prior"):
        intervene(VAE.mlp((12,), 2, (8,)), x, 0, 1.0)
