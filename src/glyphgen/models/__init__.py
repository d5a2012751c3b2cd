"""Generators by name, one file each (`models/<name>.py` sets `MODEL`), imported on demand so a stage depends on
its model's files only (docs/adding-a-model.md)."""

from __future__ import annotations

import importlib
from pathlib import Path

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.base import Generator

MODEL_NAMES = tuple(sorted(path.stem for path in Path(__file__).parent.glob("*.py") if path.stem != "__init__"))


def model_class(name: str, where: str = "model") -> type[Generator]:
    if name not in MODEL_NAMES:
        raise GlyphgenError(f"{where}: unknown model {name!r} (expected one of: {', '.join(MODEL_NAMES)})")
    return importlib.import_module(f"glyphgen.models.{name}").MODEL


__all__ = ["MODEL_NAMES", "Generator", "model_class"]
