"""The comparison page (templates/report.html: static, offline) and the leaderboards as Markdown for a CI comment.
Models are ranked by their median rank over the judges (`consensus_order`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd

from glyphgen.errors import GlyphgenError

CEILING, FLOOR = "real_test", "pixel_noise"
ROW_LABELS = {CEILING: "real test images (ceiling)", FLOOR: "pixel noise (floor)"}
PICTURES = ["samples.png", "classes.png", "alphabet.png", "categories.png", "morph.gif", "discriminator.png",
            "reconstructions.png", "manifold.png"]
LOSS_CURVES = "loss_curves"  # reports/renders/<dataset>/loss_curves/<model>.png, drawn for every model at once
SPREAD_WARNING = 3  # a model whose judges' ranks lie further apart than this many places is marked
JUDGE_RANKING_METRICS = ("fid", "kid")  # a judge ranks by the first of these that passed the sanity check
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Column:
    """A leaderboard column: what its best value is, and the line that keeps it from misleading."""

    name: str
    goal: str  # "lower", "higher", or "ceiling" (nearest the ceiling row's value)
    log_bar: bool = False  # bar on a log scale: FIDs span orders of magnitude between ceiling and floor
    interval: tuple[str, str] | None = None  # the columns holding its 0.95 interval
    note: str = ""


def judge_columns(judges: list[str]) -> list[Column]:
    """Each judge's FID, then the first judge's recall and coverage (the only judge that computes them)."""
    fids = [Column(f"judges.{judge}.fid", "lower", log_bar=True,
                   interval=(f"judges.{judge}.fid_low", f"judges.{judge}.fid_high")) for judge in judges]
    return fids + [
        Column(f"judges.{judges[0]}.recall", "higher",
               note=f"recall and coverage ({judges[0]} judge): how much of the test split the samples reach; "
                    "precision and density are in the details, where blurry averages score high."),
        Column(f"judges.{judges[0]}.coverage", "higher"),
    ]


# After each judge's FID; "mean." columns average a card's per-judge values (`with_judge_means`).
SHARED_COLUMNS = [
    Column("c2st_accuracy", "lower", interval=("c2st_low", "c2st_high"),
           note="c2st_accuracy: how often a small CNN, trained on half of the samples and of the training images, "
                "tells the other halves apart; 0.5 means indistinguishable, 1 that every sample gives itself away."),
    Column("mean.classes_present", "higher",
           note="classes_present: share of classes (letters case-folded) that a judge recognises with probability "
                "of at least evaluate.confidence in some sample, averaged over the judges."),
    Column("mean.class_entropy", "higher",
           note="class_entropy: 1 when the confident calls spread evenly over the classes, 0 for one class."),
    Column("unrecognised_share", "lower",
           note="unrecognised_share: samples no judge recognises confidently (noise, blur, broken strokes)."),
    Column("memorisation_rate", "ceiling",
           note="memorisation_rate: real unseen images score 0.05 by construction, copies of training images "
                "near 1, noise and blur near 0 (so low is not better): best is nearest the ceiling."),
    Column("reconstruction_mse", "lower"),
    Column("prior_kl", "lower",
           note="prior_kl: how far the codes of test images (drawn from the posterior) are from the N(0, I) "
                "the model samples from; models with an encoder only."),
]



def read_card(path: Path, judges: list[str]) -> dict[str, float]:
    """A metrics file flattened (judges.cnn.fid ...); every judge must be in it."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: metrics not found (run the evaluate stages first)") from None
    missing = [judge for judge in judges if judge not in card.get("judges", {})]
    if missing:
        raise GlyphgenError(f"{path}: no scores from judge '{missing[0]}' (re-run the stage that wrote it)")
    return pd.json_normalize(card).iloc[0].to_dict()


def with_judge_means(table: pd.DataFrame, judges: list[str]) -> pd.DataFrame:
    """Adds mean.<metric> for every metric each judge computes: the judges' average."""
    metrics = sorted({column.split(".", 2)[2] for column in table.columns if column.startswith("judges.")})
    metrics = [metric for metric in metrics if all(f"judges.{judge}.{metric}" in table.columns for judge in judges)]
    means = {f"mean.{metric}": table[[f"judges.{judge}.{metric}" for judge in judges]].mean(axis=1)
             for metric in metrics}
    return pd.concat([table, pd.DataFrame(means, index=table.index)], axis=1)


