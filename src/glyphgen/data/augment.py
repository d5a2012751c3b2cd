"""Augment glyphs with Augmentor's operations. Each output image has its own seed, derived from (seed, index), so
the bytes are the same whatever the number of workers."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool

import numpy as np
from Augmentor.Operations import Distort, Operation, RotateRange, Shear, Skew, Zoom
from PIL import Image

from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet
from glyphgen.params import check_range


@dataclass
class RotateConfig:
    probability: float = 0.5
    max_left_rotation: int = 8
    max_right_rotation: int = 8


@dataclass
class ZoomConfig:
    probability: float = 0.3
    min_factor: float = 0.9
    max_factor: float = 1.1


@dataclass
class ShearConfig:
    probability: float = 0.3
    max_shear_left: int = 8
    max_shear_right: int = 8


@dataclass
class SkewConfig:
    probability: float = 0.2
    magnitude: float = 0.15


@dataclass
class DistortConfig:
    probability: float = 0.5
    grid_width: int = 4
    grid_height: int = 4
    magnitude: int = 2


@dataclass
class AugmentConfig:
    n_samples: int = 10000
    keep_originals: bool = True
    seed: int = 0
    workers: int = 2
    rotate: RotateConfig = field(default_factory=RotateConfig)
    zoom: ZoomConfig = field(default_factory=ZoomConfig)
    shear: ShearConfig = field(default_factory=ShearConfig)
    skew: SkewConfig = field(default_factory=SkewConfig)
    distort: DistortConfig = field(default_factory=DistortConfig)

    def __post_init__(self) -> None:
        where = "params.yaml:augment_glyphs"
        check_range(self.n_samples, 0, 10_000_000, f"{where}.n_samples")
        check_range(self.workers, 1, 256, f"{where}.workers")
        for name in ("rotate", "zoom", "shear", "skew", "distort"):
            check_range(getattr(self, name).probability, 0.0, 1.0, f"{where}.{name}.probability")


def build_operations(config: AugmentConfig) -> list[Operation]:
    return [
        RotateRange(**asdict(config.rotate)),
        Zoom(**asdict(config.zoom)),
        Shear(**asdict(config.shear)),
        Skew(config.skew.probability, skew_type="RANDOM", magnitude=config.skew.magnitude),
        Distort(**asdict(config.distort)),
    ]


def image_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def augment_one(image: np.ndarray, operations: list[Operation], seed: int) -> np.ndarray:
    """As Augmentor's Pipeline, which draws from `random`."""
    random.seed(seed)
    pictures = [Image.fromarray(image)]
    for operation in operations:
        if random.random() < operation.probability:
            pictures = operation.perform_operation(pictures)
    return np.asarray(pictures[0].convert("L"))


# Filled once per worker by the pool initializer.
_worker: dict = {}


def _start_worker(sources: np.ndarray, operations: list[Operation], seed: int) -> None:
    _worker.update(sources=sources, operations=operations, seed=seed)


def _augment_indices(indices: np.ndarray) -> np.ndarray:
    sources, operations, seed = _worker["sources"], _worker["operations"], _worker["seed"]
    return np.stack([augment_one(sources[i % len(sources)], operations, image_seed(seed, i)) for i in indices])


def augment_images(sources: np.ndarray, config: AugmentConfig) -> np.ndarray:
    """Image i comes from sources[i % len(sources)], so every glyph gets the same share."""
    if config.n_samples == 0:
        return np.zeros((0, *sources.shape[1:]), np.uint8)
    chunks = np.array_split(np.arange(config.n_samples), min(config.n_samples, 16 * config.workers))
    init_args = (sources, build_operations(config), config.seed)
    if config.workers == 1:
        state = random.getstate()
        _start_worker(*init_args)
        parts = [_augment_indices(chunk) for chunk in chunks]
        random.setstate(state)
    else:
        with Pool(config.workers, initializer=_start_worker, initargs=init_args) as pool:
            parts = pool.map(_augment_indices, chunks)
    return np.concatenate(parts)


def augment_glyphs(glyphs: ImageSet, config: AugmentConfig) -> ImageSet:
    """extras: the source glyph's, and `augmented` (False for the originals, which come first)."""
    if len(glyphs) == 0:
        raise GlyphgenError("augment_glyphs: no glyphs to augment")
    augmented = augment_images(glyphs.images, config)
    source_rows = np.arange(len(augmented)) % len(glyphs)
    if config.keep_originals:
        source_rows = np.concatenate([np.arange(len(glyphs)), source_rows])
        augmented = np.concatenate([glyphs.images, augmented])
    result = glyphs.subset(source_rows)
    result.images = augmented
    result.extras["augmented"] = np.arange(len(result)) >= (len(glyphs) if config.keep_originals else 0)
    return result
