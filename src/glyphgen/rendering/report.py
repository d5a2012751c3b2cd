"""The comparison page for all models x data sets, and the same numbers as Markdown for a CI comment.

The page opens, per data set, with a leaderboard (models ranked by FID, each number on a bar from the floor to
the ceiling, the best of each column marked) and a gallery (every sample grid at one scale, real test images
first); the per-model details follow. Pages are static, self-contained HTML with relative links, so they open
offline in any browser.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from glyphgen.errors import GlyphgenError

CEILING, FLOOR = "real_test", "pixel_noise"
ROW_LABELS = {CEILING: "real test images (ceiling)", FLOOR: "pixel noise (floor)"}
# The columns of the full table, in reading order; the JSON files hold a few more.
COLUMNS = ["fid", "fid_low", "fid_high", "precision", "recall", "density", "coverage", "class_entropy",
           "classes_present", "memorisation_rate", "reconstruction_mse", "reconstruction_bce", "prior_kl",
           "prior_mmd", "conditional_accuracy", "transfer_accuracy", "categorical_accuracy", "baseline_accuracy",
           "n_labels", "cluster_accuracy", "nmi"]
PICTURES = ["samples.png", "classes.png", "alphabet.png", "categories.png", "morph.gif", "discriminator.png",
            "reconstructions.png", "manifold.png"]
LOSS_CURVES = "loss_curves"  # reports/renders/<dataset>/loss_curves/<model>.png, drawn for every model at once


@dataclass(frozen=True)
class Column:
    """A leaderboard column: what its best value is, and the line that keeps it from misleading."""

    name: str
    goal: str  # "lower", "higher", or "ceiling" (nearest the ceiling row's value)
    log_bar: bool = False  # bar on a log scale: FIDs span orders of magnitude between ceiling and floor
    note: str = ""


LEADERBOARD = [
    Column("fid", "lower", log_bar=True,
           note="fid: Fréchet distance of the judge's features to the test split's; ± is the 95% bootstrap "
                "interval over the samples, so a change smaller than that is noise."),
    Column("precision", "higher",
           note="precision alone misleads: blurry averages fall inside real neighbourhoods and score near 1; "
                "read it with recall and coverage."),
    Column("recall", "higher"),
    Column("density", "ceiling",
           note="density alone misleads: samples bunched where real data is densest (blur, few modes) reach 1 "
                "and more; best is nearest the ceiling's value."),
    Column("coverage", "higher"),
    Column("class_entropy", "higher",
           note="class_entropy: 1 when the judge spreads the samples evenly over the classes, 0 for one class."),
    Column("memorisation_rate", "ceiling",
           note="memorisation_rate: real unseen images score 0.05 by construction, copies of training images "
                "near 1, noise and blur near 0 (so low is not better): best is nearest the ceiling."),
    Column("reconstruction_mse", "lower"),
    Column("prior_kl", "lower",
           note="prior_kl: how far the codes of test images (drawn from the posterior) are from the N(0, I) "
                "the model samples from; models with an encoder only."),
]


def metrics_table(metrics_dir: str | Path, datasets: list[str], models: list[str]) -> pd.DataFrame:
    """One row per (data set, row), rows ordered ceiling, models, floor; missing metrics are blank."""
    records = []
    for dataset in datasets:
        for row in [CEILING, *models, FLOOR]:
            path = Path(metrics_dir) / dataset / f"{row}.json"
            try:
                scores = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise GlyphgenError(f"{path}: metrics not found (run the evaluate stages first)") from None
            records.append({"dataset": dataset, "model": ROW_LABELS.get(row, row), **scores})
    table = pd.DataFrame.from_records(records).set_index(["dataset", "model"])
    return table.reindex(columns=[c for c in ["num_samples", *COLUMNS] if c in table.columns])


def markdown_table(table: pd.DataFrame) -> str:
    """The full table, with FID's 95% interval as one `fid 95%` column."""
    rows = table.reset_index()
    if {"fid_low", "fid_high"} <= set(rows.columns):
        interval = [f"{low:.4g}–{high:.4g}" if pd.notna(low) else None
                    for low, high in zip(rows["fid_low"], rows["fid_high"])]
        rows = rows.drop(columns=["fid_low", "fid_high"])
        rows.insert(rows.columns.get_loc("fid") + 1, "fid 95%", interval)
    rows = rows.astype(object).where(rows.notna(), None)  # tabulate blanks None, not NaN
    return rows.to_markdown(index=False, floatfmt=".4g", missingval="") + "\n"


# ----------------------------------------------------------------------------------------------------------
# Leaderboard: ranks, best values, bars
# ----------------------------------------------------------------------------------------------------------

def rank_by_fid(rows: pd.DataFrame, models: list[str]) -> list[str]:
    """Models of one data set, lowest FID first (a model without an FID last)."""
    return sorted(models, key=lambda model: (pd.isna(rows.at[model, "fid"]), rows.at[model, "fid"]))


