"""Loss curves from a model's dvclive logs (live/plots/metrics/**/<name>.tsv), one panel per logged series."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from glyphgen.io import atomic_path  # noqa: E402


def logged_series(live_dir: str | Path) -> dict[str, pd.DataFrame]:
    """'train/loss' -> the dvclive table (columns timestamp, step, loss) for every series logged."""
    metrics_dir = Path(live_dir) / "plots" / "metrics"
    return {str(tsv.relative_to(metrics_dir).with_suffix("")): pd.read_csv(tsv, sep="\t")
            for tsv in sorted(metrics_dir.rglob("*.tsv"))}


def plot_loss_curves(live_dir: str | Path, path: str | Path, title: str) -> None:
    series = logged_series(live_dir)
    columns = min(3, max(1, len(series)))
    rows = max(1, math.ceil(len(series) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.8 * rows), squeeze=False)
    for ax, (name, table) in zip(axes.flat, series.items()):
        ax.plot(table["step"], table[Path(name).name], linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(series):]:
        ax.axis("off")
    if not series:
        axes[0, 0].text(0.5, 0.5, f"no dvclive series in {live_dir}", ha="center", va="center")
    figure.suptitle(title)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
