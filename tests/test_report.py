import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glyphgen.evaluation.classifier import image_tensor
from glyphgen.rendering.grids import save_png
from glyphgen.rendering.panels import sample_grid
from doubles import PCAAutoencoder

REPO = Path(__file__).resolve().parents[1]
DATASETS, MODELS = ["kmnist", "glyphs"], ["ae", "gan"]


@pytest.fixture()
def project(tmp_path, kmnist_train):
    """A project folder holding what the evaluate and render stages would have written."""
    picture = sample_grid(PCAAutoencoder(image_tensor(kmnist_train)), 4, seed=0)
    for dataset in DATASETS:
        for row in ["real_test", "pixel_noise", *MODELS]:
            scores = {"fid": 1.0 + len(row), "precision": 0.5, "coverage": 0.25, "num_samples": 100}
            if row == "ae":
                scores["reconstruction_mse"] = 0.01
            (tmp_path / "metrics" / dataset).mkdir(parents=True, exist_ok=True)
            (tmp_path / "metrics" / dataset / f"{row}.json").write_text(json.dumps(scores))
        for model in MODELS:
            for name in ("samples.png", "losses.png"):
                save_png(tmp_path / "reports" / "renders" / dataset / model / name, picture)
    (tmp_path / "params.yaml").write_text(f"pipeline:\n  datasets: {DATASETS}\n  models: {MODELS}\n")
    return tmp_path


def run_report_stage(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "stages" / "report.py")], cwd=project, capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO / "src")})


def test_report_links_only_existing_pictures_and_shows_every_model(project):
    result = run_report_stage(project)
    assert result.returncode == 0, result.stderr
    page = (project / "reports" / "index.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == len(DATASETS) * len(MODELS) * 2
    assert all((project / "reports" / src).is_file() for src in sources)
    markdown = (project / "reports" / "metrics.md").read_text()
    for dataset in DATASETS:
        for model in MODELS:
            assert f'id="{dataset}-{model}"' in page
            assert re.search(rf"\|\s*{dataset}\s*\|\s*{model}\s*\|", markdown), markdown
        assert "real test images (ceiling)" in page and "pixel noise (floor)" in page
    assert page.count('class="dataframe metrics"') == len(DATASETS)


def test_report_names_a_missing_metrics_file(project):
    (project / "metrics" / "glyphs" / "gan.json").unlink()
    result = run_report_stage(project)
    assert result.returncode == 1 and "metrics/glyphs/gan.json" in result.stderr
    assert not (project / "reports" / "index.html").exists()
