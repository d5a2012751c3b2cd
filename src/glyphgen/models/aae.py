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
    Re-measured with one CPU thread per run (same judge, 10,000 samples): the default reached 339 / 0.661 at
    90 s and 241 / 0.823 at 180 s, a 16-d code at weight 0.3 240 / 0.827 then 327 / 0.668, an exponential
    average of the weights (0.999) 349 / 0.661 at 120 s; annealing the learning rate over the run (params
    `lr_schedule: cosine`, over 10,500 steps) 198 / 0.879 at 120 s and 190.5 / 0.887 at 180 s, the only change
    that settled the game, so params.yaml anneals the KMNIST run. A stochastic encoder with BCE diverged.

    Samples decode draws from a 50-component Gaussian mixture fitted to the training images' codes after
    training (as vae's; `mixture_components: 0` samples the prior as the paper does): in a short run the codes
    fill N(0, I) unevenly, so prior draws over-sample some characters and land between others. With the KMNIST
    run's cosine schedule over its 6,563 steps (scratch sweep, one thread, same judge, 10,000 samples, the same
    weights sampled three ways): at 60 CPU-s prior 278.9 / 0.743, 10 components 213.0 / 0.876, 50 components
    180.4 / 0.939; at 115 s prior 227.7 / 0.815, 10 components 177.8 / 0.915, 50 components 141.1 / 0.958. In
    the same sweep adversarial weight 0.3 gave 267.5 (prior) and 228.6 (50 components) at 115 s, a 16-d code
    234.4 (prior).
    """

    name = "aae"
    config_class = AAEConfig
    presets = {
        "default": AAEConfig(),
        "reference": AAEConfig(latent_dim=10, stochastic_encoder=True, reconstruction="tanh_mse",
                               discriminator_hidden=(1024, 512, 256), reconstruction_weight=0.999,
                               adversarial_weight=0.001, lr=2e-4, batch_size=16, mixture_components=0),
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
