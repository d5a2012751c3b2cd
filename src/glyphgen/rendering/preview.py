"""The data preview: a row per class, so a reader sees what the models learn before any of them is shown."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glyphgen.io import ImageSet
from glyphgen.params import check_range
from glyphgen.grids import BACKGROUND, tile


@dataclass
class PreviewParams:
    columns: int = 10  # images per class (row)
    seed: int = 0
    scale: int = 2

    def __post_init__(self) -> None:
        check_range(self.columns, 1, 100, "params.yaml:preview.columns")
        check_range(self.scale, 1, 10, "params.yaml:preview.scale")


def preview_rows(image_set: ImageSet, columns: int, seed: int) -> list[np.ndarray]:
    """Originals and one per font first, so a row shows the character in as many fonts as it can."""
    order = np.random.default_rng(seed).permutation(len(image_set))
    if "augmented" in image_set.extras:
        order = order[np.argsort(image_set.extras["augmented"][order], kind="stable")]
    fonts = image_set.extras.get("font")
    rows = []
    for label in range(len(image_set.class_names)):
        members = order[image_set.labels[order] == label]
        if fonts is not None:
            _, first = np.unique(fonts[members], return_index=True)
            is_first = np.zeros(len(members), dtype=bool)
            is_first[first] = True
            members = np.concatenate([members[is_first], members[~is_first]])
        rows.append(members[:columns])
    return rows


def data_preview(image_set: ImageSet, columns: int, seed: int) -> np.ndarray:
    """Rows in side-by-side blocks near square: 52 letters in one strip are too tall to read at page width."""
    side, classes = image_set.image_size, len(image_set.class_names)
    tiles = np.zeros((classes * columns, side, side), dtype=np.uint8)
    for row, indices in enumerate(preview_rows(image_set, columns, seed)):
        tiles[row * columns : row * columns + len(indices)] = image_set.images[indices]
    blocks = max(1, round(math.sqrt(classes / columns)))
    rows_per_block = math.ceil(classes / blocks)
    pictures = [tile(tiles[start * columns : (start + rows_per_block) * columns], columns)
                for start in range(0, classes, rows_per_block)]
    height = max(picture.shape[0] for picture in pictures)
    gap = np.full((height, side // 2), BACKGROUND, dtype=np.uint8)
    padded = [np.pad(picture, ((0, height - picture.shape[0]), (0, 0)), constant_values=BACKGROUND)
              for picture in pictures]
    return np.hstack([part for picture in padded for part in (gap, picture)][1:])
