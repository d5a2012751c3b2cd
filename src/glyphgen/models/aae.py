"""`aae`: adversarial autoencoder (Makhzani et al. 2015) with a Gaussian prior imposed by a latent discriminator."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import (adam, discriminator_loss, from_tanh_range, generator_loss, mlp,
                                           optimizer_step, prior_noise, reparameterise, to_tanh_range)
from glyphgen.params import check_fraction, check_non_negative, check_positive


@dataclass
class AAEConfig:
    hidden: tuple[int, ...] = (512, 512)
    latent_dim: int = 10
    discriminator_hidden: tuple[int, ...] = (512, 256)
    reconstruction_weight: float = 0.999
    adversarial_weight: float = 0.001
    lr: float = 2e-4
    beta1: float = 0.5
    batch_size: int = 128

    def __post_init__(self) -> None:
        check_positive(self, "hidden", "latent_dim", "discriminator_hidden", "lr", "batch_size")
        check_non_negative(self, "reconstruction_weight", "adversarial_weight")
        check_fraction(self, "beta1")


class AAE(Generator):
    """Encoder pixels -> hidden (LeakyReLU 0.2) -> (mu, log-variance) -> z; decoder z -> hidden -> pixels (tanh).

    Each step has two phases: (1) the autoencoder minimises weighted MSE reconstruction plus the adversarial
    loss of its codes fooling the discriminator; (2) the discriminator learns N(0, I) prior samples (real)
    from encoded samples (fake). Sampling decodes prior draws.

    Default vs reference: batch 128 instead of 16 (a CPU runs 16-image steps mostly on overhead) and a
    512-256 latent discriminator instead of 1024-512-256.
    """

    name = "aae"
    config_class = AAEConfig
    presets = {
        "default": AAEConfig(),
        "reference": AAEConfig(discriminator_hidden=(1024, 512, 256), batch_size=16),
    }
    has_encoder = True

    def __init__(self, config: AAEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        pixels = image_size * image_size
        activation = nn.LeakyReLU(0.2)
        self.encoder = nn.Sequential(nn.Flatten(), mlp([pixels, *config.hidden], activation, activation))
        self.to_mu = nn.Linear(config.hidden[-1], config.latent_dim)
        self.to_log_var = nn.Linear(config.hidden[-1], config.latent_dim)
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, *reversed(config.hidden), pixels], activation, nn.Tanh()),
            nn.Unflatten(1, self.image_shape),
        )
        self.discriminator = mlp([config.latent_dim, *config.discriminator_hidden, 1], activation)  # logits

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(to_tanh_range(images))
        return self.to_mu(hidden), self.to_log_var(hidden)

    def configure_optimizers(self):
        autoencoder = nn.ModuleList([self.encoder, self.to_mu, self.to_log_var, self.decoder])
        return {
            "autoencoder": adam(autoencoder, self.config.lr, self.config.beta1),
            "discriminator": adam(self.discriminator, self.config.lr, self.config.beta1),
        }

    def train_step(self, images, labels, optimizers):
        codes = reparameterise(*self.posterior(images))
        reconstruction = F.mse_loss(self.decoder(codes), to_tanh_range(images))
        fooling = generator_loss(self.discriminator(codes))
        autoencoder_loss = self.config.reconstruction_weight * reconstruction + self.config.adversarial_weight * fooling
        optimizer_step(optimizers["autoencoder"], autoencoder_loss)

        prior = prior_noise(len(images), self.latent_dim, images.device, None)
        critic = discriminator_loss(self.discriminator(prior), self.discriminator(codes.detach()))
        optimizer_step(optimizers["discriminator"], critic)
        return {"loss": autoencoder_loss.detach(), "reconstruction": reconstruction.detach(),
                "discriminator": critic.detach()}

    def encode(self, images):
        return self.posterior(images)[0]

    def decode(self, codes):
        return from_tanh_range(self.decoder(codes))

    def sample(self, n, generator=None):
        return self.decode(prior_noise(n, self.latent_dim, self.device, generator))


MODEL = AAE
