"""`aae`: adversarial autoencoder (Makhzani et al. 2015) with a Gaussian prior imposed by a latent discriminator."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from glyphgen.models.shared.adversarial_autoencoder import AdversarialAutoencoder, AdversarialAutoencoderConfig
from glyphgen.models.shared.blocks import prior_noise, reparameterise
from glyphgen.models.shared.code_mixture import SamplesFromCodeMixture
from glyphgen.params import check_non_negative


@dataclass
class AAEConfig(AdversarialAutoencoderConfig):
    # The tutorial's encoder outputs a mean and log-variance and samples the code from them; the paper's
    # deterministic encoder (false) gives the discriminator the codes the decoder is trained on.
    stochastic_encoder: bool = False
    # Samples decode draws from a Gaussian mixture fitted to the training images' codes after training
    # (models/shared/code_mixture.py); 0 = draws from the prior N(0, I), as the paper samples.
    mixture_components: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative(self, "mixture_components")


class AAE(SamplesFromCodeMixture, AdversarialAutoencoder):
    """Encoder pixels -> hidden (LeakyReLU 0.2) -> z; decoder z -> hidden -> pixels; a latent discriminator.

    Each step has two phases: (1) the autoencoder minimises the reconstruction loss plus the adversarial loss
    of its codes fooling the discriminator; (2) the discriminator learns N(0, I) prior draws (real) from
    encoded images (fake).

    Defaults: a deterministic encoder, BCE and an adversarial weight of 0.1 (at the tutorial's 0.001 the codes
    stay far from N(0, I)), and samples from a mixture fitted to the codes, which a short run leaves unevenly
    spread (benchmarks/quality_vs_time.md, docs/experiments.md).
    """

    name = "aae"
    config_class = AAEConfig
    presets = {
        "default": AAEConfig(),
        "reference": AAEConfig(latent_dim=10, stochastic_encoder=True, reconstruction="tanh_mse",
                               discriminator_hidden=(1024, 512, 256), reconstruction_weight=0.999,
                               adversarial_weight=0.001, lr=2e-4, batch_size=16, mixture_components=0),
        "tiny": AAEConfig(hidden=(32,), discriminator_hidden=(16,), mixture_components=2),  # for tests
    }

    def __init__(self, config: AAEConfig, image_size: int, num_classes: int) -> None:
        code_outputs = 2 * config.latent_dim if config.stochastic_encoder else config.latent_dim  # mean (, log-var)
        super().__init__(config, image_size, num_classes, code_outputs, config.latent_dim)
        self.discriminator = self.code_discriminator(config.latent_dim)  # logits
        self.build_code_mixture()

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def configure_optimizers(self):
        return {"autoencoder": self.adam(self.encoder, self.decoder), "discriminator": self.adam(self.discriminator)}

    def code_distribution(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The code's mean and, for a stochastic encoder, its log-variance (else None)."""
        outputs = self.encoder_output(images)
        if not self.config.stochastic_encoder:
            return outputs, None
        mean, log_var = outputs.chunk(2, dim=1)
        return mean, log_var

    def train_step(self, images, labels, optimizers):
        mean, log_var = self.code_distribution(images)
        codes = mean if log_var is None else reparameterise(mean, log_var)
        losses = self.reconstruction_phase(images, codes, [(self.discriminator, codes)], optimizers["autoencoder"])
        prior = prior_noise(len(images), self.latent_dim, images.device, None)
        return losses | self.regularisation_phase(self.discriminator, optimizers["discriminator"], prior, codes)

    def encode(self, images):
        return self.code_distribution(images)[0]


MODEL = AAE
