"""The comparison page: every model x data set with its numbers, sample grid, morph and loss curves, between the
ceiling (real test images) and the floor (pixel noise); plus the same table as Markdown for a CI comment.

Pages are static, self-contained HTML with relative links, so they open offline in any browser.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from glyphgen.errors import GlyphgenError

CEILING, FLOOR = "real_test", "pixel_noise"
ROW_LABELS = {CEILING: "real test images (ceiling)", FLOOR: "pixel noise (floor)"}
# The columns of the summary table, in reading order; the JSON files hold a few more.
COLUMNS = ["fid", "precision", "recall", "density", "coverage", "class_entropy", "classes_present",
           "memorisation_rate", "reconstruction_mse", "reconstruction_bce", "prior_kl", "prior_mmd"]
PICTURES = ["samples.png", "morph.gif", "reconstructions.png", "manifold.png", "losses.png"]


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
    return table.reindex(columns=[c for c in COLUMNS if c in table.columns])


def markdown_table(table: pd.DataFrame) -> str:
    rows = table.reset_index()
    rows = rows.astype(object).where(rows.notna(), None)  # tabulate blanks None, not NaN
    return rows.to_markdown(index=False, floatfmt=".4g", missingval="") + "\n"


def _model_card(dataset: str, model: str, renders_dir: Path, page_dir: Path, scores: pd.Series) -> str:
    figures = []
    for name in PICTURES:
        picture = renders_dir / dataset / model / name
        if picture.exists():
            src = html.escape(picture.relative_to(page_dir).as_posix())
            figures.append(f'<figure><img src="{src}" alt="{dataset} {model} {name}">'
                           f"<figcaption>{name.split('.')[0]}</figcaption></figure>")
    numbers = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.4g}</td></tr>" for k, v in scores.dropna().items())
    return (f'<section class="model" id="{dataset}-{model}"><h3>{dataset} / {model}</h3>'
            f'<table class="numbers">{numbers}</table><div class="figures">{"".join(figures)}</div></section>')


def html_page(table: pd.DataFrame, renders_dir: str | Path, page_path: str | Path, models: list[str]) -> str:
    """The whole page; pictures are linked relative to where the page will be written."""
    renders_dir, page_dir = Path(renders_dir).resolve(), Path(page_path).resolve().parent
    sections = []
    for dataset in table.index.unique("dataset"):
        rows = table.loc[dataset]
        cards = "".join(_model_card(dataset, model, renders_dir, page_dir, rows.loc[model]) for model in models)
        sections.append(f'<h2 id="{dataset}">{dataset}</h2>'
                        f'{rows.to_html(float_format=lambda v: f"{v:.4g}", na_rep="", classes="metrics")}{cards}')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>glyphgen: model comparison</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
.model {{ display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap; border-top: 1px solid #ddd;
          padding: 0.5em 0; }}
.model h3 {{ width: 100%; margin: 0.2em 0; }}
.figures {{ display: flex; gap: 0.8em; flex-wrap: wrap; }}
figure {{ margin: 0; }} figcaption {{ font-size: 12px; text-align: center; }}
img {{ max-height: 260px; image-rendering: pixelated; }}
</style></head><body>
<h1>glyphgen: model comparison</h1>
<p>Every model is scored by the same judge (a CNN classifier trained per data set): FID and
precision/recall/density/coverage on its penultimate features against the test split, class coverage of its
predictions, and memorisation against the train split. The ceiling row scores real test images, the floor
row per-pixel Gaussian noise around the mean training image. Lower is better for FID, class KL,
memorisation, reconstruction and prior errors; higher for the rest.</p>
{"".join(sections)}
</body></html>
"""
