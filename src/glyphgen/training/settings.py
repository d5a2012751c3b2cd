"""What one training run is, read from params.yaml: the model's config and its budget on one data set."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from glyphgen.errors import GlyphgenError
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.params import get_section, parse_config
from glyphgen.training.schedule import LrSchedule


@dataclass
class Budget:
    epochs: int = 0
    train_images: int = 0  # a seeded random subset of the training split; 0 = all of it
    lr_schedule: LrSchedule = "constant"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.train_images < 0:
            raise ValueError(f"expected epochs >= 1 and train_images >= 0, got {self.epochs} and {self.train_images}")


def run_settings(params: Mapping[str, Any], model: str, dataset: str) -> tuple[Any, Budget]:
    """A key set to null takes the preset's value, so `-S models.gan.glyphs.lr=null` returns to the recipe."""
    where = f"params.yaml:models.{model}.{dataset}"
    check_names(get_section(params, "models"), MODEL_NAMES, "params.yaml:models", "model")
    section = get_section(params, f"models.{model}.{dataset}")
    if not isinstance(section, Mapping):
        raise GlyphgenError(f"{where}: expected a mapping of preset, epochs, train_images and overrides")
    section = {key: value for key, value in section.items() if value is not None}
    budget_keys = [field.name for field in dataclasses.fields(Budget)]
    budget = parse_config(Budget, {key: section.pop(key) for key in budget_keys if key in section}, where)
    return model_class(model, where).config_from_params(section.pop("preset", "default"), section, where), budget


def check_names(section: Any, names: tuple[str, ...], where: str, kind: str) -> None:
    """A misspelled model (`models.vea`) would otherwise be a section no run reads."""
    if not isinstance(section, Mapping):
        raise GlyphgenError(f"{where}: expected a mapping of {kind} names, got {section!r}")
    unknown = [name for name in section if name not in names]
    if unknown:
        raise GlyphgenError(f"{where}: unknown {kind} '{unknown[0]}' (expected one of: {', '.join(names)})")
