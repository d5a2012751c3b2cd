"""What ae and conv_ae share. An autoencoder has no prior, so it samples from a mixture fitted to its codes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import adam, optimizer_step
from glyphgen.models.shared.code_mixture import SamplesFromCodeMixture


class Autoencoder(SamplesFromCodeMixture, Generator):
    """Subclasses build `encoder` (image -> code) and `decoder` (code -> logits)."""

    has_encoder = True
    encoder: nn.Module
    decoder: nn.Module

    def __init__(self, config, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        self.build_code_mixture()

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"autoencoder": adam(self, self.config.lr)}

    def corrupt(self, images: torch.Tensor) -> torch.Tensor:
        """A denoising autoencoder sees noised images but must reproduce clean ones."""
        return images

    def train_step(self, images, labels, optimizers):
        codes = self.encoder(self.corrupt(images))
        logits = self.decoder(codes)
        if self.config.loss == "bce":
            loss = F.binary_cross_entropy_with_logits(logits, images)
        else:
            loss = F.mse_loss(torch.sigmoid(logits), images)
        optimizer_step(optimizers["autoencoder"], loss)
        return {"loss": loss.detach()}

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(codes))