def metrics_table(metrics_dir: str | Path, datasets: list[str], models: list[str], judges: list[str]) -> pd.DataFrame:
    """One row per (data set, row), rows ordered ceiling, models, floor; missing metrics are blank."""
    records = []
    for dataset in datasets:
        for row in [CEILING, *models, FLOOR]:
            card = read_card(Path(metrics_dir) / dataset / f"{row}.json", judges)
            records.append({"dataset": dataset, "model": ROW_LABELS.get(row, row), **card})
    return with_judge_means(pd.DataFrame.from_records(records).set_index(["dataset", "model"]), judges)


def read_sanity(metrics_dir: str | Path, dataset: str) -> dict[str, dict[str, bool]]:
    """metric -> degradation -> passed, from the metric_sanity stage."""
    path = Path(metrics_dir) / dataset / "sanity.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["passes"]
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: sanity check not found (run the metric_sanity stage first)") from None



def ranking_metric(judge: str, passes: dict[str, dict[str, bool]]) -> str | None:
    """The column a judge ranks by: its first metric that passed every degradation, or None."""
    for metric in JUDGE_RANKING_METRICS:
        if all(passes.get(f"{judge}.{metric}", {"missing": False}).values()):
            return f"judges.{judge}.{metric}"
    return None


def judge_ranks(rows: pd.DataFrame, models: list[str], judges: list[str],
                passes: dict[str, dict[str, bool]]) -> pd.DataFrame:
    """models x judges: each judge's rank (1 = best) by `ranking_metric`; blank where it has none."""
    ranks = {}
    for judge in judges:
        column = ranking_metric(judge, passes)
        ranks[judge] = rows.loc[models, column].rank(method="min") if column else pd.Series(float("nan"), models)
    return pd.DataFrame(ranks, index=models)


def consensus_order(ranks: pd.DataFrame) -> list[str]:
    """By median rank, ties by mean rank: one judge blind to a model's flaw cannot lift it alone (docs/metrics.md)."""
    keys = pd.DataFrame({"median": ranks.median(axis=1), "mean": ranks.mean(axis=1)})
    return list(keys.sort_values(["median", "mean"], kind="stable").index)


def consensus_text(ranks: pd.Series) -> str:
    """A model's median rank with its mean in brackets, e.g. "2 (2.3)"; blank where no judge ranks it."""
    return f"{ranks.median():g} ({ranks.mean():.1f})" if ranks.notna().any() else ""


def best_models(rows: pd.DataFrame, models: list[str], column: Column) -> set[str]:
    """The models holding the best value of `column` (ties all marked); none if every model shares one value."""
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
    """Where `value` sits from the floor (0) to the ceiling (1), or None without a scale."""
    if any(pd.isna(x) for x in (value, ceiling, floor)):
        return None
    if log_scale:
        if min(value, ceiling, floor) <= 0:
            return None
        value, ceiling, floor = math.log(value), math.log(ceiling), math.log(floor)
    if ceiling == floor:
        return None
    return (value - floor) / (ceiling - floor)


def short(value: float) -> str:
    """Three significant digits, without exponents for the large numbers FIDs are."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"



def _cell(rows: pd.DataFrame, row: str, column: Column, best: bool) -> dict | None:
    value = rows.at[row, column.name] if column.name in rows.columns else float("nan")
    if pd.isna(value):
        return None
    cell = {"text": short(value), "best": best, "bar": None, "bar_class": "", "interval": None}
    if column.interval and all(name in rows.columns for name in column.interval):
        low, high = (rows.at[row, name] for name in column.interval)
        if not (pd.isna(low) or pd.isna(high)):
            cell["interval"] = short((high - low) / 2)
    fraction = bar_fraction(value, rows.at[ROW_LABELS[CEILING], column.name], rows.at[ROW_LABELS[FLOOR], column.name],
                            column.log_bar)
    if fraction is not None:
        cell["bar"] = round(min(max(fraction, 0.0), 1.0) * 100)
        cell["bar_class"] = "" if 0 <= fraction <= 1 else (" beyond-ceiling" if fraction > 1 else " below-floor")
    return cell


def leaderboard(rows: pd.DataFrame, models: list[str], judges: list[str], passes: dict) -> dict:
    """One data set's leaderboard: the ceiling, the models in consensus order, the floor."""
    columns = [column for column in judge_columns(judges) + SHARED_COLUMNS if column.name in rows.columns]
    ranks = judge_ranks(rows, models, judges, passes)
    best = {column.name: best_models(rows, models, column) for column in columns}
    ordered = consensus_order(ranks)
    body = []
    for position, row in [("", ROW_LABELS[CEILING]), *enumerate(ordered, 1), ("", ROW_LABELS[FLOOR])]:
        judged = row in ranks.index
        spread = ranks.loc[row].max() - ranks.loc[row].min() if judged else float("nan")
        body.append({
            "position": position, "name": row, "reference": not judged,
            "consensus_rank": consensus_text(ranks.loc[row]) if judged else "",
            "ranks": [("" if pd.isna(rank) else f"{rank:.0f}") for rank in ranks.loc[row]] if judged else [],
            "disputed": judged and spread > SPREAD_WARNING,
            "cells": [_cell(rows, row, column, row in best[column.name]) for column in columns],
        })
    ranking = {judge: ranking_metric(judge, passes) for judge in judges}
    return {"columns": [column.name.removeprefix("judges.") for column in columns], "rows": body, "judges": judges,
            "ranking": {judge: (metric.rsplit(".", 1)[1] if metric else "none") for judge, metric in ranking.items()},
            "notes": [column.note for column in columns if column.note], "order": ordered}


