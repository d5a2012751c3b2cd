import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from glyphgen.errors import GlyphgenError
from glyphgen.evaluation.judges import image_tensor
from glyphgen.evaluation.sanity import DEGRADATIONS
from glyphgen.grids import save_png
from glyphgen.rendering.panels import sample_grid
from glyphgen.rendering.report import (
    ROW_LABELS, SHARED_COLUMNS, bar_fraction, best_models, consensus_order, consensus_text, judge_columns,
    judge_ranks, leaderboard, markdown_report, metrics_table, ranking_metric, set_sizes,
)
from doubles import PCAAutoencoder

REPO = Path(__file__).resolve().parents[1]
DATASETS, MODELS, JUDGES = ["kmnist", "glyphs"], ["ae", "gan", "vae"], ["cnn", "mlp"]
# Per judge FID: cnn ranks gan, vae, ae; mlp ranks vae, ae, gan.
FIDS = {"real_test": (0.5, 0.6), "ae": (8.0, 9.0), "gan": (4.0, 30.0), "vae": (6.0, 5.0), "pixel_noise": (300.0, 400.0)}


def card(row: str) -> dict:
    judges = {judge: {"fid": fid, "fid_low": fid * 0.9, "fid_high": fid * 1.1, "kid": fid / 10, "coverage": 0.5,
                      "recall": 0.4, "classes_present": 0.9, "class_entropy": 0.8}
              for judge, fid in zip(JUDGES, FIDS[row])}
    extra = {"reconstruction_mse": 0.01} if row == "ae" else {}
    # Models and the floor: 100 samples against 50 test images; the ceiling: the test images against 100.
    sizes = ({"num_samples": 50, "num_reference": 100} if row == "real_test"
             else {"num_samples": 100, "num_reference": 50})
    return {**sizes, "judges": judges, "c2st_accuracy": 0.7, "c2st_low": 0.65, "c2st_high": 0.75,
            "unrecognised_share": 0.1, "memorisation_rate": 0.05, **extra}


def sanity(failing: tuple[str, ...] = ()) -> dict:
    metrics = [f"{judge}.{metric}" for judge in JUDGES for metric in ("fid", "kid")] + ["c2st_accuracy"]
    return {"passes": {metric: {name: metric not in failing for name in DEGRADATIONS} for metric in metrics}}


@pytest.fixture()
def project(tmp_path, kmnist_train):
    """A project folder holding what the evaluate, metric_sanity and render stages would have written."""
    picture = sample_grid(PCAAutoencoder(image_tensor(kmnist_train)), 4, seed=0)
    for dataset in DATASETS:
        (tmp_path / "metrics" / dataset).mkdir(parents=True)
        for row in FIDS:
            (tmp_path / "metrics" / dataset / f"{row}.json").write_text(json.dumps(card(row)))
        (tmp_path / "metrics" / dataset / "sanity.json").write_text(json.dumps(sanity()))
        for model in MODELS:
            save_png(tmp_path / "reports" / "renders" / dataset / model / "samples.png", picture)
            save_png(tmp_path / "reports" / "renders" / dataset / "loss_curves" / f"{model}.png", picture)
        save_png(tmp_path / "reports" / "renders" / dataset / "real_test" / "samples.png", picture)
    (tmp_path / "params.yaml").write_text(f"pipeline:\n  datasets: {DATASETS}\n  models: {MODELS}\n"
                                          "train_judges:\n  judges: {cnn: {}, mlp: {}}\n")
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
        assert f"### {dataset}" in markdown
        for model in MODELS:
            assert f'id="{dataset}-{model}"' in page
            assert re.search(rf"\|\s*\d+\s*\|\s*{model}\s*\|", markdown), markdown
        assert "real test images (ceiling)" in page and "pixel noise (floor)" in page
    assert page.count('class="dataframe metrics"') == len(DATASETS)
    assert "±0.4" in markdown  # ae's cnn FID interval: 7.2-8.8


