"""What one training run is, read from params.yaml: the model's config and its budget on one data set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from glyphgen.models import MODELS
from glyphgen.params import get_section, parse_config, values_for_dataset

DATASETS = ("kmnist", "glyphs")


@dataclass
class Budget:
    epochs: int = 0
    train_images: int = 0  # a seeded random subset of the training split; 0 = all of it

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.train_images < 0:
            raise ValueError(f"expected epochs >= 1 and train_images >= 0, got {self.epochs} and {self.train_images}")


def run_settings(params: Mapping[str, Any], model: str, dataset: str) -> tuple[Any, Budget]:
    """The config of `model` (its preset with the section's overrides) and its budget, for `dataset`."""
    where = f"params.yaml:models.{model}"
    section = values_for_dataset(get_section(params, f"models.{model}") or {}, dataset, DATASETS)
    budget = parse_config(Budget, {key: section.pop(key) for key in ("epochs", "train_images") if key in section},
                          f"{where} (for {dataset})")
    return MODELS[model].config_from_params(section.pop("preset", "default"), section, where), budget
