"""Stage augment_glyphs: Augmentor augmentations of the converted glyphs into data/interim/augmented/."""

from pathlib import Path

from glyphgen.data.augment import AugmentConfig, augment_glyphs
from glyphgen.data.index_table import save_glyph_folder
from glyphgen.io import load_image_set
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

CONVERTED = Path("data/interim/converted/glyphs.npz")
OUT = Path("data/interim/augmented")


def main() -> None:
    config = parse_config(AugmentConfig, get_section(load_params(), "augment_glyphs"), "params.yaml:augment_glyphs")
    image_set = augment_glyphs(load_image_set(CONVERTED), config)
    save_glyph_folder(OUT, image_set)
    print(f"augmented set: {len(image_set)} images ({config.n_samples} augmented)")


if __name__ == "__main__":
    run_stage(main)
