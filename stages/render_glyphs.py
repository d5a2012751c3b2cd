"""Stage render_glyphs: draw the charset from every font face into data/interim/rendered/ (glyph folder layout)."""

from pathlib import Path

from PIL import Image

from glyphgen.data.fonts import (MATPLOTLIB_FONTS_RECORD, RenderConfig, check_matplotlib_fonts, font_files, render_face,
                                 unique_faces)
from glyphgen.data.glyph_folders import FAMILIES_FILE, folder_name, write_families
from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path, write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage

FONTS_DIR = Path("data/fonts")
OUT = Path("data/interim/rendered")
REPORT = Path("data/interim/render_report.json")


def main() -> None:
    config = parse_config(RenderConfig, get_section(load_params(), "render_glyphs"), "params.yaml:render_glyphs")
    charset = "".join(dict.fromkeys(config.charset))
    if not charset.strip():
        raise GlyphgenError("params.yaml:render_glyphs.charset: expected at least one character")
    if config.matplotlib_fonts:
        check_matplotlib_fonts(MATPLOTLIB_FONTS_RECORD)  # what DVC sees of them (a dependency in dvc.yaml)
    faces = unique_faces(font_files(config, FONTS_DIR), config.exclude)
    if not faces:
        raise GlyphgenError(f"params.yaml:render_glyphs.exclude: {config.exclude} excludes every font face found")
    report, families = {}, {}
    with atomic_path(OUT) as out:
        for face in faces:
            drawings, missing = render_face(face, charset, config.font_size)
            for char, pixels in drawings.items():
                folder = out / folder_name(char)
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels).save(folder / f"{face.name}.png")
            report[face.name] = {"file": face.path.name, "family": face.family, "rendered": len(drawings),
                                 "missing": "".join(missing)}
            if drawings:
                families[face.name] = face.family
        rendered = sum(entry["rendered"] for entry in report.values())
        if rendered == 0:
            raise GlyphgenError(
                f"params.yaml:render_glyphs.charset: none of {len(faces)} font faces draws any of {charset!r}")
        write_families(out / FAMILIES_FILE, families)  # the split keeps each family on one side
        write_json(REPORT, {"faces": len(faces), "rendered": rendered, "per_face": report})
    print(f"rendered {rendered} glyphs from {len(faces)} font faces")


if __name__ == "__main__":
    run_stage(main)
