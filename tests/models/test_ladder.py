import math

import pyro
import pyro.poutine as poutine
import pytest
import torch

from pyro_vae.analysis import traverse
from pyro_vae.data import Digits
from pyro_vae.infer import MMDELBO, TCELBO, BetaELBO, Linear
from pyro_vae.models import LadderVAE
from pyro_vae.models.ladder import precision_weighted
from pyro_vae.train import fit


def _small(shape=(1, 8, 8), **kwargs):
    return LadderVAE(shape, (6, 4, 2), (24, 16, 8), mlp_layers=1, **kwargs)


@pytest.fixture(scope="module")
def digits_x():
    return Digits(split="train").images[:64]


# ----------------------------------------------------------------- the merge
def test_precision_weighted_merge_equals_the_closed_form():
    g = torch.Generator().manual_seed(1)
    m1, m2 = torch.randn(5, generator=g), torch.randn(5, generator=g)
    s1, s2 = torch.rand(5, generator=g) + 0.1, torch.rand(5, generator=g) + 0.1
    loc, scale = precision_weighted(m1, s1, m2, s2)
    # closed form written out
    var = (s1**2 * s2**2) / (s1**2 + s2**2)
    assert torch.allclose(scale**2, var, rtol=1e-6)
    assert torch.allclose(loc, (m1 * s2**2 + m2 * s1**2) / (s1**2 + s2**2), rtol=1e-5)
    # it is the normalised product of the two densities: the log-ratio is constant in z
    normal = torch.distributions.Normal
    z = torch.randn(7, 5, generator=g) * 3
    ratio = normal(m1, s1).log_prob(z) + normal(m2, s2).log_prob(z) - normal(loc, scale).log_prob(z)
    assert torch.allclose(ratio, ratio[:1].expand_as(ratio), atol=1e-4)
    # limits: an uninformative prior term leaves the bottom-up term; equal precisions average
    loc_inf, scale_inf = precision_weighted(m1, s1, m2, torch.full_like(s2, 1e6))
    assert torch.allclose(loc_inf, m1, atol=1e-5) and torch.allclose(scale_inf, s1, atol=1e-5)
    loc_eq, scale_eq = precision_weighted(m1, s1, m2, s1)
    assert torch.allclose(loc_eq, (m1 + m2) / 2, atol=1e-6)
    assert torch.allclose(scale_eq, s1 / math.sqrt(2), atol=1e-6)


def test_guide_top_layer_is_bottom_up_and_lower_layers_are_merges(digits_x):
    model = _small().eval()
    x = digits_x[:9]
    trace = poutine.trace(model.guide).get_trace(x)
    bottom_up = model.encoder(x)
    top = trace.nodes["z3"]["fn"].base_dist
    assert torch.allclose(top.loc, bottom_up[2][0]) and torch.allclose(top.scale, bottom_up[2][1])
    for layer in (2, 1):
        above = trace.nodes[f"z{layer + 1}"]["value"]
        loc_p, scale_p = model.prior.conditional(layer, above)
        loc, scale = precision_weighted(*bottom_up[layer - 1], loc_p, scale_p)
        fn = trace.nodes[f"z{layer}"]["fn"].base_dist
        assert torch.allclose(fn.loc, loc, atol=1e-6) and torch.allclose(fn.scale, scale)
    assert [f.name for f in trace.nodes["z1"]["cond_indep_stack"]] == ["data"]


# ------------------------------------------------------- shared parameters
def _top_down_grads(value, model):
    params = list(model.prior.top_down.parameters())
    grads = torch.autograd.grad(value, params, allow_unused=True)
    return sum(float(g.abs().sum()) for g in grads if g is not None)


def test_top_down_nets_get_gradient_from_model_terms_and_from_guide_terms(digits_x):
    model = _small().train()
    x = digits_x[:16]
    guide_trace = poutine.trace(model.guide).get_trace(x)
    # cut every path through the samples: what is left is each program's own use of the nets
    for site in guide_trace.nodes.values():
        if site["type"] == "sample":
            site["value"] = site["value"].detach()
    model_trace = poutine.trace(poutine.replay(model.model, trace=guide_trace)).get_trace(x)
    layers = ("z1", "z2")  # the layers whose densities the top-down nets parametrise
    log_p = sum(
        model_trace.nodes[s]["fn"].log_prob(model_trace.nodes[s]["value"]).sum() for s in layers
    )
    log_q = sum(
        guide_trace.nodes[s]["fn"].log_prob(guide_trace.nodes[s]["value"]).sum() for s in layers
    )
    assert _top_down_grads(log_p, model) > 0
    assert _top_down_grads(log_q, model) > 0
    # and the two programs compute the same top-down values (one set of parameters)
    above = guide_trace.nodes["z2"]["value"]
    assert torch.allclose(
        model_trace.nodes["z1"]["fn"].base_dist.loc, model.prior.conditional(1, above)[0]
    )


