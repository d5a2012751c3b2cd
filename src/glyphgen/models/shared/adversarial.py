"""What every GAN shares (`gan`, `dcgan`, `wgan_gp`): one adversarial step. The discriminator learns real from
generated images, then the generator learns to fool it. Networks work in [-1, 1] (tanh); discriminators return
logits (a critic, scores).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from glyphgen.models.shared.balance import Balance, BalanceConfig
from glyphgen.models.shared.base import Generator
from glyphgen.models.shared.blocks import (adam, discriminator_accuracy, discriminator_loss, flat_size,
                                           from_tanh_range, generator_loss, optimizer_step, prior_noise,
                                           to_tanh_range)
from glyphgen.models.shared.diff_augment import Augmentation, diff_augment
from glyphgen.params import check_fraction, check_non_negative, check_positive


@dataclass
class AdversarialConfig:
    """The knobs of the game every GAN shares; each model's config adds its networks' shape."""
    latent_dim: int = 100
    lr: float = 2e-4  # the generator's; the discriminator's is lr x discriminator_lr_ratio
    discriminator_lr_ratio: float = 1.0
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.995  # 0 = sample from the trained generator, not an average
    batch_size: int = 32
    # bce: the non-saturating GAN with one-sided label smoothing (real_label); hinge: SNGAN's margin loss.
    loss: Literal["bce", "hinge"] = "bce"
    real_label: float = 0.9
    spectral_norm: bool = False  # on every discriminator layer (Miyato et al. 2018)
    augment: tuple[Augmentation, ...] = ()  # DiffAugment on what the discriminator sees (diff_augment.py)
    # Class control: the generator reads the class beside z, the discriminator projects it on its features.
    conditional: bool = False
    # With `conditional`: the discriminator also names the class of real images, and the generator is rewarded
    # when it names the asked class in a fake (AC-GAN's auxiliary classifier, Odena et al. 2017); 0 = off.
    class_loss_weight: float = 0.0
    balance: BalanceConfig = field(default_factory=BalanceConfig)  # extra generator steps while D is ahead

    def __post_init__(self) -> None:
        check_positive(self, "latent_dim", "lr", "discriminator_lr_ratio", "batch_size", "real_label")
        check_fraction(self, "beta1", "beta2", "ema_decay")
        check_non_negative(self, "class_loss_weight")


class ClassBatchNorm(nn.Module):
    """BatchNorm with a learnt scale and shift per class (conditional batch norm, de Vries et al. 2017), so the class
    steers every layer of the generator, not only its input."""

    def __init__(self, norm: nn.modules.batchnorm._BatchNorm, num_classes: int) -> None:
        super().__init__()
        self.norm = type(norm)(norm.num_features, eps=norm.eps, momentum=norm.momentum, affine=False)
        self.scale = nn.Embedding(num_classes, norm.num_features)
        self.shift = nn.Embedding(num_classes, norm.num_features)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)
        self.labels: torch.Tensor | None = None  # set by ClassConditioned before each forward pass

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = (len(inputs), -1) + (1,) * (inputs.dim() - 2)
        return self.norm(inputs) * self.scale(self.labels).view(shape) + self.shift(self.labels).view(shape)


class ClassConditioned(nn.Module):
    """A generator body fed z beside the class as a one-hot vector (its first layer adds a learnt vector per class),
    with every BatchNorm of the body made a ClassBatchNorm that reads the same class."""

    def __init__(self, body: nn.Module, num_classes: int) -> None:
        super().__init__()
        for module in list(body.modules()):
            for child_name, child in list(module.named_children()):
                if isinstance(child, nn.modules.batchnorm._BatchNorm):
                    setattr(module, child_name, ClassBatchNorm(child, num_classes))
        self.body, self.num_classes = body, num_classes

    def forward(self, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        for module in self.body.modules():
            if isinstance(module, ClassBatchNorm):
                module.labels = labels
        return self.body(torch.cat([codes, F.one_hot(labels, self.num_classes).to(codes.dtype)], dim=1))


class Discriminator(nn.Module):
    """Images -> `features` -> one logit; with classes, plus the inner product of the features with the class's
    embedding (the projection discriminator, Miyato & Koyama 2018), so the logit also says whether the image looks
    like its class. Without a label the projection is left out: the verdict on the image alone. With
    `class_head`, the same features also give class logits (`judge`)."""

    def __init__(self, features: nn.Module, image_shape: tuple[int, int, int], num_classes: int,
                 spectral_norm: bool, class_head: bool = False) -> None:
        super().__init__()
        width = flat_size(features, image_shape)
        self.features = features
        self.score = nn.Linear(width, 1)
        self.projection = nn.Embedding(num_classes, width) if num_classes else None
        self.classifier = nn.Linear(width, num_classes) if class_head else None
        if spectral_norm:  # every weighted layer, the class embedding too
            for layer in self.modules():
                if isinstance(layer, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.judge(images, labels)[0]

    def judge(self, images: torch.Tensor, labels: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The logit, and the class logits when there is a class head, from one pass through the features."""
        features = self.features(images)
        score = self.score(features)
        if self.projection is not None and labels is not None:
            score = score + (self.projection(labels) * features).sum(dim=1, keepdim=True)
        return score, None if self.classifier is None else self.classifier(features)


