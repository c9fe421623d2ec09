import pytest
import torch
from PIL import Image

from pyro_vae.analysis import TraversalInterface, kl_per_dim, traversal_gif, traverse
from pyro_vae.analysis.traversal import traversal_frames
from tests.analysis.standins import Concepts, TwoLayer, gaussian_kl_to_standard, linear_vae


def _data(n=32, shape=(1, 2, 2), seed=0):
    return torch.randn(n, *shape, generator=torch.Generator().manual_seed(seed))


def test_only_the_traversed_dimension_changes_and_decodes_to_the_code():
    model, x = linear_vae(), _data()
    t = traverse(model, x, dims=[1, 3], span=(-2, 2), steps=5, order="index", seed_index=4)
    seed = model.encode(x[4:5])[0][0]
    assert t.site == "z" and t.dims == [1, 3]
    assert t.latents.shape == (2, 5, 4) and t.values.shape == (2, 5)
    for row, d in enumerate(t.dims):
        others = [j for j in range(4) if j != d]
        assert torch.equal(t.latents[row][:, others], seed[others].expand(5, 3))
        assert torch.allclose(t.latents[row, :, d], torch.linspace(-2, 2, 5))
    # the identity decoder shows the code itself: decode saw exactly these codes
    assert torch.allclose(t.images.reshape(2, 5, 4), t.latents)
    # make_grid: 3 channels, padding 2 around 2x2 images
    assert t.grid.shape == (3, 2 + 2 * (2 + 2), 2 + 5 * (2 + 2))


def test_kl_per_dim_is_the_closed_form_and_orders_the_rows():
    model, x = linear_vae(), _data()
    gains, scales = model.encoder.gains, model.encoder.scales
    expected = gaussian_kl_to_standard(gains * x.flatten(1), scales).mean(0)
    kl = kl_per_dim(model, x)
    assert torch.allclose(kl, expected, rtol=1e-5)
    t = traverse(model, x, steps=3)  # order="kl"
    assert t.dims == sorted(range(4), key=lambda d: -float(expected[d]))
    assert t.dims == [3, 1, 2, 0]  # scale 0.05, then gain .5/scale .2, ..., scale 1 and gain 0
    assert torch.allclose(t.kl, expected, rtol=1e-5)


def test_quantile_span_sweeps_the_aggregate_posterior_range():
    model, x = linear_vae(), _data(200)
    t = traverse(model, x, span="quantiles", steps=4, order="index", quantiles=(0.05, 0.95))
    loc = model.encode(x)[0]
    low, high = torch.quantile(loc, torch.tensor([0.05, 0.95]), dim=0)
    for d in range(4):
        assert torch.allclose(t.values[d], torch.linspace(float(low[d]), float(high[d]), 4))
    assert torch.allclose(t.values[0], torch.zeros(4))  # gain 0: the posterior means are all 0


