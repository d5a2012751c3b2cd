"""Loss curves from a model's dvclive logs, on a bare matplotlib Figure: importing pyplot and pandas cost the
render stage more than the drawing itself."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from matplotlib.figure import Figure

from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path


def logged_series(live_dir: str | Path) -> dict[str, tuple[list[float], list[float]]]:
    metrics_dir = Path(live_dir) / "plots" / "metrics"
    series = {}
    for tsv in sorted(metrics_dir.rglob("*.tsv")):
        with open(tsv, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        series[str(tsv.relative_to(metrics_dir).with_suffix(""))] = (
            [float(row["step"]) for row in rows], [float(row[tsv.stem]) for row in rows])
    return series


def plot_loss_curves(live_dir: str | Path, path: str | Path, title: str) -> None:
    series = logged_series(live_dir)
    if not series:
        raise GlyphgenError(f"{Path(live_dir) / 'plots' / 'metrics'}: no dvclive loss logs (.tsv) found "
                            "(train the model first)")
    columns = min(3, len(series))
    rows = math.ceil(len(series) / columns)
    width, height = 4 * columns, 2.8 * rows
    figure = Figure(figsize=(width, height))
    # Fixed margins in inches instead of tight_layout, which measures every tick label and is slow.
    margins = {"left": 0.55 / width, "right": 1 - 0.2 / width, "top": 1 - 0.8 / height, "bottom": 0.45 / height}
    axes = figure.subplots(rows, columns, squeeze=False, gridspec_kw={**margins, "hspace": 0.55, "wspace": 0.3})
    for ax, (name, (steps, values)) in zip(axes.flat, series.items()):
        ax.plot(steps, values, linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(series):]:
        ax.axis("off")
    figure.suptitle(title)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
