"""The human-readable index that sits beside every glyph image set: one CSV row per image."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from glyphgen.io import ImageSet, atomic_path, save_image_set


def write_index(path: Path, image_set: ImageSet) -> None:
    """CSV with columns row, character, font, family, source_glyph (+ any other extras) for `image_set`."""
    table = pd.DataFrame({"row": range(len(image_set)),
                          "character": [image_set.class_names[label] for label in image_set.labels],
                          **image_set.extras})
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")


def save_glyph_folder(folder: Path, image_set: ImageSet) -> None:
    """Write `folder` with glyphs.npz and its index.csv, all at once: a failed write leaves no folder."""
    with atomic_path(folder) as out:
        out.mkdir()
        save_image_set(out / "glyphs.npz", image_set)
        write_index(out / "index.csv", image_set)
