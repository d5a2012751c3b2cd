"""A preview of one data set's training images: one row per class (KMNIST: 10 of each kana; glyphs: each character
in several fonts), shown at the top of the report.

Usage: python stages/preview.py <dataset>   -> reports/renders/<dataset>/data_preview.png
"""

import sys

from glyphgen.io import load_image_set
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.grids import save_png
from glyphgen.rendering.preview import PreviewParams, data_preview
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    params = parse_config(PreviewParams, get_section(load_params(), "preview"), "params.yaml:preview")
    train_set = load_image_set(f"data/processed/{dataset}/train.npz")
    save_png(f"reports/renders/{dataset}/data_preview.png", data_preview(train_set, params.columns, params.seed),
             params.scale)


if __name__ == "__main__":
    run_stage(main)
