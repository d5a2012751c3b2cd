"""The layout of a folder of glyph images, rendered or user-supplied: <folder>/<character or U+XXXX>/<source>.png
and an optional <folder>/families.csv (source,family), as README describes. A family stays on one side of the
split: faces of one font look alike, so a test set holding one would measure copying."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from glyphgen.errors import GlyphgenError
from glyphgen.io import atomic_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")
CODE_POINT = re.compile(r"U\+([0-9A-Fa-f]{4,6})")
FAMILIES_FILE = "families.csv"


@dataclass(frozen=True)
class GlyphFile:
    path: Path
    character: str
    source: str
    family: str


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
    """Every glyph image under `root`, in a stable order; no links out of `root`: DVC would not see them change."""
    if not root.is_dir():
        raise GlyphgenError(f"{root}: glyph folder not found")
    families = read_families(root / FAMILIES_FILE)
    files = [GlyphFile(path, character_of(folder), path.stem, families.get(path.stem, path.stem))
             for folder in sorted(p for p in root.iterdir() if inside(p, root).is_dir())
             for path in sorted(folder.iterdir()) if path.suffix.lower() in IMAGE_SUFFIXES and inside(path, root)]
    if not files:
        raise GlyphgenError(f"{root}: no glyph images found (expected <folder>/<character>/<source>.png)")
    return files


def inside(path: Path, root: Path) -> Path:
    """`path`, unless it is a link that leads out of `root` (an error naming both)."""
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise GlyphgenError(f"{path}: a link to {target}, outside the glyph folder {root}: DVC would not see it "
                            f"change (copy it into the folder)")
    return path


def read_families(path: Path) -> dict[str, str]:
    """source -> family from a folder's families.csv; empty when the folder has none."""
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if any(set(row) != {"source", "family"} or not row["family"] for row in rows):
        raise GlyphgenError(f"{path}: expected the columns source,family with a family on every row")
    return {row["source"]: row["family"] for row in rows}


def write_families(path: Path, families: dict[str, str]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "family"])
        writer.writerows(sorted(families.items()))
