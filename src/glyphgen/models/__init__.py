"""Generators by name: the registry that the train, evaluate and render stages look models up in.

Each model lives in its own file, `glyphgen/models/<name>.py`, which sets `MODEL` to its Generator class and
builds only on `glyphgen.models.shared`. The registry imports that file on demand, so training or loading one
model imports its own code and nothing of the others' (dvc.yaml's train@<dataset>-<model> depends on exactly
those files). Adding a model: write `models/<name>.py`, add the name here and a `models.<name>` section to
params.yaml.
"""

from __future__ import annotations

import importlib

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.base import Generator

MODEL_NAMES = ("ae", "conv_ae", "vae", "aae", "aae_supervised", "aae_semi", "aae_cluster", "gan", "dcgan",
               "wgan_gp")


def model_class(name: str, where: str = "model") -> type[Generator]:
    """The Generator class registered as `name`; `where` names the source of the name in the error."""
    if name not in MODEL_NAMES:
        raise GlyphgenError(f"{where}: unknown model {name!r} (expected one of: {', '.join(MODEL_NAMES)})")
    return importlib.import_module(f"glyphgen.models.{name}").MODEL


__all__ = ["MODEL_NAMES", "Generator", "model_class"]