def best_models(rows: pd.DataFrame, models: list[str], column: Column) -> set[str]:
    """The models holding the best value of `column` (ties all marked); none if no model has the column, or if
    every model shares one value (several models all at 0 recall have no best)."""
    values = rows.loc[models, column.name].dropna() if column.name in rows.columns else pd.Series(dtype=float)
    if values.empty:
        return set()
    if column.goal == "lower":
        badness = values
    elif column.goal == "higher":
        badness = -values
    else:
        badness = (values - rows.at[ROW_LABELS[CEILING], column.name]).abs()
    best = set(badness.index[badness == badness.min()])
    return best if len(best) < len(values) or len(values) == 1 else set()


def bar_fraction(value: float, ceiling: float, floor: float, log_scale: bool = False) -> float | None:
    """Where `value` sits from the floor (0) to the ceiling (1); beyond either end it is outside [0, 1].
    None when there is no scale (no reference value, or floor = ceiling)."""
    if any(pd.isna(x) for x in (value, ceiling, floor)):
        return None
    if log_scale:
        if min(value, ceiling, floor) <= 0:
            return None
        value, ceiling, floor = math.log(value), math.log(ceiling), math.log(floor)
    if ceiling == floor:
        return None
    return (value - floor) / (ceiling - floor)


def _short(value: float) -> str:
    """Three significant digits, without exponents for the large numbers FIDs are."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _number_cell(value: float, fraction: float | None, best: bool, interval: tuple[float, float] | None) -> str:
    if pd.isna(value):
        return "<td></td>"
    text = _short(value)
    if interval is not None and not any(pd.isna(x) for x in interval):
        text += f' <span class="ci">±{_short((interval[1] - interval[0]) / 2)}</span>'
    if best:
        text = f"<strong>{text} ★</strong>"
    bar = ""
    if fraction is not None:
        outside = "" if 0 <= fraction <= 1 else (" beyond-ceiling" if fraction > 1 else " below-floor")
        width = min(max(fraction, 0.0), 1.0) * 100
        bar = f'<div class="bar{outside}"><div style="width:{width:.0f}%"></div></div>'
    return f'<td class="{"best" if best else ""}">{text}{bar}</td>'


def leaderboard_html(rows: pd.DataFrame, models: list[str]) -> str:
    """One data set's leaderboard: the ceiling, the models ranked by FID, the floor; then the columns' notes."""
    columns = [column for column in LEADERBOARD if column.name in rows.columns]
    ceiling, floor = rows.loc[ROW_LABELS[CEILING]], rows.loc[ROW_LABELS[FLOOR]]
    best = {column.name: best_models(rows, models, column) for column in columns}
    header = "".join(f"<th>{html.escape(column.name)}</th>" for column in columns)
    body = []
    for rank, row in [("", ROW_LABELS[CEILING]), *enumerate(rank_by_fid(rows, models), 1), ("", ROW_LABELS[FLOOR])]:
        cells = []
        for column in columns:
            value = rows.at[row, column.name]
            interval = (rows.at[row, "fid_low"], rows.at[row, "fid_high"]) if (
                column.name == "fid" and "fid_low" in rows.columns) else None
            fraction = bar_fraction(value, ceiling[column.name], floor[column.name], column.log_bar)
            cells.append(_number_cell(value, fraction, row in best[column.name], interval))
        kind = "ranked" if rank else "reference"
        body.append(f'<tr class="{kind}"><td>{rank}</td><th>{html.escape(row)}</th>{"".join(cells)}</tr>')
    notes = "".join(f"<li>{html.escape(column.note)}</li>" for column in columns if column.note)
    return (f'<table class="leaderboard"><tr><th>#</th><th>model</th>{header}</tr>{"".join(body)}</table>'
            f'<ul class="notes">{notes}</ul>')


def _sample_counts(rows: pd.DataFrame) -> str:
    if "num_samples" not in rows.columns:
        return ""
    counts = sorted({int(count) for count in rows["num_samples"].dropna()})
    if len(counts) == 1:
        return (f"<p>Every row is scored on the same {counts[0]:,} samples (FID and precision/recall/density/"
                "coverage shift with the number of samples).</p>")
    return f'<p class="warning">Rows were scored on different numbers of samples ({counts}): not comparable.</p>'


# ----------------------------------------------------------------------------------------------------------
# The page
# ----------------------------------------------------------------------------------------------------------

def _relative(path: Path, page_dir: Path) -> str:
    return html.escape(path.relative_to(page_dir).as_posix())


def gallery_html(dataset: str, ranked: list[str], renders_dir: Path, page_dir: Path) -> str:
    """Every sample grid side by side at one scale (the grids of a data set share one size), real images first."""
    tiles = []
    for row, label in [(CEILING, "real test images"), *((model, model) for model in ranked)]:
        picture = renders_dir / dataset / row / "samples.png"
        if picture.exists():
            tiles.append(f'<figure><img src="{_relative(picture, page_dir)}" alt="{dataset} {label} samples">'
                         f"<figcaption>{html.escape(label)}</figcaption></figure>")
    return f'<div class="gallery">{"".join(tiles)}</div>'


def previews_html(datasets: list[str], renders_dir: Path, page_dir: Path) -> str:
    """Each data set's preview (one row per class), side by side, for the top of the page."""
    figures = [f'<figure><img src="{_relative(picture, page_dir)}" alt="{dataset} data preview">'
               f"<figcaption>{dataset}: training images, one row per class</figcaption></figure>"
               for dataset in datasets if (picture := renders_dir / dataset / "data_preview.png").exists()]
    return f'<div class="previews">{"".join(figures)}</div>' if figures else ""