def test_batch_norm_statistics_are_updated_once_per_step(digits_x):
    model = _small().train()
    loss = BetaELBO(1.0)
    optim = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(3):
        loss.loss_and_grads(model.model, model.guide, digits_x[:16])
        optim.step()
        optim.zero_grad()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(norms) == 3 + 2 + 1  # bottom-up blocks, top-down nets, decoder
    assert all(int(m.num_batches_tracked) == 3 for m in norms)


def test_evaluation_mode_uses_running_statistics(digits_x):
    model = _small()
    fit(model, BetaELBO(1.0), digits_x, steps=3, batch_size=16, device="cpu", progress=False)
    assert not model.training  # fit() leaves the model in eval mode
    x = digits_x[:8]
    loc, scale = model.encode(x)
    loc1, scale1 = model.encode(x[3:4])
    assert torch.allclose(loc[3:4], loc1, atol=1e-6) and torch.allclose(scale[3:4], scale1)
    path = model.posterior_mean_path(x)
    assert torch.allclose(path["z2"][3:4], model.posterior_mean_path(x[3:4])["z2"], atol=1e-6)


# ------------------------------------------------------------- objectives
def test_trains_with_kl_warm_up(digits_x):
    pyro.set_rng_seed(0)
    model = _small()
    warmup = Linear(1e-3, 1.0, 20)
    loss = BetaELBO(warmup)
    seen = []
    fit(
        model,
        loss,
        digits_x,
        steps=30,
        batch_size=32,
        lr=1e-2,
        device="cpu",
        progress=False,
        log_every=1,
        callback=lambda step, row: seen.append((step, row)),
    )
    assert loss.step == 30
    for step, row in seen:  # the step's loss used beta at the counter before advancing
        assert row["beta"] == pytest.approx(warmup(step - 1))
        assert row["loss"] == pytest.approx(
            row["recon"] + row["beta"] * row["kl"], rel=1e-5, abs=1e-4
        )
        assert row["kl"] == pytest.approx(sum(row[f"kl_z{i}"] for i in (1, 2, 3)), rel=1e-5)
    assert [row["beta"] for _, row in seen[-5:]] == [1.0] * 5
    assert seen[-1][1]["recon"] < seen[0][1]["recon"] - 5.0


def _loss_and_grads(model, loss, x, seed=3):
    pyro.set_rng_seed(seed)
    value = loss.differentiable_loss(model.model, model.guide, x)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(value, params, allow_unused=True)
    return float(value.detach()), dict(loss.last_terms), grads


def test_free_bits_floor_each_layers_batch_mean_kl(digits_x):
    """Kingma et al. 2016, eq. 15: sum over groups (here: layers) of
    max(lambda, E_x KL_group), with the KL of a group averaged over the minibatch."""
    model = _small().train()
    x = digits_x[:32]
    _, terms, _ = _loss_and_grads(model, BetaELBO(1.0), x)
    kls = {s: float(terms[f"kl_{s}"]) for s in ("z1", "z2", "z3")}
    floors = {"z1": kls["z1"] + 3.0, "z2": kls["z2"] / 2}  # z1 below its floor, z2 above
    value, fb_terms, fb_grads = _loss_and_grads(model, BetaELBO(1.0, free_bits=floors), x)
    expected = float(terms["recon"]) + floors["z1"] + kls["z2"] + kls["z3"]
    assert value == pytest.approx(expected, rel=1e-5)
    assert float(fb_terms["kl_z1"]) == pytest.approx(kls["z1"], rel=1e-6)  # logs the raw KL
    # a floor above every layer's KL: the KL terms give no gradient at all
    high = BetaELBO(1.0, free_bits=1e3)
    value, _, grads = _loss_and_grads(model, high, x)
    assert value == pytest.approx(float(terms["recon"]) + 3 * 1e3, rel=1e-6)
    _, _, recon_grads = _loss_and_grads(model, BetaELBO(0.0), x)
    for g, r in zip(grads, recon_grads, strict=True):
        assert (g is None and r is None) or torch.allclose(g, r, atol=1e-6)


@pytest.mark.parametrize("site", ["z3", "z1"])
def test_tc_elbo_on_a_chosen_layer(digits_x, site):
    model = _small().train()
    x = digits_x[:32]
    n = len(digits_x)
    # alpha = beta = gamma = 1: the decomposition sums to the one-sample KL of that layer
    one = TCELBO(1.0, 1.0, 1.0, dataset_size=n, site=site, analytic_kl=False)
    tc_one, tc_terms, _ = _loss_and_grads(model, one, x)
    mc_elbo, _, _ = _loss_and_grads(model, BetaELBO(1.0, analytic_kl=False), x)
    assert tc_one == pytest.approx(mc_elbo, rel=1e-5)
    assert {"mi", "tc", "dim_kl"} <= set(tc_terms)
    loss = TCELBO(beta=6.0, dataset_size=n, site=site)
    result = fit(model, loss, digits_x, steps=4, batch_size=32, device="cpu", progress=False,
                 log_every=1)  # fmt: skip
    assert loss.step == 4 and all(math.isfinite(row["loss"]) for row in result.history)


