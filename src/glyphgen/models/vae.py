"""`vae`: convolutional variational autoencoder (Kingma & Welling), loss = BCE summed over pixels + KL."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.errors import GlyphgenError
from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.code_mixture import SamplesFromCodeMixture
from glyphgen.models.shared.blocks import (adam, conv_encoder, conv_image_decoder, halvings_to, kl_to_standard_normal,
                                           optimizer_step, reparameterise)
from glyphgen.params import check_non_negative, check_positive


@dataclass
class VAEConfig:
    channels: tuple[int, ...] = (32, 64, 64)
    levels: int = 0  # stride-2 convs; 0: as many as keep the smallest map at least 7 x 7
    kernel_size: int = 3
    hidden: int = 128
    latent_dim: int = 16
    kl_weight: float = 0.25
    mixture_components: int = 50  # fitted to the posterior means; 0: sample the prior, as the paper
    lr: float = 2e-3
    batch_size: int = 32

    def __post_init__(self) -> None:
        check_positive(self, "channels", "kernel_size", "hidden", "latent_dim", "lr", "batch_size")
        check_non_negative(self, "levels", "kl_weight", "mixture_components")


class VAE(SamplesFromCodeMixture, Generator):
    """BatchNorm in the encoder only, so the decoder is the same function in training and sampling. A KL weight
    of 0.25 by default, for sharper reconstructions."""

    name = "vae"
    config_class = VAEConfig
    presets = {
        "default": VAEConfig(),
        "reference": VAEConfig(channels=(32, 64), levels=2, hidden=16, latent_dim=2, kl_weight=1.0,
                               mixture_components=0, lr=1e-3, batch_size=128),
        "tiny": VAEConfig(channels=(4, 8, 8), hidden=8, mixture_components=2),  # for tests
    }
    has_encoder = True

    def __init__(self, config: VAEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        levels = config.levels or halvings_to(image_size, smallest=7)
        if levels == 0:  # an odd side: no stride-2 conv halves it
            raise GlyphgenError(f"vae: stride-2 convs need an even image side, got {image_size}")
        if len(config.channels) < levels or image_size % 2**levels:
            raise GlyphgenError(f"channels: expected at least {levels} widths and an image side divisible by "
                                f"{2**levels}, got {config.channels} and {image_size}")
        channels = config.channels[:levels]
        side = image_size // 2**levels
        features = channels[-1] * side * side
        self.encoder = nn.Sequential(
            conv_encoder(channels, config.kernel_size, batch_norm=True),  # C x S/2^levels x S/2^levels
            nn.Flatten(),
            nn.Linear(features, config.hidden),
            nn.ReLU(),
        )
        self.to_mu = nn.Linear(config.hidden, config.latent_dim)
        self.to_log_var = nn.Linear(config.hidden, config.latent_dim)
        self.decoder = conv_image_decoder(config.latent_dim, channels, config.kernel_size, image_size)

        self.build_code_mixture()

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(images)
        return self.to_mu(hidden), self.to_log_var(hidden)

    def configure_optimizers(self):
        return {"vae": adam(self, self.config.lr)}

    def train_step(self, images, labels, optimizers):
        mu, log_var = self.posterior(images)
        logits = self.decoder(reparameterise(mu, log_var))
        pixels = images[0].numel()
        reconstruction = F.binary_cross_entropy_with_logits(logits, images) * pixels  # summed over pixels
        kl = kl_to_standard_normal(mu, log_var)
        loss = reconstruction + self.config.kl_weight * kl
        optimizer_step(optimizers["vae"], loss)
        return {"loss": loss.detach(), "reconstruction": reconstruction.detach(), "kl": kl.detach()}

    def encode(self, images):
        return self.posterior(images)[0]

    def decode(self, codes):
        return torch.sigmoid(self.decoder(codes))


MODEL = VAE
