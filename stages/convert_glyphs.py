"""Stage convert_glyphs: normalise rendered and user-supplied glyphs into data/interim/converted/."""

from pathlib import Path

from glyphgen.data.convert import ConvertConfig, convert_glyphs
from glyphgen.data.glyph_folders import list_glyph_files
from glyphgen.data.index_table import save_glyph_folder
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

RENDERED = Path("data/interim/rendered")
OUT = Path("data/interim/converted")


def main() -> None:
    config = parse_config(ConvertConfig, get_section(load_params(), "convert_glyphs"), "params.yaml:convert_glyphs")
    files = [glyph for folder in [RENDERED, *map(Path, config.glyph_dirs)] for glyph in list_glyph_files(folder)]
    image_set = convert_glyphs(files, config.image_size)
    save_glyph_folder(OUT, image_set)
    print(f"converted {len(image_set)} glyphs of {len(image_set.class_names)} characters to {config.image_size}px")


if __name__ == "__main__":
    run_stage(main)
