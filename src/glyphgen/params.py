"""params.yaml as typed dataclasses: unknown or mistyped keys fail, so a typo in `dvc exp run -S` cannot
silently train with defaults."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

from glyphgen.errors import GlyphgenError

T = TypeVar("T")

DEFAULT_PARAMS_FILE = Path("params.yaml")
SECTIONS = ("pipeline", "fetch_kmnist", "render_glyphs", "convert_glyphs", "augment_glyphs", "split", "train", "models",
            "train_judges", "evaluate", "render", "preview")


def load_params(path: str | Path = DEFAULT_PARAMS_FILE) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: params file not found") from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GlyphgenError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise GlyphgenError(f"{path}: expected a mapping of sections at the top level")
    unknown = [name for name in loaded if name not in SECTIONS]
    if unknown:  # a misspelled section (`trian:`) would leave every key in it silently unused
        raise GlyphgenError(f"{path}: unknown section '{unknown[0]}' (expected one of: {', '.join(SECTIONS)})")
    return loaded


def get_section(params: Mapping[str, Any], dotted_name: str, where: str = str(DEFAULT_PARAMS_FILE)) -> Any:
    node: Any = params
    for depth, key in enumerate(dotted_name.split(".")):
        if not isinstance(node, Mapping) or key not in node:
            missing = ".".join(dotted_name.split(".")[: depth + 1])
            raise GlyphgenError(f"{where}: missing section '{missing}'")
        node = node[key]
    return node


def parse_config(cls: type[T], raw: Mapping[str, Any] | None, where: str) -> T:
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise GlyphgenError(f"{where}: expected a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise GlyphgenError(f"{where}: unknown key '{unknown[0]}' (expected one of: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(hints[name], raw[name], f"{where}.{name}") for name in raw}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise GlyphgenError(f"{where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, where)
            except GlyphgenError as exc:
                errors.append(str(exc))
        raise GlyphgenError(errors[0] if len(errors) == 1 else f"{where}: {value!r} matches none of {hint}")
    if origin is typing.Literal:
        if value not in args:
            raise GlyphgenError(f"{where}: expected one of {list(args)}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return parse_config(hint, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise GlyphgenError(f"{where}: expected a list, got {value!r}")
        item_hint = args[0] if args else Any
        items = [_coerce(item_hint, item, f"{where}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise GlyphgenError(f"{where}: expected a mapping, got {value!r}")
        value_hint = args[1] if len(args) == 2 else Any
        return {key: _coerce(value_hint, item, f"{where}.{key}") for key, item in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise GlyphgenError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(hint, type) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise GlyphgenError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def check_range(value: float, low: float, high: float, where: str) -> None:
    if not low <= value <= high:
        raise GlyphgenError(f"{where}: expected a value in [{low}, {high}], got {value!r}")


# For __post_init__: values of the right type that make no sense. parse_config prefixes the section.

def check_positive(config: Any, *names: str) -> None:
    _check_fields(config, names, lambda value: value > 0, "a value > 0")


def check_non_negative(config: Any, *names: str) -> None:
    _check_fields(config, names, lambda value: value >= 0, "a value >= 0")


def check_fraction(config: Any, *names: str) -> None:
    """Below 1: Adam's beta1 = 1 divides by 0."""
    _check_fields(config, names, lambda value: 0 <= value < 1, "a value in [0, 1)")


def _check_fields(config: Any, names: tuple[str, ...], accepts, expected: str) -> None:
    for name in names:
        value = getattr(config, name)
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(accepts(item) for item in items):
            shown = list(value) if isinstance(value, tuple) else value  # as params.yaml writes it
            raise ValueError(f"{name}: expected {expected}{' for every item' if items is value else ''}, got {shown!r}")


@dataclass
class PipelineParams:
    datasets: list[str]  # the one list that dvc.yaml's matrices span
    models: list[str]


def load_judge_names(params: Mapping[str, Any]) -> list[str]:
    """The judges every data set trains and every scorecard holds: params.yaml's train_judges.judges, in order."""
    names = list(get_section(params, "train_judges.judges") or {})
    if not names:
        raise GlyphgenError("params.yaml:train_judges.judges: expected at least one judge")
    return names


def load_pipeline(params: Mapping[str, Any]) -> PipelineParams:
    return parse_config(PipelineParams, get_section(params, "pipeline"), "params.yaml:pipeline")