def test_page_opens_with_leaderboards_ranked_by_the_judges_consensus(project):
    assert run_report_stage(project).returncode == 0
    page = (project / "reports" / "index.html").read_text()
    for dataset in DATASETS:
        overview = page.index(f'<section class="overview" id="{dataset}">')
        assert overview < page.index(f'id="{DATASETS[0]}-details"')
        board = page[overview : page.index("</table>", overview)]
        # Median (of two: mean) ranks: vae (2 + 1) / 2 = 1.5, gan (1 + 3) / 2 = 2, ae (3 + 2) / 2 = 2.5.
        assert board.index(">vae<") < board.index(">gan<") < board.index(">ae<")
        gallery = page[page.index('class="gallery"', overview) :]
        captions = re.findall(r"<figcaption>([^<]+)</figcaption>", gallery[: gallery.index("</div>")])
        assert captions == ["real test images", "vae", "gan", "ae"]
        assert "Metric sanity" in page[overview:]
    assert "Every row compares sets of the same two sizes, 50 and 100 images" in page
    assert "2 judges per data set (cnn, mlp)" in page and "median rank (mean)" in page


def test_page_opens_with_the_data_previews(project):
    picture = sample_grid(PCAAutoencoder(torch.rand(20, 1, 8, 8)), 2, seed=0)
    for dataset in DATASETS:
        save_png(project / "reports" / "renders" / dataset / "data_preview.png", picture)
    assert run_report_stage(project).returncode == 0
    page = (project / "reports" / "index.html").read_text()
    previews = [page.index(f'src="renders/{dataset}/data_preview.png"') for dataset in DATASETS]
    assert max(previews) < page.index('<section class="overview"')


def table(project: Path) -> pd.DataFrame:
    return metrics_table(project / "metrics", ["kmnist"], MODELS, JUDGES).loc["kmnist"]


def test_each_judge_ranks_and_the_consensus_is_their_median(project):
    rows = table(project)
    ranks = judge_ranks(rows, MODELS, JUDGES, sanity()["passes"])
    assert ranks.to_dict() == {"cnn": {"ae": 3, "gan": 1, "vae": 2}, "mlp": {"ae": 2, "gan": 3, "vae": 1}}
    assert consensus_order(ranks) == ["vae", "gan", "ae"]  # of two judges, the median is the mean


def test_one_judge_alone_cannot_lift_a_model():
    # "speckled" is first for one judge and last for the other two: its mean (3.7) beats "plain"'s (4.0), its
    # median (5) does not; a tie in the median ("sharp", "clean": 2) goes to the lower mean.
    ranks = pd.DataFrame({"a": [1, 4, 2, 3, 5], "b": [5, 4, 1, 2, 3], "c": [5, 4, 2, 1, 3]},
                         index=["speckled", "plain", "sharp", "clean", "dull"], dtype=float)
    assert consensus_order(ranks) == ["sharp", "clean", "dull", "plain", "speckled"]
    assert consensus_text(ranks.loc["speckled"]) == "5 (3.7)"
    assert consensus_text(pd.Series([float("nan")] * 3)) == ""


def test_a_judge_ranks_only_by_a_metric_that_passed_the_sanity_check(project):
    passes = sanity(failing=("mlp.fid",))["passes"]
    assert ranking_metric("mlp", passes) == "judges.mlp.kid" and ranking_metric("cnn", passes) == "judges.cnn.fid"
    passes = sanity(failing=("mlp.fid", "mlp.kid"))["passes"]
    ranks = judge_ranks(table(project), MODELS, JUDGES, passes)
    assert ranks["mlp"].isna().all()  # shown blank, not counted
    assert consensus_order(ranks) == ["gan", "vae", "ae"]  # the cnn's order alone


def test_models_whose_judges_disagree_by_more_than_three_places_are_marked(project):
    models = [f"m{i}" for i in range(6)]
    rows = pd.DataFrame({"judges.cnn.fid": [1.0, 2, 3, 4, 5, 6], "judges.mlp.fid": [6.0, 2, 3, 4, 5, 1]}, index=models)
    for label, value in ((ROW_LABELS["real_test"], 0.5), (ROW_LABELS["pixel_noise"], 100.0)):
        rows.loc[label] = value
    board = leaderboard(rows, models, JUDGES, sanity()["passes"])
    disputed = {row["name"] for row in board["rows"] if row["disputed"]}
    assert disputed == {"m0", "m5"}  # ranks 1 and 6, 6 and 1: five places apart; the others agree within 0