def hinge_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Real logits pushed above 1 and generated ones below -1; beyond the margin a sample teaches nothing, so the
    discriminator spends its steps on the images it still gets wrong."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


class AdversarialGenerator(Generator):
    """Subclasses build the generator's body (input_dim -> B x 1 x H x W in [-1, 1]) and the discriminator's
    features (image -> B x F); this class adds the discriminator's score (and class projection), the class input
    of a conditional generator, the weight average and the step. A different game (WGAN's critic) overrides the
    objectives and `critic_steps`.

    With `ema_decay` > 0, samples come from an exponential moving average of the generator's weights
    (Yazici et al. 2019): the trained generator chases a moving discriminator and its latest weights carry
    that chase's noise (speckle, smeared strokes); their average is smoother. The average costs one
    parameter update per step and changes nothing in training.

    With `augment`, the discriminator sees every real and generated image through DiffAugment, in its own step
    and in the generator's. With `conditional`, fakes are drawn in the real batch's classes, and `sample` draws
    the classes uniformly, so the model is judged as an unconditional sampler too.

    Each batch trains the discriminator once; the generator trains on every `critic_steps`-th batch, for as many
    steps as the balance (`config.balance`, see balance.py) gives it. Logged besides the losses: the
    discriminator's accuracy on real and generated images and `generator_steps`, the generator steps per batch
    (1 unless the balance or the critic's schedule changed it).

    'loss' is the discriminator's: the one number that shows whether the game is still being played (it
    collapses towards 0 when the discriminator wins).
    """

    critic_steps = 1  # discriminator steps (batches) per generator turn

    def __init__(self, config: AdversarialConfig, image_size: int, num_classes: int) -> None:
        super().__init__(config, image_size, num_classes)
        self.conditional = config.conditional  # the class-level flag of the Generator protocol, per instance here
        classes = num_classes if config.conditional else 0
        body = self.build_generator(config.latent_dim + classes)
        self.generator = ClassConditioned(body, num_classes) if config.conditional else body
        self.discriminator = self.initialised(Discriminator(
            self.build_discriminator(), self.image_shape, classes, config.spectral_norm,
            class_head=config.conditional and config.class_loss_weight > 0))
        self.average_generator = (
            AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
            if config.ema_decay > 0 else None
        )
        self.balance = Balance(config.balance)
        self.batches_trained = 0  # a host-side count, so the schedule never reads the device
        self.last_generator_loss: torch.Tensor | None = None

    @abc.abstractmethod
    def build_generator(self, input_dim: int) -> nn.Module:
        """Codes (B x input_dim: z, and the one-hot class when conditional) -> images in [-1, 1], B x 1 x H x W."""

    @abc.abstractmethod
    def build_discriminator(self) -> nn.Module:
        """Images in [-1, 1] -> B x F features, which the discriminator's score (and class projection) reads."""

    def initialised(self, network: nn.Module) -> nn.Module:
        """A hook for the conv GANs' DCGAN initialisation; PyTorch's own by default."""
        return network

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def categories(self) -> int:
        """The classes a conditional generator draws (the rows of classes.png)."""
        return self.num_classes

    styles = None  # no per-class mixture of codes: every class is drawn from the same N(0, I)

    @property
    def style_dim(self) -> int:
        return self.config.latent_dim

    def configure_optimizers(self):
        # Two time-scales (Heusel et al. 2017): a discriminator that learns faster keeps its gradients useful.
        return {
            "generator": adam(self.generator, self.config.lr, self.config.beta1, self.config.beta2),
            "discriminator": adam(self.discriminator, self.config.lr * self.config.discriminator_lr_ratio,
                                  self.config.beta1, self.config.beta2),
        }

    # --- The game: the non-saturating GAN's or the hinge; wgan_gp overrides these ----------------------

    def discriminator_objective(self, real_scores, fake_scores, real, fake, critic) -> tuple[torch.Tensor, dict]:
        """The discriminator's loss on one batch, and any extra terms to log. `critic(images)` scores images
        as the discriminator sees this batch (augmented, in its classes), for penalties between real and fake."""
        if self.config.loss == "hinge":
            return hinge_discriminator_loss(real_scores, fake_scores), {}
        return discriminator_loss(real_scores, fake_scores, self.config.real_label), {}

    def generator_objective(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean() if self.config.loss == "hinge" else generator_loss(fake_scores)

    def accuracy(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> dict[str, torch.Tensor]:
        return discriminator_accuracy(real_scores, fake_scores)

    def realness(self, scores: torch.Tensor) -> torch.Tensor:
        """What the discriminator's eye panel prints over each image: the probability of being real."""
        return torch.sigmoid(scores)

    realness_label = "P(real)"

    # -------------------------------------------------------------------------------------------------

    def generate(self, network: nn.Module, codes: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return network(codes, labels) if self.config.conditional else network(codes)

    def train_step(self, images, labels, optimizers):
        generator_steps = self.balance.generator_steps if self.batches_trained % self.critic_steps == 0 else 0
        self.batches_trained += 1
        labels = labels.long() if self.config.conditional else None
        real = to_tanh_range(images)

        def critic(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:  # as it sees this batch
            return self.discriminator.judge(diff_augment(batch, self.config.augment), labels)

        def class_loss(class_logits: torch.Tensor | None) -> torch.Tensor | float:
            return 0.0 if class_logits is None else F.cross_entropy(class_logits, labels)

        def fresh_fakes() -> torch.Tensor:
            return self.generate(self.generator, prior_noise(len(images), self.latent_dim, images.device, None),
                                 labels)

        with torch.set_grad_enabled(generator_steps > 0):  # no generator turn: its graph would go unused
            fake = fresh_fakes()
        (real_scores, real_classes), (fake_scores, _) = critic(real), critic(fake.detach())
        loss, extras = self.discriminator_objective(real_scores, fake_scores, real, fake.detach(),
                                                    lambda batch: critic(batch)[0])
        if real_classes is not None:
            extras["class_loss"] = class_loss(real_classes)
            loss = loss + self.config.class_loss_weight * extras["class_loss"]
            extras["class_loss"] = extras["class_loss"].detach()
        optimizer_step(optimizers["discriminator"], loss)
        for step in range(generator_steps):
            if step > 0:  # an extra step of the balance: fresh noise
                fake = fresh_fakes()
            scores, classes = critic(fake)
            fooling = self.generator_objective(scores) + self.config.class_loss_weight * class_loss(classes)
            optimizer_step(optimizers["generator"], fooling)
            if self.average_generator is not None:
                self.average_generator.update_parameters(self.generator)
            self.last_generator_loss = fooling.detach()
        # Between the critic's generator turns the latest generator loss is logged again (zero before the first).
        fooling = loss.new_zeros(()) if self.last_generator_loss is None else self.last_generator_loss
        return {"loss": loss.detach(), "discriminator": loss.detach(), "generator": fooling, **extras,
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
        """The discriminator's verdict (`realness`) on images in [0, 1], one number each (without a class: the
        image alone)."""
        return self.realness(self.discriminator(to_tanh_range(images)).flatten())

    @property
    def sampling_generator(self) -> nn.Module:
        return self.generator if self.average_generator is None else self.average_generator.module

    def decode(self, codes):
        if self.config.conditional:
            raise NotImplementedError(f"{self.name}: a conditional generator needs the class (decode_categories)")
        return from_tanh_range(self.sampling_generator(codes))

    def decode_categories(self, codes: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        """Images of `categories` from codes z (a conditional model), wherever the codes and classes were drawn."""
        return from_tanh_range(self.sampling_generator(codes.to(self.device), categories.to(self.device)))

    def sample_categories(self, categories: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One image of each class in `categories` (a conditional model)."""
        return self.decode_categories(prior_noise(len(categories), self.latent_dim, self.device, generator),
                                      categories.to(self.device))

    def sample(self, n, generator=None):
        if not self.config.conditional:
            return self.decode(prior_noise(n, self.latent_dim, self.device, generator))
        draw_on = self.device if generator is None else generator.device
        return self.sample_categories(torch.randint(self.num_classes, (n,), device=draw_on, generator=generator),
                                      generator)
