"""The on-disk layout of a folder of glyph images, shared by rendered fonts and user-supplied sets.

    <folder>/<character>/<source>.png     e.g. scans/A/page3_writer7.png, rendered/U+0061/DejaVuSans.png

A character folder is named either by the character itself or by its code point as U+XXXX (needed for
characters a file name cannot hold, and to keep 'A' and 'a' apart on case-insensitive disks). The file
stem names the source: the font, writer or specimen the glyph comes from. Images may have any size and
either polarity (dark on light or light on dark); the convert stage normalises them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from glyphgen.errors import GlyphgenError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")
CODE_POINT = re.compile(r"U\+([0-9A-Fa-f]{4,6})")


@dataclass(frozen=True)
class GlyphFile:
    path: Path
    character: str
    source: str


def folder_name(character: str) -> str:
    return f"U+{ord(character):04X}"


def character_of(folder: Path) -> str:
    match = CODE_POINT.fullmatch(folder.name)
    if match:
        return chr(int(match.group(1), 16))
    if len(folder.name) != 1:
        raise GlyphgenError(f"{folder}: a glyph folder must be named by one character or U+XXXX")
    return folder.name


def list_glyph_files(root: Path) -> list[GlyphFile]:
    """Every glyph image under `root`, in a stable order; an empty or missing folder is an error."""
    if not root.is_dir():
        raise GlyphgenError(f"{root}: glyph folder not found")
    files = [GlyphFile(path, character_of(folder), path.stem)
             for folder in sorted(p for p in root.iterdir() if p.is_dir())
             for path in sorted(folder.iterdir()) if path.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise GlyphgenError(f"{root}: no glyph images found (expected <folder>/<character>/<source>.png)")
    return files
