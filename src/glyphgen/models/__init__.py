"""Generators by name: the registry that the train, evaluate and render stages look models up in."""

from glyphgen.models.base import Generator

MODELS: dict[str, type[Generator]] = {}

__all__ = ["Generator", "MODELS"]
