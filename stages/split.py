"""Stage split@<dataset>: train/test image sets in data/processed/<dataset>/ plus per-class counts.

kmnist keeps its official split; glyphs are split stratified by character and grouped by source glyph.
Usage: python stages/split.py {kmnist,glyphs}
"""

import sys
from pathlib import Path

from glyphgen.data.split import CapConfig, GlyphSplitConfig, cap, class_counts, grouped_split
from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path, load_image_set, save_image_set, write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

AUGMENTED_GLYPHS = Path("data/interim/augmented/glyphs.npz")
KMNIST = Path("data/raw/kmnist")


def main() -> None:
    dataset = sys.argv[1] if len(sys.argv) == 2 else ""
    params = load_params()
    seed = get_section(params, "split.seed")
    if dataset == "kmnist":
        config = parse_config(CapConfig, get_section(params, "split.kmnist"), "params.yaml:split.kmnist")
        train, test = load_image_set(KMNIST / "train.npz"), load_image_set(KMNIST / "test.npz")
    elif dataset == "glyphs":
        config = parse_config(GlyphSplitConfig, get_section(params, "split.glyphs"), "params.yaml:split.glyphs")
        glyphs = load_image_set(AUGMENTED_GLYPHS)
        train_rows, test_rows = grouped_split(glyphs, glyphs.extras["source_glyph"], config.test_size, seed)
        train, test = glyphs.subset(train_rows), glyphs.subset(test_rows)
    else:
        raise GlyphgenError(f"stages/split.py: expected a dataset name, kmnist or glyphs, got {dataset!r}")
    train = cap(train, config.max_train, seed, f"params.yaml:split.{dataset}.max_train")
    test = cap(test, config.max_test, seed, f"params.yaml:split.{dataset}.max_test")

    out = Path("data/processed") / dataset
    save_image_set(out / "train.npz", train)
    save_image_set(out / "test.npz", test)
    counts = class_counts(train, test)
    with atomic_path(Path("metrics/data") / dataset / "class_counts.csv") as tmp:
        counts.to_csv(tmp, index=False, encoding="utf-8")
    write_json(Path("metrics/data") / f"{dataset}.json",
               {"train_size": len(train), "test_size": len(test), "classes": len(train.class_names),
                "image_size": train.image_size})
    print(f"{dataset}: {len(train)} train, {len(test)} test images")


if __name__ == "__main__":
    run_stage(main)
