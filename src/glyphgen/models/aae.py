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
    # The tutorial's; the paper's deterministic one shows the discriminator the codes the decoder is trained on.
    stochastic_encoder: bool = False
    mixture_components: int = 50  # 0: sample the prior, as the paper

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative(self, "mixture_components")


class AAE(SamplesFromCodeMixture, AdversarialAutoencoder):
    """An adversarial weight of 0.1 by default: at the tutorial's 0.001 the codes stay far from N(0, I); and a
    code mixture, since a short run leaves the codes unevenly spread (docs/experiments.md)."""

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
