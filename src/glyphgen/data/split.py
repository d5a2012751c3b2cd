"""Train/test splits: glyphs stratified by character and grouped by font family (every face of a family, and
so every augmentation of its glyphs, on one side); optional caps take stratified subsamples for quick runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet
from glyphgen.params import check_range


@dataclass
class CapConfig:
    max_train: int | None = None
    max_test: int | None = None


@dataclass
class GlyphSplitConfig(CapConfig):
    test_size: float = 0.2
    # name -> regex: families declared apart although they are one design's weights and slants
    join_families: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_range(self.test_size, 0.05, 0.5, "params.yaml:split.glyphs.test_size")
        for name, pattern in self.join_families.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"join_families.{name}: not a regular expression ({exc})") from None


def family_groups(families: np.ndarray, join_families: dict[str, str]) -> np.ndarray:
    def group(family: str) -> str:
        return next((name for name, pattern in join_families.items() if re.search(pattern, family)), family)
    return np.array([group(str(family)) for family in families])


def grouped_split(image_set: ImageSet, groups: np.ndarray, test_size: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    folds = StratifiedGroupKFold(n_splits=round(1 / test_size), shuffle=True, random_state=seed)
    try:
        train, test = next(folds.split(np.zeros(len(image_set)), image_set.labels, groups))
    except ValueError as exc:
        raise GlyphgenError(
            f"params.yaml:split.glyphs.test_size: cannot split {len(set(groups))} font families ({exc})") from None
    return train, test


def cap(image_set: ImageSet, limit: int | None, seed: int, where: str) -> ImageSet:
    if limit is None or limit >= len(image_set):
        return image_set
    check_range(limit, len(image_set.class_names), len(image_set), where)  # at least one per class
    try:
        keep, _ = train_test_split(np.arange(len(image_set)), train_size=limit, stratify=image_set.labels,
                                   random_state=seed)
    except ValueError as exc:
        raise GlyphgenError(f"{where}: cannot subsample {limit} images stratified by class ({exc})") from None
    return image_set.subset(np.sort(keep))


def class_counts(train: ImageSet, test: ImageSet) -> pd.DataFrame:
    return pd.DataFrame({
        "class": train.class_names,
        "train": np.bincount(train.labels, minlength=len(train.class_names)),
        "test": np.bincount(test.labels, minlength=len(test.class_names)),
    })
