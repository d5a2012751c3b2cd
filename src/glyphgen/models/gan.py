"""`gan` (MLP, Goodfellow et al. 2014) and `dcgan` (convolutional, Radford et al. 2015).

Both share one adversarial step: the discriminator learns real from generated images, then the generator
learns to fool it. Networks work in [-1, 1] (tanh); discriminators return logits.
"""

from __future__ import annotations

from dataclasses import dataclass
import abc
from typing import Literal

from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.nn.utils import parametrize

from glyphgen.errors import GlyphgenError

from glyphgen.models.base import Generator
from glyphgen.models.blocks import (adam, conv_transpose, discriminator_loss, flat_size, from_tanh_range,
                                    generator_loss, halvings_to, mlp, optimizer_step, prior_noise, same_padding,
                                    to_tanh_range)


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


@dataclass
class GANConfig:
    latent_dim: int = 100
    hidden: tuple[int, ...] = (256, 512)  # generator widths; the discriminator uses them reversed
    batch_norm: bool = True  # in the generator's hidden layers
    activation_slope: float = 0.2
    dropout: float = 0.3  # in the discriminator
    real_label: float = 0.9
    lr: float = 3e-4  # the generator's; the discriminator's is lr x discriminator_lr_ratio
    discriminator_lr_ratio: float = 1.0
    beta1: float = 0.5
    ema_decay: float = 0.995  # 0 = sample from the trained generator, not an average
    batch_size: int = 64


class GAN(AdversarialGenerator):
    """Generator z -> hidden widths (BatchNorm + LeakyReLU) -> pixels (tanh); discriminator pixels -> reversed widths
    (LeakyReLU + dropout) -> 1 logit.

    Default vs reference (one 128 layer, LeakyReLU 0.01, lr 1e-3, batch 128): two layers 256-512 (mirrored in
    the discriminator) with BatchNorm in the generator, LeakyReLU 0.2, dropout 0.3 in the discriminator,
    one-sided label smoothing (real 0.9), Adam lr 3e-4 beta1 0.5, batch 64, and samples drawn from an average
    of the generator's weights (ema_decay 0.995). Measured by eye on KMNIST at about 60 s of CPU: batch 32 at
    lr 2e-4 (3750 steps) drew speckled, character-sized blots; averaging the weights turns the speckle into
    strokes; batch 64 at lr 3e-4 (2811 steps) then draws recognisable kana on black. Batch 128 (1872 steps),
    a 256-512-1024 generator, a discriminator twice as fast, or no dropout were all worse at equal time. On
    glyphs (64 x 64) params.yaml keeps batch 32, lr 2e-4 and no averaging: there the larger batch collapsed
    to O, I, 8 on grey and the average blurred the letters (B, R, E, O, I drawn without it).
    """

    name = "gan"
    config_class = GANConfig
    presets = {
        "default": GANConfig(),
        "reference": GANConfig(hidden=(128,), batch_norm=False, activation_slope=0.01, dropout=0.0, real_label=1.0,
                               lr=1e-3, beta1=0.9, ema_decay=0.0, batch_size=128),
    }

    def build_generator(self) -> nn.Module:
        config = self.config
        return nn.Sequential(
            mlp([config.latent_dim, *config.hidden, self.image_size**2], nn.LeakyReLU(config.activation_slope),
                nn.Tanh(), config.batch_norm),
            nn.Unflatten(1, self.image_shape),
        )

    def build_discriminator(self) -> nn.Module:
        config = self.config
        activation = nn.Sequential(nn.LeakyReLU(config.activation_slope), nn.Dropout(config.dropout))
        return nn.Sequential(nn.Flatten(), mlp([self.image_size**2, *reversed(config.hidden), 1], activation))


@dataclass
class DCGANConfig:
    latent_dim: int = 100
    # Generator: a dense projection to generator_channels[0] x s x s, then transposed convs through the
    # further widths and down to 1 channel (tanh); the first `upsamplings` of them double the side, from
    # s = S / 2^upsamplings. 0 = as many as keep s >= 7 (28: 7 x 7 after 2, 64: 8 x 8 after 3).
    generator_channels: tuple[int, ...] = (64, 32, 16)
    upsamplings: int = 0
    upsample: Literal["stride", "nearest"] = "stride"  # stride-2 transposed convs, or nearest upsampling + stride 1
    # Discriminator: one conv per entry with the given stride, then a dense logit.
    discriminator_channels: tuple[int, ...] = (16, 32, 64)
    discriminator_strides: tuple[int, ...] = (2, 2, 2)
    kernel_size: int = 4
    activation_slope: float = 0.2
    dropout: float = 0.0
    spectral_norm: bool = True
    dcgan_init: bool = True
    real_label: float = 0.9
    lr: float = 2e-4  # the generator's; the discriminator's is lr x discriminator_lr_ratio
    discriminator_lr_ratio: float = 1.0
    beta1: float = 0.5
    ema_decay: float = 0.995  # 0 = sample from the trained generator, not an average
    batch_size: int = 32


