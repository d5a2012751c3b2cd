"""Render every character of a charset from every font face found, skipping glyphs a face lacks: placeholders
(one glyph for many code points, such as Last Resort's box) and drawings without ink count as missing."""

from __future__ import annotations

import glob
import hashlib
import json
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
from fontTools.ttLib import TTCollection, TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

from glyphgen.errors import GlyphgenError
from glyphgen.params import check_range

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
MATPLOTLIB_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# DVC cannot watch the installed matplotlib, so render_glyphs depends on this record of its fonts' MD5s.
MATPLOTLIB_FONTS_RECORD = Path("data/matplotlib_fonts.json")
MIN_INK_PIXELS = 4  # fewer dark pixels than this is a blank drawing, not a glyph
PLACEHOLDER_SHARE = 8  # real fonts share a glyph between at most a few code points (space and no-break space)


@dataclass
class RenderConfig:
    charset: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    font_size: int = 64
    matplotlib_fonts: bool = True
    font_globs: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)  # regexes of family or PostScript names

    def __post_init__(self) -> None:
        check_range(self.font_size, 8, 512, "params.yaml:render_glyphs.font_size")


@dataclass
class Face:
    path: Path
    index: int  # position inside a .ttc collection, 0 otherwise
    name: str  # PostScript name: unique, file-name safe
    family: str
    style: str
    glyph_of: dict[int, str]  # code point -> glyph name (the best cmap)


def font_files(config: RenderConfig, fonts_dir: Path) -> list[Path]:
    files = sorted(MATPLOTLIB_FONTS.glob("*.ttf")) if config.matplotlib_fonts else []
    files += sorted(p for p in fonts_dir.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    for position, pattern in enumerate(config.font_globs):
        matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if p.lower().endswith(FONT_SUFFIXES))
        if not matches:
            raise GlyphgenError(f"params.yaml:render_glyphs.font_globs[{position}]: '{pattern}' matched no "
                                f"{'/'.join(FONT_SUFFIXES)} file")
        files += matches
    if not files:
        raise GlyphgenError(f"{fonts_dir}: no font found (no {'/'.join(FONT_SUFFIXES)} file there, no "
                            f"render_glyphs.font_globs, and render_glyphs.matplotlib_fonts is false)")
    return list(dict.fromkeys(p.resolve() for p in files))


def matplotlib_font_hashes() -> dict[str, str]:
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in sorted(MATPLOTLIB_FONTS.glob("*.ttf"))}


def check_matplotlib_fonts(record: Path) -> None:
    """A matplotlib upgrade that changes its fonts stops here instead of silently drawing other glyphs under an
    unchanged dvc.lock."""
    renew = "`python -m glyphgen record-fonts` renews it"
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlyphgenError(f"{record}: not found; {renew}") from None
    except json.JSONDecodeError as exc:
        raise GlyphgenError(f"{record}: not valid JSON ({exc}); {renew}") from None
    installed = matplotlib_font_hashes()
    differences = [f"new {name}" for name in installed if name not in recorded]
    differences += [f"gone {name}" for name in recorded if name not in installed]
    differences += [f"changed {name}" for name in installed if name in recorded and recorded[name] != installed[name]]
    if differences:
        raise GlyphgenError(f"{record}: matplotlib's bundled fonts differ from this record ({', '.join(differences)});"
                            f" {renew} (then commit it)")


def read_faces(path: Path) -> list[Face]:
    try:
        fonts = TTCollection(path, lazy=True).fonts if path.suffix.lower() == ".ttc" else [TTFont(path, lazy=True)]
        faces = []
        for index, font in enumerate(fonts):
            names = font["name"]
            family, style = names.getBestFamilyName(), names.getBestSubFamilyName()
            postscript = names.getDebugName(6) or f"{family}-{style}"
            faces.append(Face(path, index, re.sub(r"[^\w.-]+", "_", postscript), family, style,
                              font.getBestCmap() or {}))
        return faces
    except (TTLibError, OSError, KeyError, AssertionError, struct.error) as exc:
        raise GlyphgenError(f"{path}: not a readable TrueType/OpenType font ({exc})") from None


def unique_faces(files: list[Path], exclude: list[str]) -> list[Face]:
    faces: dict[tuple[str, str], Face] = {}
    for path in files:
        for face in read_faces(path):
            if any(re.search(pattern, face.family) or re.search(pattern, face.name) for pattern in exclude):
                continue
            faces.setdefault((face.family, face.style), face)
    return list(faces.values())


def covered_characters(face: Face, charset: str) -> list[str]:
    code_points_per_glyph = Counter(face.glyph_of.values())
    return [char for char in charset
            if ord(char) in face.glyph_of and code_points_per_glyph[face.glyph_of[ord(char)]] <= PLACEHOLDER_SHARE]


def draw_glyph(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray | None:
    left, top, right, bottom = font.getbbox(char)
    margin = max(2, font.size // 8)
    width, height = right - left + 2 * margin, bottom - top + 2 * margin
    if right <= left or bottom <= top:
        return None
    canvas = Image.new("L", (width, height), 255)
    ImageDraw.Draw(canvas).text((margin - left, margin - top), char, font=font, fill=0)
    pixels = np.asarray(canvas)
    return pixels if np.count_nonzero(pixels < 128) >= MIN_INK_PIXELS else None


def render_face(face: Face, charset: str, font_size: int) -> tuple[dict[str, np.ndarray], list[str]]:
    drawings = {}
    try:
        font = ImageFont.truetype(str(face.path), font_size, index=face.index)
        for char in covered_characters(face, charset):
            pixels = draw_glyph(font, char)
            if pixels is not None:
                drawings[char] = pixels
    except OSError as exc:  # FreeType reads outlines only when drawing: a damaged table shows up here
        raise GlyphgenError(f"{face.path}: face {face.name} cannot be drawn ({exc}); is the font file damaged?"
                            ) from None
    return drawings, [char for char in charset if char not in drawings]
