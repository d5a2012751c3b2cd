"""Plain autoencoders: `ae` (MLP) and `conv_ae` (convolutional, optionally denoising).

An autoencoder has no prior to sample from, so each keeps a running Gaussian fit (mean and full covariance)
of the codes it produced in training and decodes draws from that; `sample` then shows what the code space
holds rather than noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.models.base import Generator
from glyphgen.models.blocks import adam, conv_decoder, conv_encoder, mlp, optimizer_step


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


@dataclass
class AEConfig:
    hidden: tuple[int, ...] = (512, 512)
    latent_dim: int = 2
    loss: Literal["mse", "bce"] = "mse"
    lr: float = 1e-3
    batch_size: int = 128


class AE(Autoencoder):
    """MLP autoencoder: pixels -> hidden (ReLU) -> z -> hidden (ReLU) -> pixels (sigmoid).

    Default vs reference: hidden 512-512 instead of 1000-1000 (about a third of the multiply-adds) for the CPU budget.
    """

    name = "ae"
    config_class = AEConfig
    presets = {"default": AEConfig(), "reference": AEConfig(hidden=(1000, 1000), latent_dim=2, loss="mse")}

    def __init__(self, config: AEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        pixels = image_size * image_size
        self.encoder = nn.Sequential(nn.Flatten(), mlp([pixels, *config.hidden, config.latent_dim], nn.ReLU()))
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, *reversed(config.hidden), pixels], nn.ReLU()), nn.Unflatten(1, self.image_shape)
        )


@dataclass
class ConvAEConfig:
    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    latent_dim: int = 16
    loss: Literal["mse", "bce"] = "bce"
    denoise: bool = False
    noise_std: float = 0.5
    lr: float = 1e-3
    batch_size: int = 128


class ConvAE(Autoencoder):
    """Convolutional autoencoder: two stride-2 convs, a dense code, the mirrored transposed convs, BCE.

    With `denoise` it trains on Gaussian-noised inputs against the clean images. The sigmoid output and BCE
    are computed together as BCE-with-logits (the same loss, numerically stable).

    Default vs reference: a 16-d code instead of 128-d. Samples decode draws from a Gaussian fitted to the
    codes, and a 128-d code space is far from Gaussian: on KMNIST (20000 images, 2 epochs) the 16-d samples
    showed whole strokes where the 128-d ones were fragments (judged by eye on the sample grids).
    """

    name = "conv_ae"
    config_class = ConvAEConfig
    presets = {"default": ConvAEConfig(), "reference": ConvAEConfig(latent_dim=128)}

    def __init__(self, config: ConvAEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        side = image_size // 2 ** len(config.channels)
        feature_shape = (config.channels[-1], side, side)
        features = config.channels[-1] * side * side
        self.encoder = nn.Sequential(
            conv_encoder(config.channels, config.kernel_size, batch_norm=False),  # C x S/4 x S/4
            nn.Flatten(),
            nn.Linear(features, config.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, features),
            nn.ReLU(),
            nn.Unflatten(1, feature_shape),
            conv_decoder(config.channels, config.kernel_size, batch_norm=False),  # 1 x S x S logits
        )

    def corrupt(self, images: torch.Tensor) -> torch.Tensor:
        if not self.config.denoise:
            return images
        return (images + self.config.noise_std * torch.randn_like(images)).clamp(0, 1)