def sanity_table(passes: dict[str, dict[str, bool]]) -> dict:
    degradations = list(next(iter(passes.values()))) if passes else []
    return {"degradations": degradations,
            "rows": [{"metric": metric, "passes": [by_degradation[name] for name in degradations],
                      "orders": all(by_degradation.values())} for metric, by_degradation in passes.items()]}


def _relative(path: Path, page_dir: Path) -> str:
    return path.relative_to(page_dir).as_posix()


def set_sizes(rows: pd.DataFrame) -> list[tuple[int, int]]:
    """Each row's two set sizes (images scored, reference; 0 if missing) once each: rows compare if one pair."""
    pairs = rows[["num_samples", "num_reference"]].fillna(0).astype(int).itertuples(index=False)
    return sorted({tuple(sorted(pair)) for pair in pairs})


def _figures(pictures: list[tuple[Path, str]], page_dir: Path) -> list[dict]:
    return [{"src": _relative(picture, page_dir), "caption": caption} for picture, caption in pictures
            if picture.exists()]


def html_page(table: pd.DataFrame, sanity: dict[str, dict], renders_dir: str | Path, page_path: str | Path,
              models: list[str], judges: list[str]) -> str:
    """The whole page; pictures are linked relative to where the page will be written."""
    renders_dir, page_dir = Path(renders_dir).resolve(), Path(page_path).resolve().parent
    datasets = []
    for dataset in table.index.unique("dataset"):
        rows = table.loc[dataset]
        board = leaderboard(rows, models, judges, sanity[dataset])
        gallery = [(renders_dir / dataset / CEILING / "samples.png", "real test images")]
        gallery += [(renders_dir / dataset / model / "samples.png", model) for model in board["order"]]
        cards = []
        for model in models:
            pictures = [(renders_dir / dataset / model / name, name.split(".")[0]) for name in PICTURES]
            pictures.append((renders_dir / dataset / LOSS_CURVES / f"{model}.png", "losses"))
            numbers = [(name, f"{value:.4g}") for name, value in rows.loc[model].dropna().items()
                       if not name.startswith("mean.")]
            cards.append({"model": model, "numbers": numbers, "figures": _figures(pictures, page_dir)})
        datasets.append({"name": dataset, "leaderboard": board, "gallery": _figures(gallery, page_dir),
                         "set_sizes": set_sizes(rows), "sanity": sanity_table(sanity[dataset]), "cards": cards,
                         "details": rows.drop(columns=[c for c in rows.columns if c.startswith("mean.")]).to_html(
                             float_format=lambda v: f"{v:.4g}", na_rep="", classes="metrics")})
    previews = _figures([(renders_dir / d["name"] / "data_preview.png", f"{d['name']}: training images, one row "
                          "per class") for d in datasets], page_dir)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.get_template("report.html").render(datasets=datasets, previews=previews, judges=judges,
                                                          spread=SPREAD_WARNING)


def markdown_report(table: pd.DataFrame, sanity: dict[str, dict], models: list[str], judges: list[str]) -> str:
    """Each data set's leaderboard as Markdown, models in consensus order, with the judges' ranks."""
    parts = []
    for dataset in table.index.unique("dataset"):
        rows = table.loc[dataset]
        board = leaderboard(rows, models, judges, sanity[dataset])
        lines = []
        for row in board["rows"]:
            cells = [(f"{cell['text']} ±{cell['interval']}" if cell and cell["interval"] else cell["text"] if cell
                      else "") for cell in row["cells"]]
            ranks = " · ".join(row["ranks"]) + (" ⚠" if row["disputed"] else "")
            lines.append([row["position"], row["name"], row["consensus_rank"], ranks, *cells])
        header = ["#", "model", "median rank (mean)", " · ".join(judges), *board["columns"]]
        parts.append(f"### {dataset}\n\n" + pd.DataFrame(lines, columns=header).to_markdown(index=False) + "\n")
    return "\n".join(parts)
