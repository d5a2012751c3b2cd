"""What ae and conv_ae share: an autoencoder that samples by decoding draws from a Gaussian fit of its codes.

An autoencoder has no prior to sample from, so each keeps a running Gaussian fit (mean and full covariance)
of the codes it produced in training and decodes draws from that; `sample` then shows what the code space
holds rather than noise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import adam, optimizer_step


class CodeDistribution(nn.Module):
    """Running mean and covariance of the codes seen in training; samples N(mean, cov) codes."""

    def __init__(self, dim: int, momentum: float = 0.01) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("covariance", torch.eye(dim))

    @torch.no_grad()
    def update(self, codes: torch.Tensor) -> None:
        codes = codes.float()
        self.mean.lerp_(codes.mean(0), self.momentum)
        self.covariance.lerp_(torch.cov(codes.T).reshape_as(self.covariance), self.momentum)

    def sample(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        jitter = 1e-5 * torch.eye(len(self.mean), device=self.mean.device)
        scale = torch.linalg.cholesky(self.covariance + jitter)
        noise = torch.randn(n, len(self.mean), device=self.mean.device, generator=generator)
        return self.mean + noise @ scale.T


class Autoencoder(Generator):
    """Shared by ae and conv_ae: subclasses build `encoder` (image -> code) and `decoder` (code -> logits)."""

    has_encoder = True
    encoder: nn.Module
    decoder: nn.Module

    def __init__(self, config, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        self.codes = CodeDistribution(config.latent_dim)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"autoencoder": adam(self, self.config.lr)}

    def corrupt(self, images: torch.Tensor) -> torch.Tensor:
        """The network's input; a denoising autoencoder sees noised images but must reproduce clean ones."""
        return images

    def train_step(self, images, labels, optimizers):
        codes = self.encoder(self.corrupt(images))
        logits = self.decoder(codes)
        if self.config.loss == "bce":
            loss = F.binary_cross_entropy_with_logits(logits, images)
        else:
            loss = F.mse_loss(torch.sigmoid(logits), images)
        optimizer_step(optimizers["autoencoder"], loss)
        self.codes.update(codes.detach())
        return {"loss": loss.detach()}

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(codes))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.decode(self.codes.sample(n, generator))
