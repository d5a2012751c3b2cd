"""What every GAN shares (`gan`, `dcgan`, `wgan_gp`): one adversarial step. The discriminator learns real from
generated images, then the generator learns to fool it. Networks work in [-1, 1] (tanh); discriminators return
logits (a critic, scores).
"""

from __future__ import annotations

import abc
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from glyphgen.models.shared.balance import Balance
from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import (adam, discriminator_accuracy, discriminator_loss, from_tanh_range,
                                           generator_loss, optimizer_step, prior_noise, to_tanh_range)


class AdversarialGenerator(Generator):
    """Subclasses build the `generator` (z -> B x 1 x H x W in [-1, 1]) and the `discriminator` (image -> logit);
    a different game (WGAN's critic) overrides the objectives and `critic_steps`.

    With `ema_decay` > 0, samples come from an exponential moving average of the generator's weights
    (Yazici et al. 2019): the trained generator chases a moving discriminator and its latest weights carry
    that chase's noise (speckle, smeared strokes); their average is smoother. The average costs one
    parameter update per step and changes nothing in training.

    Each batch trains the discriminator once; the generator trains on every `critic_steps`-th batch, for as many
    steps as the balance (`config.balance`, see balance.py) gives it. Logged besides the losses: the
    discriminator's accuracy on real and generated images and `generator_steps`, the generator steps per batch
    (1 unless the balance or the critic's schedule changed it).

    'loss' is the discriminator's: the one number that shows whether the game is still being played (it
    collapses towards 0 when the discriminator wins).
    """

    critic_steps = 1  # discriminator steps (batches) per generator turn

    def __init__(self, config, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator()
        self.average_generator = (
            AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
            if config.ema_decay > 0 else None
        )
        self.balance = Balance(config.balance)
        self.batches_trained = 0  # a host-side count, so the schedule never reads the device
        self.last_generator_loss: torch.Tensor | None = None

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
            "generator": adam(self.generator, self.config.lr, self.config.beta1, self.config.beta2),
            "discriminator": adam(self.discriminator, self.config.lr * self.config.discriminator_lr_ratio,
                                  self.config.beta1, self.config.beta2),
        }

    # --- The game: the non-saturating GAN's; wgan_gp overrides these ---------------------------------

    def discriminator_objective(self, real_scores, fake_scores, real, fake) -> tuple[torch.Tensor, dict]:
        """The discriminator's loss on one batch, and any extra terms to log."""
        return discriminator_loss(real_scores, fake_scores, self.config.real_label), {}

    def generator_objective(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return generator_loss(fake_scores)

    def accuracy(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> dict[str, torch.Tensor]:
        return discriminator_accuracy(real_scores, fake_scores)

    def realness(self, scores: torch.Tensor) -> torch.Tensor:
        """What the discriminator's eye panel prints over each image: the probability of being real."""
        return torch.sigmoid(scores)

    realness_label = "P(real)"

    # -------------------------------------------------------------------------------------------------

    def train_step(self, images, labels, optimizers):
        generator_steps = self.balance.generator_steps if self.batches_trained % self.critic_steps == 0 else 0
        self.batches_trained += 1
        real = to_tanh_range(images)
        with torch.set_grad_enabled(generator_steps > 0):  # no generator turn: its graph would go unused
            fake = self.generator(prior_noise(len(images), self.latent_dim, images.device, None))
        real_scores, fake_scores = self.discriminator(real), self.discriminator(fake.detach())
        critic, extras = self.discriminator_objective(real_scores, fake_scores, real, fake.detach())
        optimizer_step(optimizers["discriminator"], critic)
        for step in range(generator_steps):
            if step > 0:  # an extra step of the balance: fresh noise
                fake = self.generator(prior_noise(len(images), self.latent_dim, images.device, None))
            fooling = self.generator_objective(self.discriminator(fake))
            optimizer_step(optimizers["generator"], fooling)
            if self.average_generator is not None:
                self.average_generator.update_parameters(self.generator)
            self.last_generator_loss = fooling.detach()
        # Between the critic's generator turns the latest generator loss is logged again (zero before the first).
        fooling = critic.new_zeros(()) if self.last_generator_loss is None else self.last_generator_loss
        return {"loss": critic.detach(), "discriminator": critic.detach(), "generator": fooling, **extras,
                **self.accuracy(real_scores, fake_scores),
                # A fill on the device, not a copy from the host: no sync.
                "generator_steps": real.new_full((), generator_steps, dtype=torch.float32)}

    def observe_losses(self, losses: dict[str, float]) -> None:
        if "d_accuracy_real" in losses:
            self.balance.observe((losses["d_accuracy_real"] + losses["d_accuracy_fake"]) / 2)

    # The schedule's state travels with the weights (as a CPU tensor, like every other entry of a state dict, and
    # never on the device, so reading it costs no sync), so a resumed run continues it exactly.
    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor([self.batches_trained, int(self.balance.discriminator_ahead)])

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.batches_trained, ahead = state.tolist()
        self.balance.discriminator_ahead = bool(ahead)

    @torch.no_grad()
    def verdicts(self, images: torch.Tensor) -> torch.Tensor:
        """The discriminator's verdict (`realness`) on images in [0, 1], one number each."""
        return self.realness(self.discriminator(to_tanh_range(images)).flatten())

    def decode(self, codes):
        generator = self.generator if self.average_generator is None else self.average_generator.module
        return from_tanh_range(generator(codes))

    def sample(self, n, generator=None):
        return self.decode(prior_noise(n, self.latent_dim, self.device, generator))
