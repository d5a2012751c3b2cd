"""Stage split@<dataset>: train/test image sets in data/processed/<dataset>/ plus per-class counts.

kmnist keeps its official split; glyphs are split stratified by character and grouped by font family.
Usage: python stages/split.py {kmnist,glyphs}
"""

import sys
from pathlib import Path

from glyphgen.data.split import CapConfig, GlyphSplitConfig, cap, class_counts, family_groups, grouped_split
from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet, atomic_paths, load_image_set, save_image_set, write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

AUGMENTED_GLYPHS = Path("data/interim/augmented/glyphs.npz")
KMNIST = Path("data/raw/kmnist")


def read_kmnist_split(name: str) -> ImageSet:
    return load_image_set(KMNIST / f"{name}.npz")


def split_glyphs(config: GlyphSplitConfig, seed: int) -> dict[str, ImageSet]:
    glyphs = load_image_set(AUGMENTED_GLYPHS)
    if "family" not in glyphs.extras:
        raise GlyphgenError(f"{AUGMENTED_GLYPHS}: no font family column (written by an older convert_glyphs)")
    groups = family_groups(glyphs.extras["family"], config.join_families)
    train_rows, test_rows = grouped_split(glyphs, groups, config.test_size, seed)
    return {"train": glyphs.subset(train_rows), "test": glyphs.subset(test_rows)}


def main() -> None:
    dataset = sys.argv[1] if len(sys.argv) == 2 else ""
    params = load_params()
    seed = get_section(params, "split.seed")
    if dataset == "kmnist":
        config = parse_config(CapConfig, get_section(params, "split.kmnist"), "params.yaml:split.kmnist")
        read_split = read_kmnist_split
    elif dataset == "glyphs":
        config = parse_config(GlyphSplitConfig, get_section(params, "split.glyphs"), "params.yaml:split.glyphs")
        read_split = split_glyphs(config, seed).get
    else:
        raise GlyphgenError(f"stages/split.py: expected a dataset name, kmnist or glyphs, got {dataset!r}")

    out, metrics = Path("data/processed") / dataset, Path("metrics/data")
    # All four outputs appear together or not at all, even when reading the test split fails after the train
    # split was written.
    with atomic_paths(out / "train.npz", out / "test.npz", metrics / dataset / "class_counts.csv",
                      metrics / f"{dataset}.json") as (train_file, test_file, counts_file, sizes_file):
        splits: dict[str, ImageSet] = {}
        for name, path in (("train", train_file), ("test", test_file)):
            limit = getattr(config, f"max_{name}")
            splits[name] = cap(read_split(name), limit, seed, f"params.yaml:split.{dataset}.max_{name}")
            save_image_set(path, splits[name])
        class_counts(splits["train"], splits["test"]).to_csv(counts_file, index=False, encoding="utf-8")
        sizes = {f"{name}_size": len(image_set) for name, image_set in splits.items()}
        if dataset == "glyphs":  # how many font families (as joined by join_families) each side holds
            for name, image_set in splits.items():
                sizes[f"{name}_families"] = len(set(family_groups(image_set.extras["family"], config.join_families)))
        write_json(sizes_file, {**sizes, "classes": len(splits["train"].class_names),
                                "image_size": splits["train"].image_size})
    summary = f"{dataset}: {sizes['train_size']} train and {sizes['test_size']} test images"
    if dataset == "glyphs":
        summary += f" of {sizes['train_families']} and {sizes['test_families']} font families"
    print(summary)


if __name__ == "__main__":
    run_stage(main)