class DCGAN(AdversarialGenerator):
    """Convolutional GAN; the `reference` preset is the full recipe (5x5 kernels, 256-128-64-32 generator with
    upsampling, 64-128-256-512 discriminator, dropout 0.4, LeakyReLU 0.01).

    Default vs reference (the recipe runs at ~20 images/s on a 2-core CPU): stride-2 4x4 transposed convs
    from a 7x7 (28) or 8x8 (64) map, i.e. one more level at 64 rather than a wider 16x16 start, with a
    64-32-16 generator; a 16-32-64 stride-2 discriminator with spectral norm; LeakyReLU 0.2, no dropout,
    N(0, 0.02) init, label smoothing 0.9, Adam lr 2e-4 beta1 0.5, batch 32 (more updates per CPU second), and
    samples from an average of the generator's weights (ema_decay 0.995).
    Measured by eye on the sample grids: on KMNIST (1250 steps) the previous default (64-32 from 7x7, 32-64
    discriminator, lr 5e-4) and a 2-level discriminator drew speckle; 3 levels with spectral norm draw
    connected, character-like strokes. On glyphs the 3-level generator draws letter-sized blobs after 557
    steps; weight averaging and 834 steps give rough letters, and a discriminator at half the generator's
    rate (params.yaml sets discriminator_lr_ratio 0.5 for glyphs; on KMNIST it turned strokes into squiggles)
    with 1112 steps draws bold B, H, F, T, Y, L, C.
    """

    name = "dcgan"
    config_class = DCGANConfig
    presets = {
        "default": DCGANConfig(),
        "reference": DCGANConfig(
            generator_channels=(256, 128, 64, 32), upsamplings=2, upsample="nearest",
            discriminator_channels=(64, 128, 256, 512),
            discriminator_strides=(2, 2, 2, 1), kernel_size=5, activation_slope=0.01, dropout=0.4,
            spectral_norm=False, dcgan_init=False, real_label=1.0, lr=2e-4, discriminator_lr_ratio=1.0,
            ema_decay=0.0, batch_size=128,
        ),
    }

    def build_generator(self) -> nn.Module:
        config, image_size = self.config, self.image_size
        upsamplings = config.upsamplings or halvings_to(image_size, smallest=7)
        if len(config.generator_channels) < upsamplings or image_size % 2**upsamplings:
            raise GlyphgenError(f"generator_channels: expected at least {upsamplings} widths and an image side "
                                f"divisible by {2**upsamplings}, got {config.generator_channels} and {image_size}")
        side = image_size // 2**upsamplings
        first = config.generator_channels[0]
        layers: list[nn.Module] = [
            nn.Linear(config.latent_dim, first * side * side),  # z -> C0 x s x s
            nn.Unflatten(1, (first, side, side)),
            nn.BatchNorm2d(first),
            nn.LeakyReLU(config.activation_slope),
            nn.Dropout(config.dropout),
        ]
        widths = (*config.generator_channels, 1)
        for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
            stride = 2 if i < upsamplings else 1  # s -> 2s -> ... -> S
            if stride == 2 and config.upsample == "nearest":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                stride = 1
            # 'Same' padding at stride 1 needs an odd kernel, so an even one grows by 1 there (4 -> 5).
            kernel_size = config.kernel_size if stride == 2 else config.kernel_size | 1
            layers.append(conv_transpose(fan_in, fan_out, kernel_size, stride))
            if fan_out == 1:
                layers.append(nn.Tanh())
            else:
                layers += [nn.BatchNorm2d(fan_out), nn.LeakyReLU(config.activation_slope)]
        return self._initialised(nn.Sequential(*layers))

    def build_discriminator(self) -> nn.Module:
        config = self.config
        wrap = nn.utils.parametrizations.spectral_norm if config.spectral_norm else (lambda layer: layer)
        layers: list[nn.Module] = []
        for fan_in, fan_out, stride in zip((1, *config.discriminator_channels), config.discriminator_channels,
                                           config.discriminator_strides):
            conv = nn.Conv2d(fan_in, fan_out, config.kernel_size, stride, padding=same_padding(config.kernel_size))
            layers += [wrap(conv), nn.LeakyReLU(config.activation_slope), nn.Dropout(config.dropout)]
        features = nn.Sequential(*layers, nn.Flatten())  # C x S/2^k x S/2^k, flattened
        return self._initialised(nn.Sequential(features, wrap(nn.Linear(flat_size(features, self.image_shape), 1))))

    def _initialised(self, network: nn.Module) -> nn.Module:
        if self.config.dcgan_init:
            network.apply(_dcgan_init)
        return network


def _dcgan_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        # A spectrally normalised layer keeps its raw weight under parametrizations.weight.original.
        weight = module.parametrizations.weight.original if parametrize.is_parametrized(module) else module.weight
        nn.init.normal_(weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
