"""Generators by name: the registry that the train, evaluate and render stages look models up in.

Each model is one file, `glyphgen/models/<name>.py`, which sets `MODEL` to its Generator class and builds only
on `glyphgen.models.shared`; its name is the file's. The registry imports that file on demand, so training or
loading one model imports its own code and nothing of the others' (dvc.yaml's train@<dataset>-<model> depends on
exactly those files). Adding a model: docs/adding-a-model.md.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.base import Generator

MODEL_NAMES = tuple(sorted(path.stem for path in Path(__file__).parent.glob("*.py") if path.stem != "__init__"))


def model_class(name: str, where: str = "model") -> type[Generator]:
    """The Generator class registered as `name`; `where` names the source of the name in the error."""
    if name not in MODEL_NAMES:
        raise GlyphgenError(f"{where}: unknown model {name!r} (expected one of: {', '.join(MODEL_NAMES)})")
    return importlib.import_module(f"glyphgen.models.{name}").MODEL


__all__ = ["MODEL_NAMES", "Generator", "model_class"]