@pytest.mark.parametrize("site", ["z3", "z1"])
def test_mmd_elbo_on_a_chosen_layer(digits_x, site):
    model = _small().train()
    x = digits_x[:32]
    loss = MMDELBO(alpha=0.0, lambda_=2.0, site=site, prior=model.prior.marginal)  # MMD weight 1
    value, terms, _ = _loss_and_grads(model, loss, x)
    assert value == pytest.approx(float(terms["recon"] + terms["kl"] + terms["mmd"]), rel=1e-5)
    norms = [m for m in model.prior.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    before = [int(m.num_batches_tracked) for m in norms]
    loss = MMDELBO(alpha=0.0, lambda_=10.0, site=site, prior=model.prior.marginal)
    result = fit(model, loss, digits_x, steps=4, batch_size=32, device="cpu", progress=False,
                 log_every=1)  # fmt: skip
    assert all(math.isfinite(row["loss"]) and "mmd" in row for row in result.history)
    # the extra prior samples leave the running statistics to the model's own pass
    assert [int(m.num_batches_tracked) - b for m, b in zip(norms, before, strict=True)] == [4] * 2


# ------------------------------------------------------------- interfaces
def test_sampling_reconstruction_and_traversal(digits_x):
    model = _small().eval()
    x = digits_x[:10]
    assert model.latent_dim == 2 and model.latent_site == "z3"
    assert model.model(batch_size=4).shape == (4, 1, 8, 8)
    assert model.reconstruct(x).shape == x.shape
    assert model.representation(x).shape == (10, 2)
    assert model.representation(x, layer=1).shape == (10, 6)
    images = model.decode(torch.zeros(3, 2))
    assert images.shape == (3, 1, 8, 8) and ((images >= 0) & (images <= 1)).all()
    result = traverse(model, x, steps=4)
    assert result.latents.shape == (2, 4, 2) and result.kl.shape == (2,)


def test_conv_front_end_for_images():
    model = LadderVAE((1, 28, 28), (8, 4), (64, 32), frontend="conv", mlp_layers=1)
    x = torch.rand(4, 1, 28, 28).round()
    value = BetaELBO(1.0).loss(model.model, model.guide, x)
    assert math.isfinite(value)
    assert model.eval().reconstruct(x).shape == x.shape


def test_flat_inputs_and_gaussian_likelihood():
    from pyro_vae.likelihoods import Gaussian

    model = LadderVAE((10,), (3, 2), (16, 8), likelihood=Gaussian(0.5))
    assert math.isfinite(BetaELBO(1.0).loss(model.model, model.guide, torch.randn(5, 10) * 3))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="frontend must be 'mlp' or 'conv'"):
        LadderVAE((64,), (4, 2), frontend="rnn")
    with pytest.raises(ValueError, match=r"frontend='conv' needs images"):
        LadderVAE((1, 8, 8), (4, 2), frontend="conv")
    with pytest.raises(ValueError, match="pass hidden_dims"):
        LadderVAE((64,), (6, 5, 4, 3, 2, 1))
    with pytest.raises(ValueError, match="one width per stochastic layer"):
        LadderVAE((64,), (4, 2), (16,))
    model = _small()
    with pytest.raises(ValueError, match="no observed context"):
        model.guide(torch.rand(4, 1, 8, 8), u=torch.zeros(4, 1))
    with pytest.raises(ValueError, match="expects observations"):
        model.guide(torch.rand(4, 64))


# --------------------------------------------------------------------- CLI
def test_cli_fit_ladder_vae_on_digits(tmp_path, capsys):
    from pyro_vae.cli import main

    out = tmp_path / "run"
    argv = ["fit", "--model", "ladder-vae", "--dataset", "digits", "--steps", "2",
            "--device", "cpu", "--out", str(out), "--no-progress",
            "--hp", "latent_dims=[8,4,2]", "--hp", "hidden_dims=[32,16,8]",
            "--hp", "warmup_steps=10", "--latent-dim", "2"]  # fmt: skip
    assert main(argv) == 0
    for name in ("config.json", "checkpoint.pt", "reconstructions.png", "traversal.png"):
        assert (out / name).is_file(), name
    from pyro_vae.runs import load_run

    run = load_run(out)
    assert run.model.latent_dims == (8, 4, 2) and run.loss.step == 2
    assert run.loss.beta(5) == pytest.approx(0.5)
    bad = ["fit", "--model", "ladder-vae", "--dataset", "digits", "--latent-dim", "3",
           "--steps", "1", "--out", str(tmp_path / "never")]  # fmt: skip
    assert main(bad) == 2
    assert "must equal latent_dims[-1] (4)" in capsys.readouterr().err
