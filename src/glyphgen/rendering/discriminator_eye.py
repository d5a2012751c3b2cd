"""The discriminator's eye: real test images and generated ones, each titled with the discriminator's verdict
(the probability of being real, or a critic's score), real framed green and generated red."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from glyphgen.io import atomic_path
from glyphgen.models.shared.adversarial import AdversarialGenerator
from glyphgen.grids import to_uint8

REAL, GENERATED = (40, 190, 70), (220, 50, 50)
BACKGROUND, TEXT = (40, 40, 40), (235, 235, 235)
PADDING = 4
ROWS_EACH = 2  # rows of real images, then as many of generated ones


def tile_size(side: int, scale: int) -> tuple[int, int, int, int]:
    frame = max(2, scale)
    title = 10 + 2 * scale
    return side * scale + 2 * frame, title + side * scale + 2 * frame, frame, title


def panel_size(side: int, columns: int, scale: int) -> tuple[int, int]:
    width, height, _, title = tile_size(side, scale)
    return PADDING + columns * (width + PADDING), title + PADDING + 2 * ROWS_EACH * (height + PADDING)


@torch.no_grad()
def discriminator_eye(model: AdversarialGenerator, test_images: torch.Tensor, columns: int, seed: int,
                      scale: int) -> np.ndarray:
    """H x W x 3 uint8: ROWS_EACH rows of real test images (chosen by `seed`) over as many rows of samples (from
    noise fixed by `seed`), each under the discriminator's verdict on it."""
    count = ROWS_EACH * columns
    chosen = torch.randperm(len(test_images), generator=torch.Generator().manual_seed(seed))[:count]
    real = test_images[chosen]
    generated = model.sample(count, generator=torch.Generator().manual_seed(seed))
    images = torch.cat([real, generated])
    verdicts = model.verdicts(images).tolist()
    frames = [REAL] * len(real) + [GENERATED] * len(generated)
    return draw_panel(to_uint8(images), verdicts, frames, columns, scale,
                      f"{model.realness_label}: real framed green, generated red")


def draw_panel(images: np.ndarray, verdicts: list[float], frames: list[tuple[int, int, int]], columns: int,
               scale: int, header: str) -> np.ndarray:
    side = images.shape[-1]
    width, height, frame, title = tile_size(side, scale)
    panel = Image.new("RGB", panel_size(side, columns, scale), BACKGROUND)
    draw = ImageDraw.Draw(panel)
    font = ImageFont.load_default(size=title - 3)
    draw.text((PADDING, 1), header, fill=TEXT, font=font)
    for i, (image, verdict, colour) in enumerate(zip(images, verdicts, frames)):
        left = PADDING + (i % columns) * (width + PADDING)
        top = title + PADDING + (i // columns) * (height + PADDING)
        draw.text((left + frame, top), f"{verdict:.2f}", fill=TEXT, font=font)
        draw.rectangle((left, top + title, left + width - 1, top + height - 1), fill=colour)
        enlarged = Image.fromarray(image).resize((side * scale, side * scale), Image.NEAREST)
        panel.paste(enlarged.convert("RGB"), (left + frame, top + title + frame))
    return np.asarray(panel)


def save_rgb_png(path, picture: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(picture).save(tmp, format="PNG")
