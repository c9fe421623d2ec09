import json

import pyro
import pyro.distributions as dist
import pytest
import torch
from torch import nn

from pyro_vae.infer import BetaELBO, Linear
from pyro_vae.models import VAE
from pyro_vae.train import (
    CHECKPOINT_NAME,
    NonFiniteLossError,
    fit,
    load_checkpoint,
)


def _data(n=96, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    patterns = (torch.rand(3, d, generator=g) > 0.5).float()
    return patterns[torch.randint(0, 3, (n,), generator=g)]


def _vae(seed=0):
    torch.manual_seed(seed)
    return VAE.mlp((6,), latent_dim=2, hidden_dims=(16,))


def _fit(vae, loss, data, tmp_path, **kw):
    opts = dict(steps=20, batch_size=16, lr=1e-2, progress=False, log_every=1)
    opts.update(kw)
    return fit(vae, loss, data, out=tmp_path, **opts)


def test_fit_trains_and_writes_history_and_checkpoint(tmp_path):
    data = _data()
    result = _fit(_vae(), BetaELBO(1.0), data, tmp_path, steps=200, log_every=10)
    assert result.step == 200
    rows = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(10, 201, 10))
    assert {"loss", "recon", "kl", "beta", "time"} <= set(rows[0])
    assert sum(r["loss"] for r in rows[-5:]) < sum(r["loss"] for r in rows[:5])
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["step"] == 200 and state["loss"]["step"] == 200
    # the checkpoint loads with weights_only=True
    torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(tmp_path):
    data = _data()
    full = _fit(_vae(), BetaELBO(Linear(0.1, 1.0, 30)), data, tmp_path / "full", steps=40)
    # an interrupted run: 10 steps, then a restart in a "new process"
    _fit(_vae(), BetaELBO(Linear(0.1, 1.0, 30)), data, tmp_path / "ten", steps=10)
    resumed = _fit(
        _vae(seed=123),  # different init: everything comes from the checkpoint
        BetaELBO(Linear(0.1, 1.0, 30)),
        data,
        tmp_path / "ten",
        steps=40,
        resume=True,
    )
    assert [r["step"] for r in resumed.history] == list(range(1, 41))
    for a, b in zip(full.history, resumed.history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6, abs=1e-6), a["step"]
        assert a["beta"] == b["beta"]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    data = _data()
    _fit(_vae(), BetaELBO(), data, tmp_path, steps=5)
    good = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise KeyboardInterrupt("crash mid-save")

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        _fit(_vae(), BetaELBO(), data, tmp_path, steps=10, resume=True, checkpoint_every=2)
    monkeypatch.setattr(torch, "save", real_save)
    survivor = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert survivor["step"] == good["step"] == 5
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_non_finite_loss_stops_with_the_step_and_keeps_the_checkpoint(tmp_path):
    data = _data()
    vae = _vae()
    calls = {"n": 0}
    original = vae.decoder.forward

    def poisoned(z):
        calls["n"] += 1
        out = original(z)
        return out * float("nan") if calls["n"] > 6 else out

    vae.decoder.forward = poisoned
    with pytest.raises(NonFiniteLossError, match=r"step 7.*checkpoint.pt"):
        _fit(vae, BetaELBO(), data, tmp_path, steps=20, checkpoint_every=3)
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["step"] == 6
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_stray_pyro_params_are_refused(tmp_path):
    class ScaledPrior(nn.Module):
        def forward(self, ctx):
            scale = pyro.param("stray_scale", torch.tensor(1.0))
            with ctx.plate:
                return pyro.sample("z", dist.Normal(torch.zeros(2), scale).to_event(1))

    vae = VAE.mlp((6,), latent_dim=2, hidden_dims=(16,), prior=ScaledPrior())
    with pytest.raises(ValueError, match="stray_scale.*nn.Parameters"):
        _fit(vae, BetaELBO(), _data(), tmp_path, steps=2)


def test_epochs_csv_history_and_argument_errors(tmp_path):
    data = _data(n=64)
    result = _fit(_vae(), BetaELBO(), data, tmp_path, steps=None, epochs=2, history_format="csv")
    assert result.step == 8
    assert (tmp_path / "history.csv").read_text().startswith("step,loss")
    with pytest.raises(ValueError, match="exactly one of steps or epochs"):
        fit(_vae(), BetaELBO(), data, steps=1, epochs=1)
    with pytest.raises(ValueError, match="fewer than one batch"):
        fit(_vae(), BetaELBO(), data[:4], steps=1, batch_size=16, progress=False)
    with pytest.raises(ValueError, match="resume=True needs"):
        fit(_vae(), BetaELBO(), data, steps=1, resume=True)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        load_checkpoint(path)
