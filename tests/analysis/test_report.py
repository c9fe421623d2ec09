import json
from collections import Counter

import pytest

from pyro_vae.analysis.report import SECTIONS, write_report
from tests.analysis.htmlcheck import decode_data_uri, parse_report
from tests.analysis.toyrun import fit_toy_run

METRICS = {
    "mig": {"score": 0.125, "per_factor": [0.1, 0.15]},
    "dci": {"disentanglement": 0.5, "completeness": 0.25, "informativeness": 0.75},
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return fit_toy_run(tmp_path_factory.mktemp("report") / "run")


def _report(run_dir):
    return write_report(run_dir, examples=16, num_samples=8, steps=4)


def test_report_has_every_section_and_every_image_decodes(run_dir):
    (run_dir / "metrics.json").write_text(json.dumps(METRICS))
    try:
        path = _report(run_dir)
    finally:
        (run_dir / "metrics.json").unlink()
    assert path == run_dir / "report.html"
    html = path.read_text()
    report = parse_report(html)
    assert report.sections == list(SECTIONS)
    per_section = Counter(section for section, _ in report.images)
    assert per_section == {
        "training": 1,
        "reconstructions": 1,
        "samples": 1,
        "traversals": 2,  # posterior and prior traversal of the one site z
        "kl": 1,
        "ppc": 1,
    }
    for _, src in report.images:
        image = decode_data_uri(src)
        assert image.size[0] > 8 and image.size[1] > 8
    text = " ".join(report.text)
    for name in ("mig", "score", "0.125", "dci", "completeness", "0.25"):
        assert name in text
    assert '"beta": 2' not in text and '"beta": 4.0' in text  # the config
    assert "p_value" in text and "Pareto k" in text
    assert "http://" not in html and "https://" not in html  # self-contained


def test_report_without_metrics_says_how_to_get_them(run_dir):
    html = _report(run_dir).read_text()
    assert "no metrics.json in the run folder" in html and "pyro-vae evaluate" in html
    leftovers = [p.name for p in run_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # written atomically, no temporary file left


def test_report_is_reproducible(run_dir, tmp_path):
    a = write_report(run_dir, tmp_path / "a.html", examples=8, num_samples=4, steps=3)
    b = write_report(run_dir, tmp_path / "b.html", examples=8, num_samples=4, steps=3)
    strip = [line for line in a.read_text().splitlines() if "created_at" not in line]
    assert strip == [line for line in b.read_text().splitlines() if "created_at" not in line]


def test_a_bad_metrics_file_is_a_clear_error(run_dir):
    (run_dir / "metrics.json").write_text("[1, 2]")
    try:
        with pytest.raises(ValueError, match="JSON object of metric name"):
            _report(run_dir)
    finally:
        (run_dir / "metrics.json").unlink()
