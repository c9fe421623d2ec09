import pyro
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam

from pyro_vae.infer import BetaELBO, CapacityELBO, Linear
from tests.infer.linear_gaussian import make_linear_vae


def _loss_at(loss, vae, x, seed=5):
    pyro.set_rng_seed(seed)
    value = loss.loss(vae.model, vae.guide, x)
    return value, {k: float(v) for k, v in loss.last_terms.items()}


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0, 10.0])
def test_beta_multiplies_exactly_the_kl(beta):
    vae = make_linear_vae()
    x = torch.randn(8, 3)
    value, terms = _loss_at(BetaELBO(beta), vae, x)
    assert terms["beta"] == beta
    assert value == pytest.approx(terms["recon"] + beta * terms["kl"], rel=1e-6, abs=1e-5)
    one, terms_one = _loss_at(BetaELBO(1.0), vae, x)
    assert terms_one["recon"] == pytest.approx(terms["recon"], rel=1e-6)
    assert value - one == pytest.approx((beta - 1.0) * terms["kl"], rel=1e-5, abs=1e-5)


def test_beta_must_be_non_negative():
    with pytest.raises(ValueError, match="beta must be >= 0"):
        BetaELBO(-1.0)
    vae = make_linear_vae()
    loss = BetaELBO(lambda step: -0.5)
    with pytest.raises(ValueError, match="beta at step 0"):
        loss.loss(vae.model, vae.guide, torch.randn(2, 3))


def test_linear_schedule_values():
    warmup = Linear(1e-3, 1.0, 100)
    assert warmup(0) == pytest.approx(1e-3)
    assert warmup(50) == pytest.approx(1e-3 + 0.5 * (1 - 1e-3))
    assert warmup(100) == warmup(1000) == 1.0
    delayed = Linear(0.0, 25.0, 10, delay=5)
    assert [delayed(s) for s in (0, 5, 10, 15, 20)] == [0.0, 0.0, 12.5, 25.0, 25.0]


def test_capacity_schedule_and_formula():
    loss = CapacityELBO(gamma=100.0, c_max=20.0, c_steps=10)
    assert [loss.capacity(s) for s in (0, 5, 10, 50)] == [0.0, 10.0, 20.0, 20.0]
    vae = make_linear_vae()
    x = torch.randn(8, 3)
    loss.step = 5
    value, terms = _loss_at(loss, vae, x)
    assert terms["capacity"] == 10.0
    expected = terms["recon"] + 100.0 * abs(terms["kl"] - 10.0)
    assert value == pytest.approx(expected, rel=1e-5)


def test_schedules_advance_on_training_steps_only():
    vae = make_linear_vae()
    x = torch.randn(4, 3)
    loss = BetaELBO(Linear(0.1, 1.0, 10))
    for _ in range(3):
        loss.loss(vae.model, vae.guide, x)  # evaluation: no advance
    assert loss.step == 0
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-3}), loss=loss)
    for _ in range(4):
        svi.step(x)
    svi.evaluate_loss(x)
    assert loss.step == 4
    assert float(loss.last_terms["beta"]) == pytest.approx(Linear(0.1, 1.0, 10)(4))
    state = loss.state_dict()
    fresh = BetaELBO(Linear(0.1, 1.0, 10))
    fresh.load_state_dict(state)
    assert fresh.step == 4


def test_svi_with_beta_elbo_decreases_the_loss():
    torch.manual_seed(0)
    vae = make_linear_vae()
    x = torch.randn(64, 3) * 2
    loss = BetaELBO(1.0)
    svi = SVI(vae.model, vae.guide, Adam({"lr": 2e-2}), loss=loss)
    first = sum(svi.evaluate_loss(x) for _ in range(20)) / 20
    for _ in range(300):
        svi.step(x)
    last = sum(svi.evaluate_loss(x) for _ in range(20)) / 20
    assert last < first - 0.5
