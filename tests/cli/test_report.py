import shutil
import subprocess
import uuid

import arviz as az
import pytest
from PIL import Image

from pyro_vae.cli import build_parser, demo, main
from tests.analysis.htmlcheck import parse_report
from tests.analysis.toyrun import fit_toy_run
from tests.threads import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return fit_toy_run(tmp_path_factory.mktemp("cli") / "run")


def test_report_command_prints_the_path(run_dir, capsys):
    argv = ["report", str(run_dir), "--examples", "8", "--num-samples", "4", "--steps", "3",
            "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    path = run_dir / "report.html"
    assert capsys.readouterr().out.strip() == f"report: {path}"
    assert parse_report(path.read_text()).sections[0] == "config"


def test_traverse_command_writes_png_and_gif(run_dir, capsys):
    argv = ["traverse", str(run_dir), "--dims", "2", "0", "--span", "quantiles", "--steps", "4",
            "--gif", "--examples", "16", "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "traversal of site 'z'" in out and "average KL" in out
    with Image.open(run_dir / "traversal-z.png") as png:
        assert png.size == (2 + 4 * (16 + 2), 2 + 2 * (16 + 2))  # 2 rows x 4 steps of 16x16
    with Image.open(run_dir / "traversal-z.gif") as gif:
        assert gif.format == "GIF"
    argv = ["traverse", str(run_dir), "--prior", "--span", "-2", "2", "--order", "index",
            "--out", str(run_dir / "prior.png"), "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    assert "rows [0, 1, 2]" in capsys.readouterr().out and (run_dir / "prior.png").is_file()


def test_traverse_errors_are_clear(run_dir, capsys):
    assert main(["traverse", str(run_dir), "--span", "1", "--device", "cpu"]) == 2
    assert "--span expects LOW HIGH or 'quantiles'" in capsys.readouterr().err
    assert main(["traverse", str(run_dir), "--site", "w", "--device", "cpu"]) == 2
    assert "no latent site 'w'; its latent sites are 'z'" in capsys.readouterr().err
    assert main(["traverse", str(run_dir / "missing")]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_ppc_command_writes_the_plot_and_the_inference_data(run_dir, capsys):
    argv = ["ppc", str(run_dir), "--num-samples", "5", "--examples", "8", "--save-idata",
            "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "mean intensity" in out and "PSIS-LOO" in out
    with Image.open(run_dir / "ppc.png") as png:
        assert png.format == "PNG"
    idata = az.from_netcdf(run_dir / "posterior_predictive.nc")
    assert idata.posterior["z"].shape == (1, 5, 8, 3)
    assert idata.posterior_predictive["x"].shape == (1, 5, 8, 1, 16, 16)


def test_help_documents_the_analysis_commands(capsys):
    for command, flags in {
        "report": ("--out", "--num-samples", "--examples", "--seed", "--device"),
        "traverse": ("--site", "--dims", "--span", "--gif", "--prior", "--order"),
        "ppc": ("--num-samples", "--save-idata", "--pixel-log-likelihood"),
    }.items():
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert all(flag in text for flag in flags), command


def test_demo_ends_by_writing_the_report(tmp_path, monkeypatch, capsys):
    # the real demo trains on dsprites (branch dsprites); the same code path on the toy data
    import tests.toy  # noqa: F401

    monkeypatch.setitem(demo.DEMO, "dataset", "toy-squares")
    monkeypatch.setitem(demo.DEMO, "latent_dim", 2)
    monkeypatch.setitem(demo.DEMO, "training", {"steps": 2, "batch_size": 8, "lr": 1e-3})
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"report: {out / 'report.html'}"
    assert (out / "report.html").stat().st_size > 10_000


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const ok = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute("data-probe", `images ${ok}/${images.length}`);
});
</script></body>"""


def _chromium(tmp_path, *args):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / ('profile-' + uuid.uuid4().hex)}"]  # fmt: skip
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


@pytest.mark.browser
def test_report_renders_in_a_headless_browser(run_dir, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    assert main(["report", str(run_dir), "--examples", "8", "--num-samples", "4",
                 "--device", "cpu"]) == 0  # fmt: skip
    html = (run_dir / "report.html").read_text()
    n_images = len(parse_report(html).images)
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE))
    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()).stdout
    assert f'data-probe="images {n_images}/{n_images}"' in dom  # every image decoded
    for section in ("Training curves", "Latent traversals", "Posterior predictive check"):
        assert section in dom
    shot = tmp_path / "report.png"
    _chromium(tmp_path, "--window-size=1200,2400", f"--screenshot={shot}",
              (run_dir / "report.html").as_uri())  # fmt: skip
    with Image.open(shot) as image:
        assert image.size == (1200, 2400)
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or []) > 10  # not blank
