"""A grid of real test images for one data set, drawn like a model's sample grid (same size, columns and scale),
so the report's gallery starts with what every model tries to draw.

Usage: python stages/render_real.py <dataset>   -> reports/renders/<dataset>/real_test/samples.png
"""

import sys

from glyphgen.evaluation.judges import image_tensor
from glyphgen.io import load_image_set
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.grids import save_png
from glyphgen.rendering.panels import RenderParams, real_grid
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    params = parse_config(RenderParams, get_section(load_params(), "render"), "params.yaml:render")
    test_images = image_tensor(load_image_set(f"data/processed/{dataset}/test.npz"))
    save_png(f"reports/renders/{dataset}/real_test/samples.png",
             real_grid(test_images, params.grid_columns, params.seed), params.scale)


if __name__ == "__main__":
    run_stage(main)
