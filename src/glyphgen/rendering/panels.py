"""The still pictures of one model, and the grid of real test images they are compared with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.style_transfer import style_in_categories
from glyphgen.params import check_range
from glyphgen.grids import tile, to_uint8


@dataclass
class RenderParams:
    seed: int = 0  # fixes the sample-grid and morph noise, so versions of a model compare picture to picture
    grid_columns: int = 8
    reconstructions: int = 10
    manifold_steps: int = 15
    morph_steps: int = 24
    morph_from: int = 0  # test-split indices of the two glyphs the morph walks between
    morph_to: int = 1
    scale: int = 3

    def __post_init__(self) -> None:
        for name in ("grid_columns", "reconstructions", "manifold_steps", "scale"):
            check_range(getattr(self, name), 1, 100, f"params.yaml:render.{name}")
        check_range(self.morph_steps, 2, 1000, "params.yaml:render.morph_steps")


@torch.no_grad()
def sample_grid(generator: Generator, columns: int, seed: int) -> np.ndarray:
    """Fixed noise, so two versions of a model are drawn alike."""
    rng = torch.Generator().manual_seed(seed)
    return tile(to_uint8(generator.sample(columns * columns, generator=rng)), columns)


def real_grid(images: torch.Tensor, columns: int, seed: int) -> np.ndarray:
    chosen = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[: columns * columns]
    return tile(to_uint8(images[chosen]), columns)


@torch.no_grad()
def reconstruction_pairs(generator: Generator, images: torch.Tensor) -> np.ndarray:
    pairs = torch.cat([images, generator.reconstruct(images.to(generator.device)).float().cpu()])
    return tile(to_uint8(pairs), columns=len(images))


@torch.no_grad()
def latent_manifold(generator: Generator, steps: int, test_images: torch.Tensor | None = None) -> np.ndarray:
    """With an encoder, the grid spans the encoded test images: plain autoencoders put codes anywhere."""
    if generator.latent_dim != 2:
        raise ValueError(f"{generator.name}: latent manifold needs a 2-D latent space, got {generator.latent_dim}")
    if generator.has_encoder and test_images is not None:
        codes = generator.encode(test_images.to(generator.device)).float().cpu()
        low, high = torch.quantile(codes, 0.02, dim=0), torch.quantile(codes, 0.98, dim=0)
        axes = [torch.linspace(float(low[i]), float(high[i]), steps) for i in range(2)]
    else:
        quantiles = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, steps))
        axes = [quantiles, quantiles]
    rows, cols = torch.meshgrid(axes[1].flip(0), axes[0], indexing="ij")  # second axis grows upwards
    codes = torch.stack([cols.flatten(), rows.flatten()], dim=1)
    return tile(to_uint8(generator.decode(codes.to(generator.device))), columns=steps)


@torch.no_grad()
def category_grid(generator: Generator, styles: int, seed: int, style_rows: bool) -> np.ndarray:
    """`style_rows`: one style across all categories, as the alphabet; else a row per category (a cluster's
    members side by side)."""
    rng = torch.Generator().manual_seed(seed)
    categories = torch.arange(generator.categories)
    mixtures = generator.styles
    if style_rows:
        if mixtures is None:
            sources, drawn = None, torch.randn((styles, generator.style_dim), generator=rng)
        else:
            sources = mixtures.sample_categories(styles, rng)
            drawn = mixtures.sample_styles(sources, rng)
        style = style_in_categories(generator, drawn, categories, sources)
        categories, columns = categories.repeat(styles), len(categories)
    else:
        categories, columns = categories.repeat_interleave(styles), styles
        style = (torch.randn((styles, generator.style_dim), generator=rng).repeat(generator.categories, 1)
                 if mixtures is None else mixtures.sample_styles(categories, rng))
    return tile(to_uint8(generator.decode_categories(style, categories)), columns)


@torch.no_grad()
def alphabet_grid(generator: Generator, glyphs: torch.Tensor) -> np.ndarray:
    """One row per glyph: the glyph itself, then every class drawn in its style."""
    categories = torch.arange(generator.categories)
    styles = generator.encode_style(glyphs.to(generator.device))
    drawn = generator.decode_categories(style_in_categories(generator, styles, categories),
                                        categories.repeat(len(glyphs)))
    rows = [torch.cat([glyph[None].to(drawn.device), row]) for glyph, row in zip(glyphs, drawn.split(len(categories)))]
    return tile(to_uint8(torch.cat(rows)), len(categories) + 1)
