"""What every GAN shares (`gan`, `dcgan`): one adversarial step. The discriminator learns real from generated
images, then the generator learns to fool it. Networks work in [-1, 1] (tanh); discriminators return logits.
"""

from __future__ import annotations

import abc

from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import (adam, discriminator_loss, from_tanh_range, generator_loss, optimizer_step,
                                           prior_noise, to_tanh_range)


class AdversarialGenerator(Generator):
    """Subclasses build the `generator` (z -> B x 1 x H x W in [-1, 1]) and the `discriminator` (image -> logit).

    With `ema_decay` > 0, samples come from an exponential moving average of the generator's weights
    (Yazici et al. 2019): the trained generator chases a moving discriminator and its latest weights carry
    that chase's noise (speckle, smeared strokes); their average is smoother. The average costs one
    parameter update per step and changes nothing in training.

    'loss' is the discriminator's: the one number that shows whether the game is still being played (it
    collapses towards 0 when the discriminator wins).
    """

    def __init__(self, config, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator()
        self.average_generator = (
            AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
            if config.ema_decay > 0 else None
        )

    @abc.abstractmethod
    def build_generator(self) -> nn.Module:
        """z (B x latent_dim) -> images in [-1, 1], B x 1 x H x W."""

    @abc.abstractmethod
    def build_discriminator(self) -> nn.Module:
        """Images in [-1, 1] -> one logit each (real vs generated)."""

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def configure_optimizers(self):
        # Two time-scales (Heusel et al. 2017): a discriminator that learns faster keeps its gradients useful.
        return {
            "generator": adam(self.generator, self.config.lr, self.config.beta1),
            "discriminator": adam(self.discriminator, self.config.lr * self.config.discriminator_lr_ratio,
                                  self.config.beta1),
        }

    def train_step(self, images, labels, optimizers):
        fake = self.generator(prior_noise(len(images), self.latent_dim, images.device, None))
        critic = discriminator_loss(
            self.discriminator(to_tanh_range(images)), self.discriminator(fake.detach()), self.config.real_label
        )
        optimizer_step(optimizers["discriminator"], critic)
        fooling = generator_loss(self.discriminator(fake))
        optimizer_step(optimizers["generator"], fooling)
        if self.average_generator is not None:
            self.average_generator.update_parameters(self.generator)
        return {"loss": critic.detach(), "discriminator": critic.detach(), "generator": fooling.detach()}

    def decode(self, codes):
        generator = self.generator if self.average_generator is None else self.average_generator.module
        return from_tanh_range(generator(codes))

    def sample(self, n, generator=None):
        return self.decode(prior_noise(n, self.latent_dim, self.device, generator))
