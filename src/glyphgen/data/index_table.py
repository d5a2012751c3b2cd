"""The human-readable index that sits beside every glyph image set: one CSV row per image."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from glyphgen.io import ImageSet, atomic_path


def write_index(path: Path, image_set: ImageSet) -> None:
    """CSV with columns row, character, font, source_glyph (+ any other extras) for `image_set`."""
    table = pd.DataFrame({"row": range(len(image_set)),
                          "character": [image_set.class_names[label] for label in image_set.labels],
                          **image_set.extras})
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")
