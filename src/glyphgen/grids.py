"""Image grids: the one way any part of glyphgen turns a batch of glyphs into a picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from glyphgen.io import atomic_path


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[0, 1] float tensor, N x 1 x H x W (or N x H x W) -> uint8 numpy N x H x W."""
    images = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    return images.reshape(images.shape[0], images.shape[-2], images.shape[-1])


BACKGROUND = 40  # dark grey, so black glyph borders show


def tile(images: np.ndarray, columns: int, padding: int = 2, background: int = BACKGROUND) -> np.ndarray:
    count, height, width = images.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    canvas = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding), background, dtype=np.uint8
    )
    for i, image in enumerate(images):
        top = padding + (i // columns) * (height + padding)
        left = padding + (i % columns) * (width + padding)
        canvas[top : top + height, left : left + width] = image
    return canvas


def save_png(path: str | Path, picture: np.ndarray, scale: int = 1) -> None:
    image = Image.fromarray(picture, mode="L")
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
