"""`conv_ae`: convolutional autoencoder, optionally denoising."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from glyphgen.models.shared.autoencoding import Autoencoder
from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.blocks import conv_encoder, conv_image_decoder
from glyphgen.params import check_non_negative, check_positive


@dataclass
class ConvAEConfig:
    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    latent_dim: int = 32
    loss: Literal["mse", "bce"] = "bce"
    denoise: bool = False
    noise_std: float = 0.5
    mixture_components: int = 50  # 1: one Gaussian
    lr: float = 3e-3
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_positive(self, "channels", "kernel_size", "latent_dim", "mixture_components", "lr", "batch_size")
        check_non_negative(self, "noise_std")


class ConvAE(Autoencoder):
    """A 32-d code and a code mixture by default: the reference's 128-d code space is far from Gaussian."""

    name = "conv_ae"
    config_class = ConvAEConfig
    presets = {"default": ConvAEConfig(),
               "reference": ConvAEConfig(latent_dim=128, mixture_components=1, lr=1e-3, batch_size=128),
               "tiny": ConvAEConfig(channels=(4, 8), latent_dim=8, mixture_components=2)}  # for tests

    def __init__(self, config: ConvAEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        if not config.channels or image_size % 2 ** len(config.channels):
            levels = len(config.channels)
            raise GlyphgenError(f"conv_ae: {levels} stride-2 convs (channels {list(config.channels)}) need an image "
                                f"side divisible by {2**levels}, got {image_size}")
        side = image_size // 2 ** len(config.channels)
        features = config.channels[-1] * side * side
        self.encoder = nn.Sequential(
            conv_encoder(config.channels, config.kernel_size, batch_norm=False),  # C x S/4 x S/4
            nn.Flatten(),
            nn.Linear(features, config.latent_dim),
        )
        self.decoder = conv_image_decoder(config.latent_dim, config.channels, config.kernel_size, image_size)

    def corrupt(self, images: torch.Tensor) -> torch.Tensor:
        if not self.config.denoise:
            return images
        return (images + self.config.noise_std * torch.randn_like(images)).clamp(0, 1)


MODEL = ConvAE