def _model_card(dataset: str, model: str, renders_dir: Path, page_dir: Path, scores: pd.Series) -> str:
    figures = []
    pictures = [(renders_dir / dataset / model / name, name.split(".")[0]) for name in PICTURES]
    pictures.append((renders_dir / dataset / LOSS_CURVES / f"{model}.png", "losses"))
    for picture, caption in pictures:
        if picture.exists():
            figures.append(f'<figure><img src="{_relative(picture, page_dir)}" alt="{dataset} {model} {caption}">'
                           f"<figcaption>{caption}</figcaption></figure>")
    numbers = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.4g}</td></tr>" for k, v in scores.dropna().items())
    return (f'<section class="model" id="{dataset}-{model}"><h3>{dataset} / {model}</h3>'
            f'<table class="numbers">{numbers}</table><div class="figures">{"".join(figures)}</div></section>')


def html_page(table: pd.DataFrame, renders_dir: str | Path, page_path: str | Path, models: list[str]) -> str:
    """The whole page; pictures are linked relative to where the page will be written."""
    renders_dir, page_dir = Path(renders_dir).resolve(), Path(page_path).resolve().parent
    datasets = list(table.index.unique("dataset"))
    overviews, details = [], []
    for dataset in datasets:
        rows = table.loc[dataset]
        overviews.append(f'<section class="overview" id="{dataset}"><h2>{dataset}</h2>{_sample_counts(rows)}'
                         f"{leaderboard_html(rows, models)}"
                         f"{gallery_html(dataset, rank_by_fid(rows, models), renders_dir, page_dir)}</section>")
        cards = "".join(_model_card(dataset, model, renders_dir, page_dir, rows.loc[model]) for model in models)
        details.append(f'<h2 id="{dataset}-details">{dataset}: every number and picture</h2>'
                       f'{rows.to_html(float_format=lambda v: f"{v:.4g}", na_rep="", classes="metrics")}{cards}')
    links = " · ".join(f'<a href="#{d}">{d}</a> (<a href="#{d}-details">details</a>)' for d in datasets)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>glyphgen: model comparison</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
.leaderboard td {{ min-width: 6.5em; vertical-align: top; }}
.leaderboard tr.reference {{ color: #666; background: #f6f6f6; }}
.leaderboard td.best {{ background: #e6f4e6; }}
.ci {{ color: #777; font-size: 11px; }}
.bar {{ height: 4px; background: #e4e4e4; margin-top: 2px; }}
.bar div {{ height: 100%; background: #4a7fb5; }}
.bar.beyond-ceiling div {{ background: #d08a2c; }}
.bar.below-floor {{ background: #f0c8c8; }}
.notes {{ font-size: 12px; color: #444; margin: 0.4em 0 0.8em; padding-left: 1.2em; }}
.warning {{ color: #a00; }}
.gallery {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 0.6em; }}
.gallery img {{ width: 100%; max-height: none; }}
section.model {{ display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap; border-top: 1px solid #ddd;
          padding: 0.5em 0; }}
section.model h3 {{ width: 100%; margin: 0.2em 0; }}
.figures {{ display: flex; gap: 0.8em; flex-wrap: wrap; }}
figure {{ margin: 0; }} figcaption {{ font-size: 12px; text-align: center; }}
img {{ max-height: 260px; image-rendering: pixelated; }}
.previews {{ display: flex; gap: 1.5em; align-items: flex-start; }} .previews img {{ max-height: 520px; }}
</style></head><body>
<h1>glyphgen: model comparison</h1>
<p>Every model is scored by the same judge (a CNN classifier trained per data set): FID and
precision/recall/density/coverage on its penultimate features against the test split, class coverage of its
predictions, and memorisation against the train split. The ceiling row scores real test images, the floor
row per-pixel Gaussian noise around the mean training image; each bar runs from the floor (empty; pink: below it)
to the ceiling (full; orange: beyond it), on a log scale for FID; columns the reference rows lack (reconstruction,
prior) have none. ★ marks the best model of each column.
{links}</p>
{previews_html(datasets, renders_dir, page_dir)}
{"".join(overviews)}
{"".join(details)}
</body></html>
"""
