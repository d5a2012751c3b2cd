import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from glyphgen.evaluation.classifier import image_tensor
from glyphgen.grids import save_png
from glyphgen.rendering.panels import sample_grid
from glyphgen.rendering.report import (
    LEADERBOARD, ROW_LABELS, bar_fraction, best_models, markdown_table, metrics_table, rank_by_fid,
)
from doubles import PCAAutoencoder

REPO = Path(__file__).resolve().parents[1]
DATASETS, MODELS = ["kmnist", "glyphs"], ["ae", "gan"]
SCORES = {  # gan has the lower FID, ae the density nearer the ceiling's
    "real_test": {"fid": 0.5, "fid_low": 0.4, "fid_high": 0.6, "precision": 0.8, "density": 0.9, "coverage": 0.9},
    "ae": {"fid": 8.0, "fid_low": 7.0, "fid_high": 9.0, "precision": 0.99, "density": 1.0, "coverage": 0.3,
           "reconstruction_mse": 0.01},
    "gan": {"fid": 4.0, "fid_low": 3.5, "fid_high": 4.5, "precision": 0.7, "density": 0.5, "coverage": 0.6},
    "pixel_noise": {"fid": 300.0, "fid_low": 290.0, "fid_high": 310.0, "precision": 0.1, "density": 0.02,
                    "coverage": 0.0},
}


@pytest.fixture()
def project(tmp_path, kmnist_train):
    """A project folder holding what the evaluate and render stages would have written."""
    picture = sample_grid(PCAAutoencoder(image_tensor(kmnist_train)), 4, seed=0)
    for dataset in DATASETS:
        for row, scores in SCORES.items():
            (tmp_path / "metrics" / dataset).mkdir(parents=True, exist_ok=True)
            (tmp_path / "metrics" / dataset / f"{row}.json").write_text(json.dumps({**scores, "num_samples": 100}))
        for model in MODELS:
            save_png(tmp_path / "reports" / "renders" / dataset / model / "samples.png", picture)
            save_png(tmp_path / "reports" / "renders" / dataset / "loss_curves" / f"{model}.png", picture)
        save_png(tmp_path / "reports" / "renders" / dataset / "real_test" / "samples.png", picture)
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
    # Details: samples and losses per model; gallery: each model's samples and the real test images.
    assert len(sources) == len(DATASETS) * (len(MODELS) * 3 + 1)
    assert all((project / "reports" / src).is_file() for src in sources)
    markdown = (project / "reports" / "metrics.md").read_text()
    for dataset in DATASETS:
        for model in MODELS:
            assert f'id="{dataset}-{model}"' in page
            assert re.search(rf"\|\s*{dataset}\s*\|\s*{model}\s*\|", markdown), markdown
        assert "real test images (ceiling)" in page and "pixel noise (floor)" in page
    assert page.count('class="dataframe metrics"') == len(DATASETS)
    assert "| fid 95%" in markdown and "7–9" in markdown


def test_page_opens_with_leaderboards_and_galleries_before_the_details(project):
    assert run_report_stage(project).returncode == 0
    page = (project / "reports" / "index.html").read_text()
    for dataset in DATASETS:
        overview = page.index(f'<section class="overview" id="{dataset}">')
        assert overview < page.index(f'id="{DATASETS[0]}-details"')
        leaderboard = page[overview : page.index("</table>", overview)]
        assert leaderboard.index(">gan<") < leaderboard.index(">ae<")  # ranked by FID
        gallery = page[page.index('class="gallery"', overview) :]
        captions = re.findall(r"<figcaption>([^<]+)</figcaption>", gallery[: gallery.index("</div>")])
        assert captions == ["real test images", "gan", "ae"]
    assert "Every row is scored on the same 100 samples" in page
    assert "precision alone misleads" in page and "density alone misleads" in page


def test_page_opens_with_the_data_previews(project):
    picture = sample_grid(PCAAutoencoder(torch.rand(20, 1, 8, 8)), 2, seed=0)
    for dataset in DATASETS:
        save_png(project / "reports" / "renders" / dataset / "data_preview.png", picture)
    assert run_report_stage(project).returncode == 0
    page = (project / "reports" / "index.html").read_text()
    previews = [page.index(f'src="renders/{dataset}/data_preview.png"') for dataset in DATASETS]
    assert max(previews) < page.index('<section class="overview"')


def test_leaderboard_ranks_by_fid_and_marks_the_best_of_each_column():
    rows = pd.DataFrame.from_dict({ROW_LABELS.get(row, row): scores for row, scores in SCORES.items()}, orient="index")
    columns = {column.name: column for column in LEADERBOARD}
    assert rank_by_fid(rows, MODELS) == ["gan", "ae"]
    assert best_models(rows, MODELS, columns["fid"]) == {"gan"}  # lower
    assert best_models(rows, MODELS, columns["precision"]) == {"ae"}  # higher
    assert best_models(rows, MODELS, columns["density"]) == {"ae"}  # nearest the ceiling's 0.9
    assert best_models(rows, MODELS, columns["reconstruction_mse"]) == {"ae"}  # the only one with a value
    rows.loc["vae"] = {"fid": 20.0, "coverage": 0.1}
    rows.loc["gan", "coverage"] = rows.loc["ae", "coverage"]
    assert best_models(rows, [*MODELS, "vae"], columns["coverage"]) == {"ae", "gan"}  # ties all marked...
    assert best_models(rows, MODELS, columns["coverage"]) == set()  # ...unless every model ties


def test_bars_run_from_the_floor_to_the_ceiling():
    assert bar_fraction(0.5, ceiling=0.9, floor=0.1) == pytest.approx(0.5)
    assert bar_fraction(1.3, ceiling=0.9, floor=0.1) == pytest.approx(1.5)  # beyond the ceiling
    assert bar_fraction(10.0, ceiling=1.0, floor=100.0, log_scale=True) == pytest.approx(0.5)  # lower is better
    assert bar_fraction(0.5, ceiling=float("nan"), floor=0.1) is None  # no reference value: no bar
    assert bar_fraction(0.5, ceiling=0.2, floor=0.2) is None


def test_markdown_table_shows_the_fid_interval():
    table = pd.DataFrame({"dataset": ["kmnist"], "model": ["vae"], "fid": [12.0], "fid_low": [11.5],
                          "fid_high": [12.5], "precision": [0.5]}).set_index(["dataset", "model"])
    header, _, row = markdown_table(table).splitlines()
    cells = [cell.strip() for cell in header.strip("|").split("|")]
    assert cells == ["dataset", "model", "fid", "fid 95%", "precision"]
    assert "11.5–12.5" in row


def test_report_names_a_missing_metrics_file(project):
    (project / "metrics" / "glyphs" / "gan.json").unlink()
    result = run_report_stage(project)
    assert result.returncode == 1 and "metrics/glyphs/gan.json" in result.stderr
    assert not (project / "reports" / "index.html").exists()


def test_metrics_table_orders_rows_ceiling_models_floor(project):
    table = metrics_table(project / "metrics", ["kmnist"], MODELS)
    assert list(table.loc["kmnist"].index) == [ROW_LABELS["real_test"], "ae", "gan", ROW_LABELS["pixel_noise"]]
