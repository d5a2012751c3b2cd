"""`aae`: adversarial autoencoder (Makhzani et al. 2015) with a Gaussian prior imposed by a latent discriminator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
    latent_dim: int = 32
    # The tutorial's encoder outputs a mean and log-variance and samples the code from them; the paper's
    # deterministic encoder (false) gives the discriminator the codes the decoder is trained on.
    stochastic_encoder: bool = False
    # bce: sigmoid outputs and cross-entropy on [0, 1] pixels; tanh_mse: the tutorial's tanh outputs and MSE.
    reconstruction: Literal["bce", "tanh_mse"] = "bce"
    discriminator_hidden: tuple[int, ...] = (256, 256)
    reconstruction_weight: float = 1.0
    adversarial_weight: float = 0.1
    lr: float = 1e-3
    beta1: float = 0.5
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_positive(self, "hidden", "latent_dim", "discriminator_hidden", "lr", "batch_size")
        check_non_negative(self, "reconstruction_weight", "adversarial_weight")
        check_fraction(self, "beta1")


class AAE(Generator):
    """Encoder pixels -> hidden (LeakyReLU 0.2) -> z; decoder z -> hidden -> pixels; a latent discriminator.

    Each step has two phases: (1) the autoencoder minimises the reconstruction loss plus the adversarial loss
    of its codes fooling the discriminator; (2) the discriminator learns N(0, I) prior samples (real) from
    encoded images (fake). Sampling decodes prior draws, so how well the codes fill N(0, I) decides whether
    samples land on glyphs or in the blurry holes between them.

    Default vs reference (the tutorial: stochastic encoder to a 10-d code, tanh + MSE, weights 0.999 / 0.001,
    a 1024-512-256 discriminator, Adam 2e-4, batch 16): a deterministic encoder to a 32-d code, sigmoid + BCE,
    adversarial weight 0.1 against reconstruction 1, a 256-256 discriminator, Adam 1e-3 for both players,
    batch 64 (16-image steps are mostly overhead on a CPU). An adversarial weight of 0.001 leaves the codes
    far from N(0, I), so prior draws decode to blends of a few characters. Measured by
    benchmarks/quality_vs_time.py on KMNIST (CPU seconds of one thread; FID, class entropy on 10,000 samples):
    default 279.0 / 0.813 at 30 s, 363.4 / 0.853 at 60 s, 306.4 / 0.765 at 120 s; reference 455.3 / 0.519,
    413.8 / 0.567, 369.5 / 0.656. The adversarial game makes the default's curve uneven; in a scratch sweep
    of the same architecture 8-, 16-, 32- and 64-d codes reached about 258, 231, 213 and (at 60 s) 304.
    """

    name = "aae"
    config_class = AAEConfig
    presets = {
        "default": AAEConfig(),
        "reference": AAEConfig(latent_dim=10, stochastic_encoder=True, reconstruction="tanh_mse",
                               discriminator_hidden=(1024, 512, 256), reconstruction_weight=0.999,
                               adversarial_weight=0.001, lr=2e-4, batch_size=16),
    }
    has_encoder = True

    def __init__(self, config: AAEConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        pixels = image_size * image_size
        activation = nn.LeakyReLU(0.2)
        code_outputs = 2 * config.latent_dim if config.stochastic_encoder else config.latent_dim  # mean (, log-var)
        self.encoder = nn.Sequential(nn.Flatten(), mlp([pixels, *config.hidden, code_outputs], activation))
        output = nn.Tanh() if config.reconstruction == "tanh_mse" else None  # BCE takes the logits
        self.decoder = nn.Sequential(
            mlp([config.latent_dim, *reversed(config.hidden), pixels], activation, output),
            nn.Unflatten(1, self.image_shape),
        )
        self.discriminator = mlp([config.latent_dim, *config.discriminator_hidden, 1], activation)  # logits

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def configure_optimizers(self):
        autoencoder = nn.ModuleList([self.encoder, self.decoder])
        return {
            "autoencoder": adam(autoencoder, self.config.lr, self.config.beta1),
            "discriminator": adam(self.discriminator, self.config.lr, self.config.beta1),
        }

    def code_distribution(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The code's mean and, for a stochastic encoder, its log-variance (else None)."""
        outputs = self.encoder(to_tanh_range(images))
        if not self.config.stochastic_encoder:
            return outputs, None
        mean, log_var = outputs.chunk(2, dim=1)
        return mean, log_var

    def train_step(self, images, labels, optimizers):
        mean, log_var = self.code_distribution(images)
        codes = mean if log_var is None else reparameterise(mean, log_var)
        reconstruction = self.reconstruction_loss(self.decoder(codes), images)
        fooling = generator_loss(self.discriminator(codes))
        autoencoder_loss = self.config.reconstruction_weight * reconstruction + self.config.adversarial_weight * fooling
        optimizer_step(optimizers["autoencoder"], autoencoder_loss)

        prior = prior_noise(len(images), self.latent_dim, images.device, None)
        critic = discriminator_loss(self.discriminator(prior), self.discriminator(codes.detach()))
        optimizer_step(optimizers["discriminator"], critic)
        return {"loss": autoencoder_loss.detach(), "reconstruction": reconstruction.detach(),
                "discriminator": critic.detach()}

    def reconstruction_loss(self, outputs: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        if self.config.reconstruction == "tanh_mse":
            return F.mse_loss(outputs, to_tanh_range(images))
        return F.binary_cross_entropy_with_logits(outputs, images)

    def encode(self, images):
        return self.code_distribution(images)[0]

    def decode(self, codes):
        outputs = self.decoder(codes)
        return from_tanh_range(outputs) if self.config.reconstruction == "tanh_mse" else torch.sigmoid(outputs)

    def sample(self, n, generator=None):
        return self.decode(prior_noise(n, self.latent_dim, self.device, generator))


MODEL = AAE
