"""A morph animation: decode a straight walk through latent space between two glyphs and save it as a GIF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from glyphgen.io import atomic_path
from glyphgen.models.shared.base import Generator
from glyphgen.grids import to_uint8


@torch.no_grad()
def morph_frames(generator: Generator, steps: int, start: torch.Tensor, end: torch.Tensor, seed: int) -> np.ndarray:
    """uint8 frames (steps x H x W) between two glyphs: from the codes of `start` and `end` (images
    1 x H x W) when the model has an encoder, else between two noise vectors drawn under `seed`."""
    if generator.has_encoder:
        codes = generator.encode(torch.stack([start, end]).to(generator.device)).float().cpu()
    else:
        codes = torch.randn((2, generator.latent_dim), generator=torch.Generator().manual_seed(seed))
    weights = torch.linspace(0, 1, steps)[:, None]
    path = (1 - weights) * codes[0] + weights * codes[1]
    return to_uint8(generator.decode(path.to(generator.device)))


def loop_order(count: int, hold: int) -> list[int]:
    """Frame indices of a smooth loop over `count` frames: forth, then back, each end shown `hold` frames long
    (so the eye rests on the two glyphs), and the back walk stops short of the first frame, where the loop
    starts again."""
    return [0] * hold + list(range(1, count - 1)) + [count - 1] * hold + list(range(count - 2, 0, -1))


def save_gif(path: str | Path, frames: np.ndarray, scale: int = 3, frame_ms: int = 80, hold: int = 6) -> None:
    """Loop forth and back (`loop_order`), enlarged with crisp pixels; written atomically."""
    images = [Image.fromarray(frames[i], mode="L") for i in loop_order(len(frames), hold)]
    images = [image.resize((image.width * scale, image.height * scale), Image.NEAREST) for image in images]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
