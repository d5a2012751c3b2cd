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
    """Between the codes of `start` and `end` with an encoder, else between two noise vectors."""
    if generator.has_encoder:
        codes = generator.encode(torch.stack([start, end]).to(generator.device)).float().cpu()
    else:
        codes = torch.randn((2, generator.latent_dim), generator=torch.Generator().manual_seed(seed))
    weights = torch.linspace(0, 1, steps)[:, None]
    path = (1 - weights) * codes[0] + weights * codes[1]
    return to_uint8(generator.decode(path.to(generator.device)))


def loop_order(count: int, hold: int) -> list[int]:
    """Forth and back, each end held so the eye rests on the two glyphs."""
    return [0] * hold + list(range(1, count - 1)) + [count - 1] * hold + list(range(count - 2, 0, -1))


def save_gif(path: str | Path, frames: np.ndarray, scale: int = 3, frame_ms: int = 80, hold: int = 6) -> None:
    images = [Image.fromarray(frames[i], mode="L") for i in loop_order(len(frames), hold)]
    images = [image.resize((image.width * scale, image.height * scale), Image.NEAREST) for image in images]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
