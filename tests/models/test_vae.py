import pyro
import pytest
import torch
from pyro.infer import SVI
from pyro.optim import Adam

from pyro_vae.infer import BetaELBO
from pyro_vae.likelihoods import Gaussian
from pyro_vae.models import VAE


def _devices():
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", _devices())
def test_conv64_vae_traces_on_device(device):
    vae = VAE.conv64(latent_dim=4).to(device)
    x = torch.rand(3, 1, 64, 64, device=device).round()
    loss = BetaELBO(4.0)
    value = loss.loss(vae.model, vae.guide, x)
    assert torch.isfinite(torch.tensor(value))
    assert loss.last_terms["kl"].device.type == device
    params = vae.model(batch_size=2)  # prior sampling without data
    assert params.shape == (2, 1, 64, 64)
    assert vae.reconstruct(x).shape == x.shape and vae.representation(x).shape == (3, 4)


def test_wrong_image_shape_is_a_clear_error():
    vae = VAE.conv64(latent_dim=4)
    with pytest.raises(ValueError, match=r"shape \('B', 1, 64, 64\).*unsqueeze"):
        vae.guide(torch.rand(3, 64, 64))
    with pytest.raises(ValueError, match="expects observations"):
        vae.guide(torch.rand(3, 1, 32, 32))


def test_nan_and_out_of_range_data_are_rejected():
    vae = VAE.mlp((4,), latent_dim=2, hidden_dims=(8,))
    x = torch.rand(3, 4)
    x[0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        BetaELBO().loss(vae.model, vae.guide, x)
    with pytest.raises(ValueError, match="Bernoulli likelihood needs data in \\[0, 1\\]"):
        BetaELBO().loss(vae.model, vae.guide, torch.randn(3, 4) * 5)
    gaussian = VAE.mlp((4,), latent_dim=2, hidden_dims=(8,), likelihood=Gaussian(1.0))
    BetaELBO().loss(gaussian.model, gaussian.guide, torch.randn(3, 4) * 5)


def test_dataset_size_smaller_than_batch_is_an_error():
    vae = VAE.mlp((4,), latent_dim=2, hidden_dims=(8,))
    with pytest.raises(ValueError, match="smaller than the batch"):
        vae.guide(torch.rand(5, 4), dataset_size=3)


def _train(vae, x, steps=150):
    svi = SVI(vae.model, vae.guide, Adam({"lr": 1e-2}), loss=BetaELBO(1.0))
    before = {k: v.detach().clone() for k, v in vae.named_parameters()}
    first = sum(svi.evaluate_loss(x) for _ in range(10)) / 10
    for _ in range(steps):
        svi.step(x)
    last = sum(svi.evaluate_loss(x) for _ in range(10)) / 10
    moved = all(not torch.equal(before[k], v) for k, v in vae.named_parameters())
    return first, last, moved


def test_two_models_in_one_process_both_learn():
    torch.manual_seed(0)
    patterns = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 1.0]])
    x = patterns[torch.randint(0, 2, (32,))]
    a = VAE.mlp((6,), latent_dim=2, hidden_dims=(16,))
    b = VAE.mlp((6,), latent_dim=2, hidden_dims=(16,))
    assert a.pyro_name != b.pyro_name
    for vae in (a, b):
        first, last, moved = _train(vae, x)
        assert moved, "every parameter of the model must be optimised"
        assert last < first - 0.3
    store_names = set(pyro.get_param_store().keys())
    assert any(n.startswith(a.pyro_name + "$$$") for n in store_names)
    assert any(n.startswith(b.pyro_name + "$$$") for n in store_names)


def test_inputs_from_batch():
    vae = VAE.mlp((4,), latent_dim=2)
    x, f = torch.rand(2, 4), torch.zeros(2, 3)
    assert vae.inputs_from_batch((x, f))["x"] is x
    assert vae.inputs_from_batch(x)["x"] is x