def test_prior_traversal_starts_at_the_prior_mean_and_keeps_the_order():
    model = linear_vae()
    t = traverse(model, None, dims=[2, 0], steps=3)
    assert t.kl is None and t.dims == [2, 0]
    assert torch.equal(t.latents[0][:, [0, 1, 3]], torch.zeros(3, 3))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 1}, "steps must be >= 2"),
        ({"dims": [4]}, r"dims must be a non-empty list in \[0, 3\]"),
        ({"dims": "some"}, "dims must be 'all'"),
        ({"span": (1, -1)}, "low < high"),
        ({"span": "wide"}, "'quantiles'"),
        ({"order": "random"}, "order must be"),
        ({"site": "w"}, "no latent site 'w'; its latent sites are 'z'"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        traverse(linear_vae(), _data(4), **kwargs)


def test_quantiles_need_data():
    with pytest.raises(ValueError, match="needs a batch x"):
        traverse(linear_vae(), None, span="quantiles")


def test_hierarchy_layers_through_the_generic_interface():
    model, x = TwoLayer(), _data(16, (4,))
    top = traverse(model, x, site="z2", steps=4, order="index")
    assert top.site == "z2" and top.latents.shape == (2, 4, 2)
    assert torch.equal(top.latents[0, :, 1], top.latents[0, :1, 1].expand(4))
    # z2 decodes through the mean of p(z1 | z2): x_mean = V W z2
    expected = top.latents.reshape(-1, 2) @ model.W.T @ model.V.T
    assert torch.allclose(top.images, expected, atol=1e-5)
    seed = (x[0] @ model.E2.T).reshape(2)
    assert torch.allclose(top.latents[1, :, 0], seed[0].expand(4))
    bottom = traverse(model, x, site="z1", steps=3, order="index")
    assert bottom.latents.shape == (3, 3, 3)
    assert torch.allclose(bottom.images, bottom.latents.reshape(-1, 3) @ model.V.T, atol=1e-5)
    # the prior traversal of z1 is seeded at E[z1] = W E[z2] = 0
    prior = traverse(model, None, site="z1", steps=3)
    assert torch.allclose(prior.latents[0, :, 1:], torch.zeros(3, 2))


def test_hierarchy_kl_uses_the_conditional_prior():
    # s2 tiny: z2 ~ q is (almost) its mean m2, so KL(q(z1|x) || N(W m2, 0.5^2)) is exact
    model, x = TwoLayer(s2=1e-4), _data(16, (4,))
    m1, s1 = x @ model.E1.T, model.s1
    m2 = x @ model.E2.T
    p_loc, p_scale = m2 @ model.W.T, 0.5
    expected = (
        torch.log(p_scale / s1) + (s1**2 + (m1 - p_loc) ** 2) / (2 * p_scale**2) - 0.5
    ).mean(0)
    assert torch.allclose(kl_per_dim(model, x, site="z1"), expected, rtol=1e-3)
    s2 = model.s2
    assert torch.allclose(
        kl_per_dim(model, x, site="z2"), gaussian_kl_to_standard(m2, s2).mean(0), rtol=1e-5
    )


class Hooked(TwoLayer):
    """A model exposing its own interface for z1 (decoded through a marker)."""

    calls = 0

    def traversal_interface(self, site):
        if site != "z1":
            return None

        def decode(z, **kw):
            Hooked.calls += 1
            return torch.full((z.shape[0], 4), 7.0)

        return TraversalInterface(
            "z1",
            (3,),
            encode=lambda x, **kw: (x @ self.E1.T, self.s1.expand(x.shape[0], 3)),
            decode=decode,
            prior_mean=lambda batch_size=1, **kw: torch.zeros(batch_size, 3),
            unit="unit",
        )


def test_a_models_own_interface_is_used_and_none_falls_back():
    model, x = Hooked(s2=1e-4), _data(8, (4,))
    t = traverse(model, x, site="z1", steps=3)
    assert Hooked.calls == 1 and torch.all(t.images == 7.0)
    # its kl is None: the generic trace-based KL is used
    assert torch.allclose(t.kl, kl_per_dim(TwoLayer(s2=1e-4), x, site="z1"), rtol=1e-3)
    top = traverse(model, x, site="z2", steps=3)  # hook returns None -> generic
    assert not torch.all(top.images == 7.0)


def test_a_hook_returning_something_else_is_an_error():
    class Bad(TwoLayer):
        def traversal_interface(self, site):
            return {"site": site}

    with pytest.raises(TypeError, match="must return a TraversalInterface or None"):
        traverse(Bad(), _data(4, (4,)), site="z1")


def test_concepts_are_the_units_of_a_matrix_code_and_global_sites_are_refused():
    model, x = Concepts(), _data(16, (6,))
    t = traverse(model, x, steps=4, order="index", span=(-1, 1))
    assert t.site == "z" and t.dims == [0, 1, 2]
    assert t.latents.shape == (3, 4, 3, 2) and t.values.shape == (3, 4, 2)
    seed = x[0].reshape(3, 2) * 0.5
    for row, d in enumerate(t.dims):
        ramp = torch.linspace(-1, 1, 4)[:, None].expand(4, 2)
        assert torch.allclose(t.latents[row, :, d], ramp)
        others = [c for c in range(3) if c != d]
        assert torch.equal(t.latents[row][:, others], seed[others].expand(4, 2, 2))
    # the global A is decoded at its prior mean 0: x_mean = z.flatten()
    assert torch.allclose(t.images, t.latents.reshape(-1, 6), atol=1e-6)
    assert kl_per_dim(model, x).shape == (3, 2)
    quant = traverse(model, x, span="quantiles", steps=3)
    assert quant.values.shape == (3, 3, 2) and len(quant.kl) == 3
    with pytest.raises(ValueError, match="site 'A' is global"):
        traverse(model, x, site="A")


def test_gif_cycles_the_columns(tmp_path):
    # values inside [0, 1] so that every frame differs (Pillow merges equal frames)
    t = traverse(linear_vae(), _data(8), steps=5, span=(0.1, 0.9))
    frames = traversal_frames(t)
    assert len(frames) == 2 * 5 - 2
    path = traversal_gif(t, tmp_path / "t.gif", duration_ms=50)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(frames)
        assert gif.size == (frames[0].shape[2], frames[0].shape[1])
    assert [p.name for p in tmp_path.iterdir()] == ["t.gif"]  # no temporary left behind
