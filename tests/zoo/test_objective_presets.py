import json

import pytest
import torch

import tests.toy  # noqa: F401  (registers the toy-squares dataset)
from pyro_vae import zoo
from pyro_vae.cli import main
from pyro_vae.infer import DIPELBO, MMDELBO, TCELBO, FactorVAELoss
from pyro_vae.runs import load_run
from pyro_vae.train import load_checkpoint
from tests.infer.objective_helpers import single_thread
from tests.toy import ToySquares

PRESETS = ["beta-tcvae", "factor-vae", "dip-vae-i", "dip-vae-ii", "info-vae"]


def test_presets_build_their_objective_with_the_documented_defaults():
    dataset = ToySquares()
    _, tc = zoo.build("beta-tcvae", dataset, latent_dim=3)
    assert isinstance(tc, TCELBO) and tc.dataset_size == len(dataset) == 64
    assert (tc.alpha(0), tc.beta(0), tc.gamma(0), tc.estimator) == (1.0, 6.0, 1.0, "mss")
    _, tc = zoo.build("beta-tcvae", dataset, latent_dim=3, beta=2.0, estimator="mws")
    assert tc.beta(0) == 2.0 and tc.estimator == "mws"

    _, fac = zoo.build("factor-vae", dataset, latent_dim=3)
    assert isinstance(fac, FactorVAELoss) and fac.gamma == 40.0
    assert fac.discriminator[0].in_features == 3
    assert fac.disc_optimizer.defaults["betas"] == (0.5, 0.9)

    _, dip1 = zoo.build("dip-vae-i", dataset, latent_dim=3, lambda_od=5.0)
    _, dip2 = zoo.build("dip-vae-ii", dataset, latent_dim=3, lambda_od=5.0)
    assert isinstance(dip1, DIPELBO) and (dip1.kind, dip1.lambda_d) == ("i", 50.0)
    assert (dip2.kind, dip2.lambda_d) == ("ii", 5.0)

    model, info = zoo.build("info-vae", dataset, latent_dim=3)
    assert isinstance(info, MMDELBO) and info.prior is model.prior
    assert (info.alpha, info.lambda_, info.kernel) == (0.0, 1000.0, "rbf")


@pytest.mark.parametrize("name", PRESETS)
def test_cli_fit_runs_every_preset(name, tmp_path, capsys):
    out = tmp_path / name
    argv = [
        "fit", "--model", name, "--dataset", "toy-squares", "--latent-dim", "3",
        "--steps", "4", "--batch-size", "8", "--lr", "1e-3", "--device", "cpu",
        "--out", str(out), "--checkpoint-every", "2", "--log-every", "1", "--no-progress",
    ]  # fmt: skip
    with single_thread():
        assert main(argv) == 0
    rows = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 4 and state["loss"]["step"] == 4
    if name == "factor-vae":
        assert "discriminator" in state["loss"] and "disc_optimizer" in state["loss"]
        assert {"tc", "disc_loss", "disc_acc"} <= set(rows[-1])
    if name == "beta-tcvae":
        assert {"mi", "tc", "dim_kl"} <= set(rows[-1])
    run = load_run(out)
    assert run.step == 4 and run.loss.step == 4


def test_cli_resumes_factor_vae_with_its_discriminator(tmp_path):
    out = tmp_path / "run"
    argv = [
        "fit", "--model", "factor-vae", "--dataset", "toy-squares", "--latent-dim", "3",
        "--steps", "2", "--batch-size", "8", "--device", "cpu", "--out", str(out),
        "--no-progress", "--hp", "disc_lr=1e-3",
    ]  # fmt: skip
    with single_thread():
        assert main(argv) == 0
        first = load_checkpoint(out / "checkpoint.pt")["loss"]
        resume = ["--out", str(out), "--resume", "--steps", "3", "--no-progress"]
        assert main(argv[:7] + resume) == 0
    second = load_checkpoint(out / "checkpoint.pt")["loss"]
    assert second["step"] == 3
    assert second["disc_optimizer"]["state"][0]["step"] == 3
    assert second["disc_optimizer"]["param_groups"][0]["lr"] == 1e-3
    changed = [
        not torch.equal(first["discriminator"][k], v) for k, v in second["discriminator"].items()
    ]
    assert all(changed)
