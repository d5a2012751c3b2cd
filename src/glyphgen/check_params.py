"""Every params.yaml value the stages read, checked at once by dvc.yaml's first stage: DVC removes a stage's
outputs just before running it, so a bad value caught inside a stage would cost them (docs/pipeline.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch

from glyphgen.data.augment import AugmentConfig
from glyphgen.data.convert import ConvertConfig
from glyphgen.data.fonts import RenderConfig
from glyphgen.data.glyph_folders import list_glyph_files
from glyphgen.data.kmnist import IMAGE_SIZE as KMNIST_IMAGE_SIZE, FetchConfig
from glyphgen.data.split import CapConfig, GlyphSplitConfig
from glyphgen.errors import GlyphgenError
from glyphgen.evaluation.scorecard import EvaluateConfig
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.params import get_section, load_pipeline, parse_config
from glyphgen.rendering.panels import RenderParams
from glyphgen.rendering.preview import PreviewParams
from glyphgen.training.loop import TrainConfig
from glyphgen.training.settings import run_settings

# The sections each read by one config class, as the stages named in dvc.yaml read them.
CONFIG_SECTIONS = {"fetch_kmnist": FetchConfig, "render_glyphs": RenderConfig, "convert_glyphs": ConvertConfig,
                   "augment_glyphs": AugmentConfig, "split.kmnist": CapConfig, "split.glyphs": GlyphSplitConfig,
                   "train": TrainConfig, "evaluate": EvaluateConfig, "render": RenderParams, "preview": PreviewParams}
# The class count a model is built with to check its shapes: it sizes only the class heads, which fit any count.
SHAPE_CHECK_CLASSES = 10


def check_params(params: Mapping[str, Any]) -> None:
    """Raise the GlyphgenError the first stage to read a bad value would raise (a one-line message naming it)."""
    pipeline = load_pipeline(params)
    configs = {section: parse_config(cls, get_section(params, section), f"params.yaml:{section}")
               for section, cls in CONFIG_SECTIONS.items()}
    # The data sets the pipeline can make (dvc.yaml's split stage), with the image size each model must take.
    image_sizes = {"kmnist": (KMNIST_IMAGE_SIZE, "KMNIST's"),
                   "glyphs": (configs["convert_glyphs"].image_size, "params.yaml:convert_glyphs.image_size")}
    for key, names, kind in (("datasets", tuple(image_sizes), "data set"), ("models", MODEL_NAMES, "model")):
        unknown = [name for name in getattr(pipeline, key) if name not in names]
        if unknown:
            raise GlyphgenError(f"params.yaml:pipeline.{key}: unknown {kind} {unknown[0]!r} "
                                f"(expected one of: {', '.join(names)})")
    for folder in configs["convert_glyphs"].glyph_dirs:  # there, with glyphs in it, and no links leading out
        list_glyph_files(Path(folder))
    seed = get_section(params, "split.seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise GlyphgenError(f"params.yaml:split.seed: expected int, got {seed!r}")
    for model in pipeline.models:
        for dataset in pipeline.datasets:
            model_config, _ = run_settings(params, model, dataset)
            check_shapes(model, model_config, *image_sizes[dataset], f"params.yaml:models.{model}.{dataset}")


def check_shapes(model: str, config: Any, image_size: int, size_source: str, where: str) -> None:
    """Build the model on the meta device (no memory): an image side its convolutions cannot take fails here."""
    try:
        with torch.device("meta"):
            model_class(model, where)(config, image_size, SHAPE_CHECK_CLASSES)
    except GlyphgenError as exc:
        raise GlyphgenError(f"{where}: cannot take {image_size}px images ({size_source}): {exc}") from None
