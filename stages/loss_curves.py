"""The loss curves of every model trained on one data set, from their dvclive logs: one PNG per model.

One stage per data set, not a figure in each model's render stage: importing matplotlib and drawing one figure
took about 1 s of a render stage's 4 s; in the fresh-clone run of README's "Where the time goes", this stage
drew the ten glyph models' figures in 4.6 s (reports/timings.md).

Usage: python stages/loss_curves.py <dataset>   -> reports/renders/<dataset>/loss_curves/<model>.png
"""

import sys

from glyphgen.io import atomic_path
from glyphgen.params import load_params, load_pipeline
from glyphgen.rendering.curves import plot_loss_curves
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    models = load_pipeline(load_params()).models
    with atomic_path(f"reports/renders/{dataset}/loss_curves") as out:
        out.mkdir()
        for model in models:
            plot_loss_curves(f"metrics/{dataset}/training/{model}", out / f"{model}.png", f"{dataset} / {model}")


if __name__ == "__main__":
    run_stage(main)