def test_every_metric_a_card_holds_has_a_column_or_a_details_row(project):
    rows = table(project)
    shown = {column.name for column in judge_columns(JUDGES) + SHARED_COLUMNS}
    per_judge = {column.split(".", 2)[2] for column in rows.columns if column.startswith("judges.")}
    assert {f"judges.{judge}.fid" for judge in JUDGES} <= shown
    assert {f"mean.{metric}" for metric in per_judge} <= set(rows.columns)  # every per-judge metric averaged
    assert {"c2st_accuracy", "unrecognised_share", "memorisation_rate"} <= shown


def test_leaderboard_marks_the_best_of_each_column(project):
    rows = table(project)
    columns = {column.name: column for column in judge_columns(JUDGES) + SHARED_COLUMNS}
    assert best_models(rows, MODELS, columns["judges.cnn.fid"]) == {"gan"}  # lower
    assert best_models(rows, MODELS, columns["reconstruction_mse"]) == {"ae"}  # the only one with a value
    assert best_models(rows, MODELS, columns["c2st_accuracy"]) == set()  # every model ties: no best


def test_bars_run_from_the_floor_to_the_ceiling():
    assert bar_fraction(0.5, ceiling=0.9, floor=0.1) == pytest.approx(0.5)
    assert bar_fraction(1.3, ceiling=0.9, floor=0.1) == pytest.approx(1.5)  # beyond the ceiling
    assert bar_fraction(10.0, ceiling=1.0, floor=100.0, log_scale=True) == pytest.approx(0.5)  # lower is better
    assert bar_fraction(0.5, ceiling=float("nan"), floor=0.1) is None  # no reference value: no bar
    assert bar_fraction(0.5, ceiling=0.2, floor=0.2) is None


def test_markdown_lists_models_in_consensus_order_with_the_judges_ranks(project):
    rows = metrics_table(project / "metrics", ["kmnist"], MODELS, JUDGES)
    markdown = markdown_report(rows, {"kmnist": sanity()["passes"]}, MODELS, JUDGES)
    lines = [line for line in markdown.splitlines() if line.startswith("|") and "---" not in line]
    assert [line.split("|")[2].strip() for line in lines[1:]] == [ROW_LABELS["real_test"], "vae", "gan", "ae",
                                                                   ROW_LABELS["pixel_noise"]]
    assert "2 · 1" in lines[2] and "cnn · mlp" in lines[0]


def test_a_card_missing_a_judge_is_an_error_not_a_blank(project):
    path = project / "metrics" / "kmnist" / "gan.json"
    scores = json.loads(path.read_text())
    del scores["judges"]["mlp"]
    path.write_text(json.dumps(scores))
    with pytest.raises(GlyphgenError, match="gan.json: no scores from judge 'mlp'"):
        metrics_table(project / "metrics", ["kmnist"], MODELS, JUDGES)


def test_report_names_a_missing_metrics_file(project):
    (project / "metrics" / "glyphs" / "gan.json").unlink()
    result = run_report_stage(project)
    assert result.returncode == 1 and "metrics/glyphs/gan.json" in result.stderr
    assert not (project / "reports" / "index.html").exists()


def test_metrics_table_orders_rows_ceiling_models_floor(project):
    assert list(table(project).index) == [ROW_LABELS["real_test"], *MODELS, ROW_LABELS["pixel_noise"]]


def test_rows_compare_only_when_each_holds_the_same_two_set_sizes_either_way_round():
    rows = pd.DataFrame({"num_samples": [50, 100, 100], "num_reference": [100, 50, 50]})
    assert set_sizes(rows) == [(50, 100)]
    rows.loc[2, "num_samples"] = 80  # a card scored on other samples
    assert set_sizes(rows) == [(50, 80), (50, 100)]
    rows.loc[2, "num_reference"] = None  # a card that does not say its reference: not comparable either
    assert set_sizes(rows) == [(0, 80), (50, 100)]
