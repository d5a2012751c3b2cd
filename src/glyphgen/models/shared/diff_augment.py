"""Differentiable augmentation for GAN discriminators (DiffAugment, Zhao et al. 2020).

The discriminator sees real and generated images through the same random translation and cutout, and the
generator learns through them (both are differentiable in the pixels). A discriminator that never sees an
image twice in the same place cannot memorise the few thousand training glyphs, so its gradients keep
pointing at strokes rather than at pixel noise. Images are in [-1, 1]: what the shift uncovers and what the
cutout removes is background (-1), never grey.
"""

from __future__ import annotations

from typing import Literal

import torch

Augmentation = Literal["translation", "cutout"]
BACKGROUND = -1.0


def diff_augment(images: torch.Tensor, policy: tuple[Augmentation, ...]) -> torch.Tensor:
    """`images` (B x C x H x W) through each augmentation of `policy` in turn, each image drawn its own way."""
    for name in policy:
        images = AUGMENTATIONS[name](images)
    return images


def translation(images: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its side in each direction (whole pixels), filling with background."""
    batch, _, height, width = images.shape
    shift = max(1, round(height * ratio))
    padded = torch.nn.functional.pad(images, [shift] * 4, value=BACKGROUND)
    offsets = torch.randint(0, 2 * shift + 1, (2, batch, 1), device=images.device)
    rows = (torch.arange(height, device=images.device) + offsets[0])[:, None, :, None]  # B x 1 x H x 1
    columns = (torch.arange(width, device=images.device) + offsets[1])[:, None, None, :]  # B x 1 x 1 x W
    picked_rows = padded.gather(2, rows.expand(-1, images.shape[1], -1, padded.shape[3]))
    return picked_rows.gather(3, columns.expand(-1, images.shape[1], height, -1))


def cutout(images: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Blank one square of side `ratio` x the image's at a random place in each image (it may overhang)."""
    batch, _, height, width = images.shape
    size = max(1, round(height * ratio))
    corners = torch.randint(-(size // 2), height - size // 2 + 1, (2, batch, 1), device=images.device)
    rows = torch.arange(height, device=images.device) - corners[0]  # B x H: row minus the square's top
    columns = torch.arange(width, device=images.device) - corners[1]
    inside = ((rows >= 0) & (rows < size))[:, :, None] & ((columns >= 0) & (columns < size))[:, None, :]
    return images.masked_fill(inside[:, None], BACKGROUND)


AUGMENTATIONS = {"translation": translation, "cutout": cutout}
